package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var codeRE = regexp.MustCompile(`<Code>([^<]*)</Code>`)

func xmlCode(body []byte) string {
	if m := codeRE.FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}

// expectNothingStored runs fn and fails if the store directory changed.
func expectNothingStored(t *testing.T, h *harness, what string, fn func()) {
	t.Helper()
	before := h.storedFiles(t)
	fn()
	if after := h.storedFiles(t); !slices.Equal(before, after) {
		t.Errorf("%s: the store changed:\nbefore %v\nafter  %v", what, before, after)
	}
}

// TestRejections sends bad requests: each gets its S3 error code and
// nothing is stored.
func TestRejections(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.mkBucket(t, "sec")
	base := randomBytes(11, 64<<10)
	put(t, h.cli, "sec", "p/seed.zip", base, nil)
	body := version(base, 1)

	sdkCases := []struct {
		name string
		cli  *s3.Client
		code string
	}{
		{"bad signature (wrong secret)", h.client(testAK, "not-the-secret"), "SignatureDoesNotMatch"},
		{"unknown access key", h.client("AKIDUNKNOWN", testSK), "InvalidAccessKeyId"},
	}
	for _, c := range sdkCases {
		expectNothingStored(t, h, c.name, func() {
			_, err := c.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sec"), Key: aws.String("p/x.zip"), Body: bytes.NewReader(body)})
			if got := errorCode(err); got != c.code {
				t.Errorf("%s: got %q (%v), want %s", c.name, got, err, c.code)
			}
		})
	}
	t.Run("clock skew", func(t *testing.T) {
		h.offset.Store(int64(time.Hour))
		defer h.offset.Store(0)
		expectNothingStored(t, h, "skew", func() {
			_, err := h.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sec"), Key: aws.String("p/x.zip"), Body: bytes.NewReader(body)})
			if got := errorCode(err); got != "RequestTimeTooSkewed" {
				t.Errorf("got %q (%v)", got, err)
			}
		})
	})

	type rawCase struct {
		name, method, path string
		hdr                map[string]string
		body               []byte
		sign               bool
		status             int
		code               string
	}
	big := strings.Repeat("x", 20<<10)
	cases := []rawCase{
		{"anonymous", "PUT", "/sec/p/anon.zip", nil, body, false, 403, "AccessDenied"},
		{"SigV2", "PUT", "/sec/p/v2.zip", map[string]string{"Authorization": "AWS " + testAK + ":abc"}, body, false, 400, "InvalidRequest"},
		{"traversal ..", "PUT", "/sec/p/../../etc/passwd", nil, body, true, 400, "InvalidArgument"},
		{"traversal encoded", "PUT", "/sec/p/%2E%2E/%2e%2e/x.zip", nil, body, true, 400, "InvalidArgument"},
		{"empty segment", "PUT", "/sec/p//x.zip", nil, body, true, 400, "InvalidArgument"},
		{"dot segment", "PUT", "/sec/./x.zip", nil, body, true, 400, "InvalidArgument"},
		{"NUL in key", "PUT", "/sec/p/a%00b", nil, body, true, 400, "InvalidArgument"},
		{"reserved reference.bin", "PUT", "/sec/p/reference.bin", nil, body, true, 400, "InvalidArgument"},
		{"reserved .delta", "PUT", "/sec/p/seed.zip.delta", nil, body, true, 400, "InvalidArgument"},
		{"reserved internal", "PUT", "/sec/.deltaglider/stats.json", nil, body, true, 400, "InvalidArgument"},
		{"reserved multipart reference.bin", "POST", "/sec/p/reference.bin?uploads", nil, nil, true, 400, "InvalidArgument"},
		{"reserved multipart .delta", "POST", "/sec/p/x.zip.delta?uploads", nil, nil, true, 400, "InvalidArgument"},
		{"reserved multipart internal", "POST", "/sec/.deltaglider/x?uploads", nil, nil, true, 400, "InvalidArgument"},
		{"copy source traversal", "PUT", "/sec/p/c.zip", map[string]string{"X-Amz-Copy-Source": "/sec/p/../seed.zip"}, nil, true, 400, "InvalidArgument"},
		{"key too long", "PUT", "/sec/" + strings.Repeat("k/", 520) + "x", nil, body, true, 400, "KeyTooLongError"},
		{"bad bucket name", "PUT", "/Bad_Bucket/x.zip", nil, body, true, 400, "InvalidBucketName"},
		{"missing bucket", "PUT", "/no-such-bucket/x.zip", nil, body, true, 404, "NoSuchBucket"},
		{"oversized headers", "PUT", "/sec/p/h.zip", map[string]string{"X-Filler": big}, body, true, 400, "RequestHeaderSectionTooLarge"},
		{"oversized metadata", "PUT", "/sec/p/m.zip", map[string]string{"X-Amz-Meta-A": big[:1500], "X-Amz-Meta-B": big[:1000]}, body, true, 400, "MetadataTooLarge"},
		{"reserved metadata", "PUT", "/sec/p/rm.zip", map[string]string{"X-Amz-Meta-Dg-File-Sha256": "00"}, body, true, 400, "InvalidArgument"},
		{"payload hash mismatch", "PUT", "/sec/p/ph.zip", map[string]string{"X-Amz-Content-Sha256": sha([]byte("other"))}, body, true, 400, "XAmzContentSHA256Mismatch"},
		{"Content-MD5 mismatch", "PUT", "/sec/p/md5.zip", map[string]string{"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}, body, true, 400, "BadDigest"},
		{"crc32 header mismatch", "PUT", "/sec/p/crc.zip", map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA=="}, body, true, 400, "BadDigest"},
		{"malformed XML DeleteObjects", "POST", "/sec?delete", nil, []byte("<Delete><Object><Key>p/seed.zip</Key>"), true, 400, "MalformedXML"},
		{"empty DeleteObjects", "POST", "/sec?delete", nil, []byte("<Delete></Delete>"), true, 400, "MalformedXML"},
		{"DeleteObjects of 1001 keys", "POST", "/sec?delete", nil, []byte("<Delete>" + strings.Repeat("<Object><Key>p/seed.zip</Key></Object>", 1001) + "</Delete>"), true, 400, "MalformedXML"},
		{"oversized XML body", "POST", "/sec?delete", nil, []byte("<Delete>" + strings.Repeat(" ", 2<<20) + "</Delete>"), true, 400, "MaxMessageLengthExceeded"},
		{"malformed XML CreateBucket", "PUT", "/newbucket", nil, []byte("<CreateBucketConfiguration><Loc"), true, 400, "MalformedXML"},
		{"unsupported sub-resource", "PUT", "/sec?acl", nil, nil, true, 501, "NotImplemented"},
		{"unknown upload", "PUT", "/sec/p/u.zip?partNumber=1&uploadId=" + strings.Repeat("ab", 16), nil, body, true, 404, "NoSuchUpload"},
		{"upload id traversal", "PUT", "/sec/p/u.zip?partNumber=1&uploadId=..%2F..%2Fx", nil, body, true, 404, "NoSuchUpload"},
		{"bad part number", "PUT", "/sec/p/u.zip?partNumber=0&uploadId=" + strings.Repeat("ab", 16), nil, body, true, 400, "InvalidArgument"},
		{"method not allowed", "POST", "/sec/p/x.zip", nil, nil, true, 405, "MethodNotAllowed"},
		{"malformed credential", "GET", "/sec", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1/s3, SignedHeaders=host, Signature=00"}, nil, false, 400, "AuthorizationHeaderMalformed"},
	}
	for _, c := range cases {
		expectNothingStored(t, h, c.name, func() {
			resp, data := h.rawRequest(t, c.method, c.path, c.body, c.hdr, c.sign)
			if resp.StatusCode != c.status || xmlCode(data) != c.code {
				t.Errorf("%s: %d %q, want %d %s\n%s", c.name, resp.StatusCode, xmlCode(data), c.status, c.code, firstBytes(data))
			}
			if resp.Header.Get("x-amz-request-id") == "" {
				t.Errorf("%s: no request id", c.name)
			}
		})
	}
	// Presigned PUTs: a good one stores (so the refusals below are the
	// signature's doing), an expired, a tampered, one signed with the
	// wrong secret, one for an unknown key and one dated in the future
	// store nothing.
	t.Run("presigned PUT", func(t *testing.T) {
		presign := func(cli *s3.Client, key string, expires time.Duration) string {
			t.Helper()
			req, err := s3.NewPresignClient(cli).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sec"), Key: aws.String(key)},
				s3.WithPresignExpires(expires))
			if err != nil {
				t.Fatal(err)
			}
			return strings.TrimPrefix(req.URL, h.url)
		}
		resp, data := h.rawRequest(t, "PUT", presign(h.cli, "p/presigned.zip", time.Minute), body, nil, false)
		if resp.StatusCode != 200 {
			t.Fatalf("valid presigned PUT: %d %s", resp.StatusCode, firstBytes(data))
		}
		if got, _ := getBody(t, h.cli, "sec", "p/presigned.zip", ""); !bytes.Equal(got, body) {
			t.Fatal("valid presigned PUT stored different bytes")
		}
		tampered := strings.Replace(presign(h.cli, "p/tp.zip", time.Minute), "/p/tp.zip", "/p/tq.zip", 1)
		future := presign(h.cli, "p/future.zip", time.Minute)
		expired := presign(h.cli, "p/expired.zip", time.Minute)
		for _, c := range []struct {
			name, path, code string
			offset           time.Duration
		}{
			{"tampered presigned PUT", tampered, "SignatureDoesNotMatch", 0},
			{"presigned PUT, wrong secret", presign(h.client(testAK, "not-the-secret"), "p/ws.zip", time.Minute), "SignatureDoesNotMatch", 0},
			{"presigned PUT, unknown access key", presign(h.client("AKIDUNKNOWN", testSK), "p/uk.zip", time.Minute), "InvalidAccessKeyId", 0},
			{"presigned PUT dated an hour ahead", future, "AccessDenied", -time.Hour},
			{"expired presigned PUT", expired, "AccessDenied", 2 * time.Minute},
		} {
			h.offset.Store(int64(c.offset))
			expectNothingStored(t, h, c.name, func() {
				resp, data := h.rawRequest(t, "PUT", c.path, body, nil, false)
				if resp.StatusCode != 403 || xmlCode(data) != c.code {
					t.Errorf("%s: %d %q, want 403 %s\n%s", c.name, resp.StatusCode, xmlCode(data), c.code, firstBytes(data))
				}
			})
			h.offset.Store(0)
		}
	})
	// Headers beyond the HTTP server's own limit (1 MiB) are refused by
	// net/http before the handler runs: 431, not an S3 document, and
	// nothing stored.
	expectNothingStored(t, h, "headers over 1 MiB", func() {
		resp, _ := h.rawRequest(t, "PUT", "/sec/p/huge.zip", body, map[string]string{"X-Filler": strings.Repeat("y", 1<<20+8<<10)}, true)
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("headers over 1 MiB: %d", resp.StatusCode)
		}
	})
	// Malformed CompleteMultipartUpload.
	cu, err := h.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sec"), Key: aws.String("p/mp.zip")})
	if err != nil {
		t.Fatal(err)
	}
	expectNothingStored(t, h, "malformed complete", func() {
		resp, data := h.rawRequest(t, "POST", "/sec/p/mp.zip?uploadId="+*cu.UploadId, []byte("<CompleteMultipartUpload><Part>"), nil, true)
		if resp.StatusCode != 400 || xmlCode(data) != "MalformedXML" {
			t.Errorf("malformed complete: %d %s", resp.StatusCode, data)
		}
	})
	// Internals are invisible to reads.
	for _, k := range []string{"p/reference.bin", "p/seed.zip.delta"} {
		resp, data := h.rawRequest(t, "GET", "/sec/"+k, nil, nil, true)
		if resp.StatusCode != 404 || xmlCode(data) != "NoSuchKey" {
			t.Errorf("GET %s: %d %s", k, resp.StatusCode, data)
		}
	}
	// HEAD errors carry no body.
	resp, data := h.rawRequest(t, "HEAD", "/sec/p/none.zip", nil, nil, true)
	if resp.StatusCode != 404 || len(data) != 0 {
		t.Errorf("HEAD missing: %d %q", resp.StatusCode, data)
	}
	// Health and metrics need no signature.
	resp, data = h.rawRequest(t, "GET", "/health", nil, nil, false)
	if resp.StatusCode != 200 || !strings.Contains(string(data), `"ok"`) {
		t.Errorf("/health: %d %s", resp.StatusCode, data)
	}
	resp, data = h.rawRequest(t, "GET", "/-/metrics", nil, nil, false)
	if resp.StatusCode != 200 || !strings.Contains(string(data), `deltaglider_http_requests_total{op="auth",code="403"}`) {
		t.Errorf("/-/metrics: %d %s", resp.StatusCode, data)
	}
}

// chunkedBody frames payload as aws-chunked. With key set it signs each
// chunk (and the trailer) in the chain seeded by seed; trailer lines (e.g.
// "x-amz-checksum-crc32:...") follow the last chunk when given.
func chunkedBody(payload []byte, chunk int, key []byte, amzDate, scope, seed string, trailer []string) []byte {
	var b bytes.Buffer
	prev := seed
	hm := func(s string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil))
	}
	emit := func(data []byte) {
		if key == nil {
			fmt.Fprintf(&b, "%x\r\n", len(data))
		} else {
			sum := sha256.Sum256(data)
			sig := hm("AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum[:]))
			fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(data), sig)
			prev = sig
		}
		b.Write(data)
		if len(data) > 0 || trailer == nil {
			b.WriteString("\r\n")
		}
	}
	for off := 0; off < len(payload); off += chunk {
		emit(payload[off:min(off+chunk, len(payload))])
	}
	emit(nil)
	if trailer != nil {
		canon := ""
		for _, t := range trailer {
			b.WriteString(t + "\r\n")
			canon += t + "\n"
		}
		if key != nil {
			sum := sha256.Sum256([]byte(canon))
			sig := hm("AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + hex.EncodeToString(sum[:]))
			b.WriteString("x-amz-trailer-signature:" + sig + "\r\n")
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func testSigningKey(date string) []byte {
	k := []byte("AWS4" + testSK)
	for _, s := range []string{date, testRegion, "s3", "aws4_request"} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(s))
		k = m.Sum(nil)
	}
	return k
}

// TestAWSChunked uploads aws-chunked bodies in the three streaming modes,
// and checks that a tampered chunk, a wrong trailer checksum and a wrong
// trailer signature store nothing.
func TestAWSChunked(t *testing.T) {
	h := newHarness(t)
	h.mkBucket(t, "chk")
	payload := randomBytes(21, 200<<10+123)
	crc := crc32.ChecksumIEEE(payload)
	crcB64 := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})

	// send signs the headers with payload hash mode, then frames the body
	// with the seed signature taken from the Authorization header.
	send := func(key, mode string, trailer []string, tamper func([]byte)) (*http.Response, []byte) {
		now := time.Now().UTC()
		amzDate := now.Format(amzDateFormat)
		req, _ := http.NewRequest("PUT", h.url+"/chk/"+key, nil)
		req.Header.Set("X-Amz-Date", amzDate)
		req.Header.Set("X-Amz-Content-Sha256", mode)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(payload)))
		if trailer != nil {
			req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		}
		scope := amzDate[:8] + "/" + testRegion + "/s3/aws4_request"
		skey := testSigningKey(amzDate[:8])
		frame := func(seed string) []byte {
			if mode == streamingUnsignedTrail {
				return chunkedBody(payload, 64<<10, nil, "", "", "", trailer)
			}
			return chunkedBody(payload, 64<<10, skey, amzDate, scope, seed, trailer)
		}
		// The headers are signed by aws-sdk-go-v2's signer, not by our
		// code; its signature seeds the chunk chain. The framed length
		// does not depend on the seed's value.
		req.ContentLength = int64(len(frame(strings.Repeat("0", 64))))
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK},
			req, mode, "s3", testRegion, now); err != nil {
			t.Fatal(err)
		}
		_, seed, ok := strings.Cut(req.Header.Get("Authorization"), "Signature=")
		if !ok || len(seed) != 64 {
			t.Fatalf("no signature in %q", req.Header.Get("Authorization"))
		}
		body := frame(seed)
		if tamper != nil {
			tamper(body)
		}
		req.Body = ioNopCloser(bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data := readAll(resp)
		return resp, data
	}
	good := []string{"x-amz-checksum-crc32:" + crcB64}
	for _, c := range []struct {
		mode    string
		trailer []string
	}{{streamingSigned, nil}, {streamingSignedTrailer, good}, {streamingUnsignedTrail, good}} {
		key := "ok/" + strings.ToLower(c.mode) + ".bin"
		resp, data := send(key, c.mode, c.trailer, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.mode, resp.StatusCode, data)
		}
		got, _ := getBody(t, h.cli, "chk", key, "")
		if !bytes.Equal(got, payload) {
			t.Errorf("%s: stored content differs", c.mode)
		}
	}
	bad := []string{"x-amz-checksum-crc32:AAAAAA=="}
	flip := func(b []byte) { b[len(b)/2] ^= 1 }
	for _, c := range []struct {
		name, mode string
		trailer    []string
		tamper     func([]byte)
		code       string
	}{
		{"tampered chunk", streamingSigned, nil, flip, "SignatureDoesNotMatch"},
		{"tampered chunk (trailer mode)", streamingSignedTrailer, good, flip, "SignatureDoesNotMatch"},
		{"wrong trailer checksum, signed", streamingSignedTrailer, bad, nil, "BadDigest"},
		{"wrong trailer checksum, unsigned", streamingUnsignedTrail, bad, nil, "BadDigest"},
		{"forged trailer", streamingSignedTrailer, good, func(b []byte) {
			i := bytes.Index(b, []byte("x-amz-checksum-crc32:"))
			b[i+len("x-amz-checksum-crc32:")] ^= 1
		}, "SignatureDoesNotMatch"},
	} {
		expectNothingStored(t, h, c.name, func() {
			resp, data := send("bad/x.bin", c.mode, c.trailer, c.tamper)
			if xmlCode(data) != c.code {
				t.Errorf("%s: %d %s, want %s", c.name, resp.StatusCode, firstBytes(data), c.code)
			}
		})
	}
}
