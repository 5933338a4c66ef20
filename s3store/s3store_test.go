package s3store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
)

// newRaw returns a Store and the *s3.Client behind it, on the shared server.
func newRaw(t *testing.T, opts ...s3store.Option) (*s3store.Store, *s3.Client) {
	t.Helper()
	ep := endpoint(t)
	cfg := s3store.Config{Endpoint: ep, Region: "us-east-1", UsePathStyle: true}
	if ep != os.Getenv("DELTAGLIDER_S3_ENDPOINT") || os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		cfg.AccessKeyID, cfg.SecretAccessKey = testAccessKey, testSecretKey
	}
	s, c, err := s3store.NewFromConfig(t.Context(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// pendingUploads lists the multipart uploads in progress in bucket.
func pendingUploads(t *testing.T, c *s3.Client, bucket string) []string {
	return pendingUploadsOn(t, c, bucket)
}

func pendingUploadsOn(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var ids []string
	for _, u := range out.Uploads {
		ids = append(ids, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return ids
}

// TestMetadataOnTheWire checks what is stored on the server: non-ASCII
// values as RFC 2047 words, plain ones unchanged, and that encoded words
// written by another client are decoded.
func TestMetadataOnTheWire(t *testing.T) {
	s, c := newRaw(t)
	b := newBucket(t, s)
	ctx := t.Context()
	md := map[string]string{"Plain": "just ascii", "accents": "héllo wörld", "emoji": strings.Repeat("😀", 20)}
	if _, err := s.Put(ctx, b, "k", strings.NewReader("x"), store.PutOptions{Size: 1, Metadata: md}); err != nil {
		t.Fatal(err)
	}
	raw, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if raw.Metadata["plain"] != "just ascii" {
		t.Errorf("plain value stored as %q", raw.Metadata["plain"])
	}
	for _, k := range []string{"accents", "emoji"} {
		if v := raw.Metadata[k]; !strings.HasPrefix(v, "=?UTF-8?B?") {
			t.Errorf("non-ASCII value %q stored as %q, want RFC 2047 words", k, v)
		}
	}
	info, err := s.Stat(ctx, b, "k")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"plain": "just ascii", "accents": "héllo wörld", "emoji": md["emoji"]}; !maps.Equal(info.Metadata, want) {
		t.Errorf("Stat metadata %q, want %q", info.Metadata, want)
	}
	// Written by another client (here: the raw SDK) in Q encoding.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("other"), Body: strings.NewReader(""),
		Metadata: map[string]string{"name": "=?utf-8?q?caf=C3=A9?="}}); err != nil {
		t.Fatal(err)
	}
	info, err = s.Stat(ctx, b, "other")
	if err != nil || info.Metadata["name"] != "café" {
		t.Errorf("Stat of foreign encoded word: %q, %v", info.Metadata, err)
	}
}

// TestMultipartConditionalRace: 8 concurrent conditional multipart Puts
// of one key; exactly one wins and no upload is left behind.
func TestMultipartConditionalRace(t *testing.T) {
	s, c := newRaw(t, s3store.WithPartSize(s3store.MinPartSize), s3store.WithConcurrency(1))
	b := newBucket(t, s)
	const writers = 8
	bodies := make([][]byte, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		bodies[w] = pattern(uint64(w), s3store.MinPartSize+1000*w+1)
		wg.Go(func() {
			<-start
			size := int64(len(bodies[w]))
			if w%2 == 1 {
				size = store.SizeUnknown
			}
			_, errs[w] = s.Put(t.Context(), b, "race", bytes.NewReader(bodies[w]), store.PutOptions{Size: size, IfNotExists: true})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for w, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("writers %d and %d both won", winner, w)
			}
			winner = w
		case !errors.Is(err, store.ErrExist):
			t.Errorf("writer %d: %v, want ErrExist", w, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	got := getAll(t, s, b, "race")
	if !bytes.Equal(got, bodies[winner]) {
		t.Errorf("stored %d bytes, not the winner's %d", len(got), len(bodies[winner]))
	}
	if p := pendingUploads(t, c, b); len(p) != 0 {
		t.Errorf("multipart uploads left behind: %q", p)
	}
}

func getAll(t *testing.T, s store.Store, bucket, key string) []byte {
	t.Helper()
	rc, _, err := s.Get(t.Context(), bucket, key, 0, -1)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return b
}

// gateReader yields size bytes of a pattern; after gate bytes it closes
// reached and waits for release (or fails with err if set).
type gateReader struct {
	patternReader
	gate    int64
	reached chan struct{}
	release chan struct{}
	err     error
	once    sync.Once
}

func (r *gateReader) Read(p []byte) (int, error) {
	if r.off >= r.gate {
		r.once.Do(func() { close(r.reached) })
		if r.err != nil {
			return 0, r.err
		}
		if r.release != nil {
			<-r.release
		}
	} else {
		p = p[:min(int64(len(p)), r.gate-r.off)]
	}
	return r.patternReader.Read(p)
}

// TestMultipartAbort: a multipart Put whose context is cancelled, or whose
// body fails, after some parts were uploaded leaves no object and no
// pending upload; an existing object is unchanged.
func TestMultipartAbort(t *testing.T) {
	s, c := newRaw(t, s3store.WithPartSize(s3store.MinPartSize), s3store.WithConcurrency(2))
	b := newBucket(t, s)
	if _, err := s.Put(t.Context(), b, "old", strings.NewReader("old"), store.PutOptions{Size: 3}); err != nil {
		t.Fatal(err)
	}
	const size = 6 * s3store.MinPartSize
	for _, key := range []string{"new", "old"} {
		for _, known := range []bool{true, false} {
			sz := int64(size)
			if !known {
				sz = store.SizeUnknown
			}
			// Cancelled after 3 parts were read.
			ctx, cancel := context.WithCancel(t.Context())
			r := &gateReader{patternReader: patternReader{seed: 1, size: size}, gate: 3 * s3store.MinPartSize,
				reached: make(chan struct{}), release: make(chan struct{})}
			go func() { <-r.reached; cancel(); close(r.release) }()
			_, err := s.Put(ctx, b, key, r, store.PutOptions{Size: sz})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s known=%v: cancelled Put: %v", key, known, err)
			}
			// Body failing after 3 parts.
			boom := errors.New("boom")
			r = &gateReader{patternReader: patternReader{seed: 1, size: size}, gate: 3 * s3store.MinPartSize,
				reached: make(chan struct{}), err: boom}
			_, err = s.Put(t.Context(), b, key, r, store.PutOptions{Size: sz})
			if !errors.Is(err, boom) {
				t.Errorf("%s known=%v: Put with failing body: %v", key, known, err)
			}
			if key == "new" {
				if _, err := s.Stat(t.Context(), b, key); !errors.Is(err, store.ErrNotExist) {
					t.Errorf("after failed Puts, Stat(new): %v", err)
				}
			} else if got := getAll(t, s, b, key); string(got) != "old" {
				t.Errorf("after failed Puts, old holds %d bytes", len(got))
			}
		}
	}
	if p := pendingUploads(t, c, b); len(p) != 0 {
		t.Errorf("multipart uploads left behind: %q", p)
	}
}

// TestMultipartCopy exercises the UploadPartCopy path (used above 5 GiB)
// with lowered limits.
func TestMultipartCopy(t *testing.T) {
	defer s3store.SetCopyLimits(6<<20, s3store.MinPartSize)()
	s, _ := newRaw(t)
	b := newBucket(t, s)
	body := pattern(7, 2*s3store.MinPartSize+4321)
	md := map[string]string{"k": "vé"}
	if _, err := s.Put(t.Context(), b, "src", bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), Metadata: md, ContentType: "x/y"}); err != nil {
		t.Fatal(err)
	}
	info, err := s.Copy(t.Context(), b, "src", b, "dst", store.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(body)) || info.ETag == "" {
		t.Errorf("Copy info %+v", info)
	}
	if got := getAll(t, s, b, "dst"); !bytes.Equal(got, body) {
		t.Fatalf("multipart copy: %d bytes differ from the source", len(got))
	}
	st, err := s.Stat(t.Context(), b, "dst")
	if err != nil || !maps.Equal(st.Metadata, md) || st.ContentType != "x/y" {
		t.Errorf("multipart copy metadata %q %q, %v", st.Metadata, st.ContentType, err)
	}
	if _, err := s.Copy(t.Context(), b, "src", b, "dst2", store.CopyOptions{ReplaceMetadata: true, Metadata: map[string]string{"n": "1"}}); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stat(t.Context(), b, "dst2"); err != nil || !maps.Equal(st.Metadata, map[string]string{"n": "1"}) {
		t.Errorf("multipart copy with replaced metadata: %q, %v", st.Metadata, err)
	}
}

// memWriterAt is an io.WriterAt on a byte slice.
type memWriterAt struct {
	mu  sync.Mutex
	buf []byte
}

func (m *memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(m.buf)) {
		m.buf = append(m.buf, make([]byte, end-int64(len(m.buf)))...)
	}
	return copy(m.buf[off:], p), nil
}

