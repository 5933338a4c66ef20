package s3store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/deltaglider-go/deltaglider/store"
)

// apiErr builds an error shaped like the SDK's: an operation error around
// a response error around the API error.
func apiErr(code string, status int) error {
	var inner error = &smithy.GenericAPIError{Code: code, Message: "msg"}
	if code == "" {
		inner = errors.New("http response without error code")
	}
	resp := &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      inner,
		},
		RequestID: "req",
	}
	return &smithy.OperationError{ServiceID: "S3", OperationName: "Op", Err: resp}
}

func TestMapError(t *testing.T) {
	cases := []struct {
		code   string
		status int
		want   error // nil: no portable kind
	}{
		{"NoSuchKey", 404, store.ErrNotExist},
		{"NotFound", 404, store.ErrNotExist},
		{"", 404, store.ErrNotExist}, // HEAD: no body, no code
		{"NoSuchBucket", 404, store.ErrBucketNotExist},
		{"PreconditionFailed", 412, store.ErrExist},
		{"", 412, store.ErrExist},
		{"ConditionalRequestConflict", 409, store.ErrExist},
		{"InvalidRange", 416, store.ErrInvalidRange},
		{"", 416, store.ErrInvalidRange},
		{"BucketAlreadyExists", 409, store.ErrBucketExist},
		{"BucketAlreadyOwnedByYou", 409, store.ErrBucketExist},
		{"BucketNotEmpty", 409, store.ErrBucketNotEmpty},
		{"InvalidBucketName", 400, store.ErrInvalidBucket},
		{"KeyTooLongError", 400, store.ErrInvalidKey},
		{"ObjectParentIsFile", 409, store.ErrInvalidKey},
		{"ExistingObjectIsDirectory", 409, store.ErrInvalidKey},
		{"NotImplemented", 501, store.ErrNotSupported},
		{"", 501, store.ErrNotSupported},
		{"AccessDenied", 403, nil},
		{"SlowDown", 503, nil},
		{"InternalError", 500, nil},
		{"OperationAborted", 409, nil}, // a 409 is not ErrExist by status alone
		{"", 400, nil},
	}
	portable := []error{store.ErrNotExist, store.ErrExist, store.ErrInvalidKey, store.ErrInvalidBucket,
		store.ErrBucketNotExist, store.ErrBucketExist, store.ErrBucketNotEmpty, store.ErrInvalidRange, store.ErrNotSupported}
	for _, c := range cases {
		native := apiErr(c.code, c.status)
		err := mapError("Get", "bkt", "some/key", native)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s/%d: %T is not *Error", c.code, c.status, err)
		}
		if e.Kind != c.want {
			t.Errorf("%s/%d: kind %v, want %v", c.code, c.status, e.Kind, c.want)
		}
		for _, p := range portable {
			if got := errors.Is(err, p); got != (p == c.want) {
				t.Errorf("%s/%d: errors.Is(err, %v) = %v", c.code, c.status, p, got)
			}
		}
		// The native error stays reachable.
		var ae smithy.APIError
		if c.code != "" && (!errors.As(err, &ae) || ae.ErrorCode() != c.code) {
			t.Errorf("%s/%d: native API error lost: %v", c.code, c.status, err)
		}
		if !errors.Is(err, native) {
			t.Errorf("%s/%d: errors.Is(err, native) = false", c.code, c.status)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "s3store: Get bkt/some/key: ") {
			t.Errorf("%s/%d: message %q", c.code, c.status, msg)
		}
	}
	// The request matters: bucket-level 404s and If-Match failures.
	for _, c := range []struct {
		op, bucket, key string
		code            string
		status          int
		want            error
	}{
		{"BucketExists", "b", "", "NotFound", 404, store.ErrBucketNotExist},
		{"DeleteBucket", "b", "", "", 404, store.ErrBucketNotExist},
		{"Stat", "b", "k", "NotFound", 404, store.ErrNotExist},
		{"Download", "b", "k", "PreconditionFailed", 412, store.ErrObjectChanged},
		{"Copy", "b", "k", "PreconditionFailed", 412, store.ErrObjectChanged},
		{"Put", "b", "k", "PreconditionFailed", 412, store.ErrExist},
	} {
		err := mapError(c.op, c.bucket, c.key, apiErr(c.code, c.status))
		if !errors.Is(err, c.want) {
			t.Errorf("%s %s/%s %s/%d: %v, want %v", c.op, c.bucket, c.key, c.code, c.status, err, c.want)
		}
	}
	if mapError("Get", "b", "k", nil) != nil {
		t.Error("mapError(nil) != nil")
	}
	// Context errors pass through (no portable kind, still errors.Is).
	err := mapError("Get", "b", "k", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: context.Canceled})
	if !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrNotExist) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestMetadataEncoding(t *testing.T) {
	cases := []struct {
		in      string
		encoded bool // must be sent encoded
	}{
		{"", false},
		{"plain ascii value", false},
		{"a=b; c, \"d\" (e) /f\\ %20 +", false},
		{"tab\tinside", true},
		{"héllo wörld ✓ 日本語 😀", true},
		{"=?UTF-8?B?aGVsbG8=?=", true}, // looks like an encoded word: must survive as given
		{"x =?iso-8859-1?q?a?= y", true},
		{strings.Repeat("é", 100), true},             // several words
		{strings.Repeat("a", 44) + "😀日本", true},      // rune straddling a word boundary
		{strings.Repeat("ab", 300) + "\u00ff", true}, // long
		{"\u007f", true},
	}
	for _, c := range cases {
		enc := encodeMetaValue(c.in)
		if got := enc != c.in; got != c.encoded {
			t.Errorf("encodeMetaValue(%q) = %q: encoded %v, want %v", c.in, enc, got, c.encoded)
		}
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 && enc[i] != '\t' || enc[i] >= 0x7f {
				t.Errorf("encodeMetaValue(%q) = %q: byte %#x cannot travel in a header", c.in, enc, enc[i])
				break
			}
		}
		if c.encoded {
			for _, w := range strings.Split(enc, " ") {
				if len(w) > 75 || !strings.HasPrefix(w, "=?UTF-8?B?") || !strings.HasSuffix(w, "?=") {
					t.Errorf("encodeMetaValue(%q): bad encoded word %q", c.in, w)
				}
			}
		}
		if dec := decodeMetaValue(enc); dec != c.in {
			t.Errorf("round trip of %q: encoded %q, decoded %q", c.in, enc, dec)
		}
	}
	// Values encoded by other clients (Q encoding, other charsets) decode;
	// broken encoded words are left alone.
	for in, want := range map[string]string{
		"=?utf-8?q?caf=C3=A9?=":             "café",
		"=?ISO-8859-1?Q?caf=E9?=":           "café",
		"=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=": "éé",
		"=?UTF-8?B?!!!?=":                   "=?UTF-8?B?!!!?=",
		"no words here":                     "no words here",
	} {
		if got := decodeMetaValue(in); got != want {
			t.Errorf("decodeMetaValue(%q) = %q, want %q", in, got, want)
		}
	}
	// The whole map: keys lower-cased, invalid metadata rejected.
	md, err := encodeMetadata(map[string]string{"Mixed-Case": "ü", "k": "v"})
	if err != nil || md["mixed-case"] != "=?UTF-8?B?w7w=?=" || md["k"] != "v" || len(md) != 2 {
		t.Errorf("encodeMetadata = %q, %v", md, err)
	}
	if _, err := encodeMetadata(map[string]string{"bad key": "v"}); !errors.Is(err, store.ErrInvalidMetadata) {
		t.Errorf("encodeMetadata(bad key): %v", err)
	}
	if got := decodeMetadata(map[string]string{"K": "=?UTF-8?B?w7w=?="}); got["k"] != "ü" {
		t.Errorf("decodeMetadata = %q", got)
	}
}

