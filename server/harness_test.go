package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/fsstore"
)

const (
	testAK     = "AKIDDELTAGLIDERTEST"
	testSK     = "deltaglider/test+secret"
	testRegion = "us-east-1"
)

// harness is a real server on 127.0.0.1:0 over the embedded filesystem
// store in a temporary directory, with an aws-sdk-go-v2 client.
type harness struct {
	t      *testing.T
	url    string
	dir    string // the store's directory
	srv    *Server
	cli    *s3.Client
	offset atomic.Int64 // server clock offset, ns
	fs     *fsstore.Store
}

func newHarness(t testing.TB, opts ...func(*Config)) *harness {
	t.Helper()
	h := &harness{dir: t.TempDir()}
	if tt, ok := t.(*testing.T); ok {
		h.t = tt
	}
	st, err := fsstore.New(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	h.fs = st
	cache, err := delta.NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := delta.New(st, delta.WithCache(cache), delta.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dc.ReleaseSources)
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("SERVE_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := Config{Client: dc, Credentials: map[string]string{testAK: testSK},
		SpoolDir: t.TempDir(), Logger: logger,
		Now: func() time.Time { return time.Now().Add(time.Duration(h.offset.Load())) }}
	for _, o := range opts {
		o(&cfg)
	}
	h.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln, "", "") }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		h.srv.Close()
		st.Close()
	})
	h.cli = h.client(testAK, testSK)
	return h
}

func (h *harness) client(ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(ak, sk, ""),
		BaseEndpoint: aws.String(h.url),
		UsePathStyle: true,
		Retryer:      aws.NopRetryer{},
	})
}

// mkBucket creates a bucket through the API.
func (h *harness) mkBucket(t testing.TB, name string) {
	t.Helper()
	if _, err := h.cli.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

// rawRequest sends a request built by hand, SigV4-signed with key/secret
// unless sign is false. path is sent as given (already escaped).
func (h *harness) rawRequest(t testing.TB, method, path string, body []byte, hdr map[string]string, sign bool) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if sign {
		sum := sha256.Sum256(body)
		ph := hex.EncodeToString(sum[:])
		if v := req.Header.Get("X-Amz-Content-Sha256"); v != "" {
			ph = v
		} else {
			req.Header.Set("X-Amz-Content-Sha256", ph)
		}
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK}
		if err := signer.SignHTTP(context.Background(), creds, req, ph, "s3", testRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// storedFiles lists the files (path and size) under the store directory.
func (h *harness) storedFiles(t testing.TB) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(h.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(h.dir, p)
		out = append(out, rel+" "+strconv.FormatInt(info.Size(), 10))
		return nil
	})
	slices.Sort(out)
	return out
}

// storedBytes sums the sizes of the files under the store directory.
func (h *harness) storedBytes(t testing.TB) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(h.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// errorCode returns the S3 error code of an SDK error ("" if none).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// storageHeader reads x-deltaglider-storage from an SDK result.
func storageHeader(md middleware.Metadata) string {
	if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return raw.Header.Get(StorageHeader)
	}
	return ""
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// version derives a "next release" of base: a few edits in place.
func version(base []byte, i int) []byte {
	v := bytes.Clone(base)
	r := mrand.New(mrand.NewPCG(uint64(i), 99))
	for range 8 {
		off := r.IntN(len(v) - 64)
		copy(v[off:], randomBytes(uint64(i*100+off), 32))
	}
	return v
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func ioNopCloser(r io.Reader) io.ReadCloser { return io.NopCloser(r) }

func readAll(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