func TestDownload(t *testing.T) {
	s, _ := newRaw(t, s3store.WithPartSize(s3store.MinPartSize), s3store.WithConcurrency(3))
	b := newBucket(t, s)
	for _, n := range []int{0, 1, s3store.MinPartSize, 4*s3store.MinPartSize + 77} {
		body := pattern(uint64(n), n)
		if _, err := s.Put(t.Context(), b, "d", bytes.NewReader(body), store.PutOptions{Size: int64(n)}); err != nil {
			t.Fatal(err)
		}
		var w memWriterAt
		info, err := s.Download(t.Context(), b, "d", &w)
		if err != nil {
			t.Fatalf("Download %d bytes: %v", n, err)
		}
		if info.Size != int64(n) || !bytes.Equal(w.buf, body) {
			t.Errorf("Download %d bytes: got %d bytes, info.Size %d", n, len(w.buf), info.Size)
		}
	}
	if _, err := s.Download(t.Context(), b, "missing", &memWriterAt{}); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Download missing: %v", err)
	}
}

// TestDownloadChanged: an object replaced during a Download makes it fail
// with ErrObjectChanged rather than mixing two versions.
func TestDownloadChanged(t *testing.T) {
	s, _ := newRaw(t, s3store.WithPartSize(s3store.MinPartSize), s3store.WithConcurrency(1))
	b := newBucket(t, s)
	n := 3 * s3store.MinPartSize
	if _, err := s.Put(t.Context(), b, "d", bytes.NewReader(pattern(1, n)), store.PutOptions{Size: int64(n)}); err != nil {
		t.Fatal(err)
	}
	w := &replacingWriter{replace: func() {
		if _, err := s.Put(t.Context(), b, "d", bytes.NewReader(pattern(2, n)), store.PutOptions{Size: int64(n)}); err != nil {
			t.Error(err)
		}
	}}
	_, err := s.Download(t.Context(), b, "d", w)
	if !errors.Is(err, store.ErrObjectChanged) {
		t.Errorf("Download of a replaced object: %v, want ErrObjectChanged", err)
	}
}

