package s3store_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
)

// faultyProxy forwards requests to a real S3 server but answers the first
// attempt of every PUT and POST (PutObject, CreateMultipartUpload,
// UploadPart, CompleteMultipartUpload) with 503 SlowDown, after reading
// its body, as a throttling server would.
type faultyProxy struct {
	mu       sync.Mutex
	seen     map[string]int // attempts per method and URL
	failed   int
	requests int
}

func (p *faultyProxy) handler(target *url.URL) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Method + " " + r.URL.String()
		p.mu.Lock()
		p.requests++
		p.seen[id]++
		fail := (r.Method == http.MethodPut || r.Method == http.MethodPost) && p.seen[id] == 1
		if fail {
			p.failed++
		}
		p.mu.Unlock()
		if fail {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r) // the Host header is kept, so signatures still match
	})
}

// TestRetriesResendBodies: with a server that throttles the first attempt
// of every write, single-part and multipart Puts (known and unknown size)
// still store exactly their bodies: the retries re-send each body from
// its start.
func TestRetriesResendBodies(t *testing.T) {
	ep := endpoint(t)
	direct := newClientStore(t, ep)
	b := newBucket(t, direct)
	target, err := url.Parse(ep)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultyProxy{seen: map[string]int{}}
	ts := httptest.NewServer(p.handler(target))
	defer ts.Close()
	cfg := s3store.Config{Endpoint: ts.URL, Region: "us-east-1", UsePathStyle: true,
		AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey, MaxAttempts: 3, RetryMaxBackoff: 20 * time.Millisecond}
	s, client, err := s3store.NewFromConfig(t.Context(), cfg, s3store.WithPartSize(s3store.MinPartSize), s3store.WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		n    int
		size int64
	}{
		{"single", 100_000, 100_000},
		{"single-unknown", 100_000, store.SizeUnknown},
		{"multi", 2*s3store.MinPartSize + 777, 2*s3store.MinPartSize + 777},
		{"multi-unknown", 2*s3store.MinPartSize + 777, store.SizeUnknown},
	} {
		body := pattern(uint64(c.n)+uint64(len(c.key)), c.n)
		failedBefore := p.failed
		// An unseekable body: the store must keep what it re-sends.
		info, err := s.Put(t.Context(), b, c.key, struct{ io.Reader }{bytes.NewReader(body)}, store.PutOptions{Size: c.size})
		if err != nil {
			t.Fatalf("%s: Put through the throttling server: %v", c.key, err)
		}
		if info.Size != int64(c.n) {
			t.Errorf("%s: Put reported %d bytes, want %d", c.key, info.Size, c.n)
		}
		if p.failed == failedBefore {
			t.Fatalf("%s: the proxy refused no request; the test tests nothing", c.key)
		}
		if got := getAll(t, direct, b, c.key); !bytes.Equal(got, body) {
			t.Errorf("%s: stored %d bytes that differ from the %d sent", c.key, len(got), c.n)
		}
	}
	if pending := pendingUploadsOn(t, client, b); len(pending) != 0 {
		t.Errorf("multipart uploads left behind: %q", pending)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, n := range p.seen {
		if (strings.HasPrefix(id, "PUT ") || strings.HasPrefix(id, "POST ")) && n != 2 {
			t.Errorf("%s: %d attempts, want 2 (one refused, one retry)", id, n)
		}
	}
	t.Logf("%d requests, %d refused with 503 SlowDown and retried", p.requests, p.failed)
}