func FuzzMetadataValue(f *testing.F) {
	for _, s := range []string{"", "a", "ü", "=?", "=?UTF-8?B?w7w=?=", "a\tb", strings.Repeat("日", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return
		}
		enc := encodeMetaValue(v)
		if dec := decodeMetaValue(enc); dec != v {
			t.Fatalf("round trip of %q: encoded %q, decoded %q", v, enc, dec)
		}
	})
}

func TestChunker(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 29, 30, 31} {
		body := strings.Repeat("x", n)
		c := &chunker{r: strings.NewReader(body)}
		buf := make([]byte, 10)
		total, parts := 0, 0
		for {
			k, last, err := c.next(buf)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 && parts > 0 {
				t.Fatalf("n=%d: empty trailing part", n)
			}
			total += k
			parts++
			if last {
				break
			}
			if parts > 10 {
				t.Fatalf("n=%d: no last part", n)
			}
		}
		if total != n || c.n != int64(n) {
			t.Errorf("n=%d: chunked %d bytes (counted %d)", n, total, c.n)
		}
		if want := max(1, (n+9)/10); parts != want {
			t.Errorf("n=%d: %d parts, want %d", n, parts, want)
		}
	}
}

// listAPI serves canned ListObjectsV2 pages; the other API methods are
// not used by List.
type listAPI struct {
	API
	pages []*s3.ListObjectsV2Output
	calls []*s3.ListObjectsV2Input
}

func (l *listAPI) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	cp := *in
	l.calls = append(l.calls, &cp)
	p := l.pages[0]
	l.pages = l.pages[1:]
	return p, nil
}

// TestListDecoding: keys come URL-decoded when the server says it encoded
// them (AWS), and as they are when it ignored encoding-type (versitygw);
// objects and common prefixes of a page are merged in key order.
func TestListDecoding(t *testing.T) {
	obj := func(k string) types.Object {
		return types.Object{Key: aws.String(k), Size: aws.Int64(1), ETag: aws.String(`"e"`)}
	}
	pfx := func(p string) types.CommonPrefix { return types.CommonPrefix{Prefix: aws.String(p)} }
	api := &listAPI{pages: []*s3.ListObjectsV2Output{{
		EncodingType:          types.EncodingTypeUrl,
		Contents:              []types.Object{obj("a+b%2Bc"), obj("ctl%01x"), obj("z%C3%BC")},
		CommonPrefixes:        []types.CommonPrefix{pfx("d%2F+x/")},
		IsTruncated:           aws.Bool(true),
		NextContinuationToken: aws.String("t1"),
	}, {
		Contents: []types.Object{obj("zü+plus%25")}, // not encoded
	}}}
	s, err := New(api)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.List(t.Context(), "bkt", store.ListOptions{Delimiter: "/"}, func(e store.Entry) error {
		got = append(got, fmt.Sprintf("%s|%v|%s", e.Key, e.IsPrefix, e.ETag))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a b+c|false|e", "ctl\x01x|false|e", "d/ x/|true|", "zü|false|e", "zü+plus%25|false|e"}
	if !slices.Equal(got, want) {
		t.Errorf("List:\n got %q\nwant %q", got, want)
	}
	if len(api.calls) != 2 || api.calls[0].EncodingType != types.EncodingTypeUrl || aws.ToString(api.calls[1].ContinuationToken) != "t1" {
		t.Errorf("requests: %+v", api.calls)
	}
}