// replacingWriter calls replace once, on the first write.
type replacingWriter struct {
	memWriterAt
	once    sync.Once
	replace func()
}

func (w *replacingWriter) WriteAt(p []byte, off int64) (int, error) {
	w.once.Do(w.replace)
	return w.memWriterAt.WriteAt(p, off)
}

// TestRetries checks the retry policy of NewFromConfig's client against
// a server that fails on purpose: throttling and 5xx are retried up to
// MaxAttempts, 4xx are not.
func TestRetries(t *testing.T) {
	var calls atomic.Int32
	var status atomic.Int32
	var code atomic.Value
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(int(status.Load()))
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>test</Message></Error>`, code.Load())
	}))
	defer ts.Close()
	s, _, err := s3store.NewFromConfig(t.Context(), s3store.Config{
		Endpoint: ts.URL, Region: "us-east-1", UsePathStyle: true,
		AccessKeyID: "k", SecretAccessKey: "s", MaxAttempts: 3, RetryMaxBackoff: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		status   int
		code     string
		attempts int32
		kind     error
	}{
		{503, "SlowDown", 3, nil},
		{500, "InternalError", 3, nil},
		{429, "Throttling", 3, nil},
		{404, "NoSuchKey", 1, store.ErrNotExist},
		{403, "AccessDenied", 1, nil},
		{400, "InvalidArgument", 1, nil},
		{412, "PreconditionFailed", 1, store.ErrExist},
	} {
		calls.Store(0)
		status.Store(int32(c.status))
		code.Store(c.code)
		_, _, err := s.Get(t.Context(), "bucket", "key", 0, -1)
		if err == nil {
			t.Fatalf("%d %s: no error", c.status, c.code)
		}
		if n := calls.Load(); n != c.attempts {
			t.Errorf("%d %s: %d attempts, want %d (%v)", c.status, c.code, n, c.attempts, err)
		}
		if c.kind != nil && !errors.Is(err, c.kind) {
			t.Errorf("%d %s: %v, want %v", c.status, c.code, err, c.kind)
		}
	}
}

// hashReader hashes what it reads.
func hashOf(t *testing.T, r io.Reader) ([]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil), n
}

// TestMultipartConditionalLate: the key is created by someone else while a
// conditional multipart Put is uploading its parts (after its early
// existence check): completion fails with ErrExist, the other object
// stays, and the upload is aborted.
func TestMultipartConditionalLate(t *testing.T) {
	s, c := newRaw(t, s3store.WithPartSize(s3store.MinPartSize), s3store.WithConcurrency(1))
	b := newBucket(t, s)
	const size = 2*s3store.MinPartSize + 10
	body := &gateReader{patternReader: patternReader{seed: 3, size: size}, gate: s3store.MinPartSize + 1,
		reached: make(chan struct{}), release: make(chan struct{})}
	go func() {
		<-body.reached
		if _, err := s.Put(t.Context(), b, "late", strings.NewReader("winner"), store.PutOptions{Size: 6}); err != nil {
			t.Error(err)
		}
		close(body.release)
	}()
	_, err := s.Put(t.Context(), b, "late", body, store.PutOptions{Size: store.SizeUnknown, IfNotExists: true})
	if !errors.Is(err, store.ErrExist) {
		t.Fatalf("conditional multipart Put that lost the race: %v, want ErrExist", err)
	}
	if strings.Contains(err.Error(), "found before uploading") {
		t.Fatalf("the early check, not completion, refused the Put: %v", err)
	}
	if got := getAll(t, s, b, "late"); string(got) != "winner" {
		t.Errorf("object holds %d bytes, not the winner's", len(got))
	}
	if p := pendingUploads(t, c, b); len(p) != 0 {
		t.Errorf("multipart uploads left behind: %q", p)
	}
}
