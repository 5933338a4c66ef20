// Package storetest is the conformance suite for store.Store
// implementations. Every implementation (the in-memory store, fsstore,
// s3store) runs the same suite, so they all honour the contract written in
// the store.Store doc comments:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (store.Store, string) {
//			s := newMyStore(t)
//			bucket := "test-" + strings.ToLower(randomSuffix())
//			if err := s.CreateBucket(context.Background(), bucket); err != nil {
//				t.Fatal(err)
//			}
//			return s, bucket
//		})
//	}
//
// newStore is called once per subtest and must return a store together
// with the name of a bucket that exists and is empty. Bucket names must be
// at most 56 characters: the bucket tests create further buckets named
// after it with a short suffix (and delete them). Declared gaps are passed
// as options (see Gap and ModTimeSlack).
//
// Points of the contract that a backend's native API does not give for
// free, and which the suite checks (with the store helpers that implement
// them):
//
//   - keys S3 would accept but the contract rejects ("a//b", "../x",
//     segments over 255 bytes...): store.ValidateKey;
//   - metadata keys lower-cased, invalid ones rejected with
//     ErrInvalidMetadata, values with non-ASCII text round-tripped:
//     store.NormalizeMetadata (an HTTP backend must encode such values);
//   - Get of length 0, of offset == size (S3 answers 416) and of an empty
//     object: store.CheckRange; info.Size is the whole object's size;
//   - List entries (keys and common prefixes) strictly after StartAfter,
//     so that resuming after a common prefix skips all keys under it:
//     store.ListFolder;
//   - a body shorter or longer than PutOptions.Size, a failing body and a
//     cancelled context store nothing, also for a conditional create;
//   - DeleteMany of more than 1000 keys (one S3 batch);
//   - store.NewReaderAt over the store's ranged Gets (random, sequential
//     and concurrent reads against the written bytes; ErrObjectChanged
//     once the object is replaced or deleted).
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/store"
)

// NewStoreFunc returns a store and the name of an existing, empty bucket.
// It is called once per subtest; use t.Cleanup to release resources.
type NewStoreFunc func(t *testing.T) (store.Store, string)

// Option declares a property of the store under test.
type Option func(*config)

type config struct {
	modTimeSlack time.Duration
	largeSize    int
	gaps         map[string]string
}

// ModTimeSlack sets how far a reported ModTime may lie outside the
// interval in which the write happened (default 2s, enough for S3's
// one-second granularity).
func ModTimeSlack(d time.Duration) Option {
	return func(c *config) { c.modTimeSlack = d }
}

// LargeSize sets the size of the "large" objects (default 6 MiB + 123
// bytes, more than the usual 5 MiB multipart part size).
func LargeSize(n int) Option {
	return func(c *config) { c.largeSize = n }
}

// Gap declares that the store does not pass the named subtest (its name
// as given to t.Run, e.g. "ConditionalCreate"); the subtest is skipped
// with reason. Every gap should be documented by the implementation.
func Gap(subtest, reason string) Option {
	return func(c *config) { c.gaps[subtest] = reason }
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, newStore NewStoreFunc, opts ...Option) {
	c := &config{modTimeSlack: 2 * time.Second, largeSize: 6<<20 + 123, gaps: map[string]string{}}
	for _, o := range opts {
		o(c)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"Large", testLarge},
		{"Overwrite", testOverwrite},
		{"Metadata", testMetadata},
		{"Ranges", testRanges},
		{"NotExist", testNotExist},
		{"InvalidKeys", testInvalidKeys},
		{"List", testList},
		{"ListPagination", testListPagination},
		{"ConditionalCreate", testConditionalCreate},
		{"CancelledPut", testCancelledPut},
		{"SizeMismatch", testSizeMismatch},
		{"CancelledContext", testCancelledContext},
		{"Concurrent", testConcurrent},
		{"Buckets", testBuckets},
		{"Delete", testDelete},
		{"Copy", testCopy},
		{"Tags", testTags},
		{"ReaderAt", testReaderAt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if reason, ok := c.gaps[tc.name]; ok {
				t.Skipf("declared gap: %s", reason)
			}
			s, bucket := newStore(t)
			tc.fn(t, &harness{s: s, bucket: bucket, cfg: c, ctx: t.Context()})
		})
	}
}

type harness struct {
	s      store.Store
	bucket string
	cfg    *config
	ctx    context.Context
}

// data returns n deterministic pseudo-random bytes for seed.
func data(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), 0x5a}))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func (h *harness) put(t *testing.T, key string, body []byte, opts store.PutOptions) store.ObjectInfo {
	t.Helper()
	info, err := h.s.Put(h.ctx, h.bucket, key, bytes.NewReader(body), opts)
	if err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(body), err)
	}
	return info
}

func (h *harness) putSimple(t *testing.T, key string, body []byte) store.ObjectInfo {
	t.Helper()
	return h.put(t, key, body, store.PutOptions{Size: int64(len(body))})
}

func (h *harness) get(t *testing.T, key string, off, n int64) ([]byte, store.ObjectInfo) {
	t.Helper()
	rc, info, err := h.s.Get(h.ctx, h.bucket, key, off, n)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): reading: %v", key, off, n, err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("Get(%q): Close: %v", key, err)
	}
	return b, info
}

func (h *harness) mustNotExist(t *testing.T, key string) {
	t.Helper()
	if info, err := h.s.Stat(h.ctx, h.bucket, key); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("Stat(%q) = %+v, %v; want ErrNotExist", key, info, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s[:8])
}

func equalBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes (sha %s), want %d bytes (sha %s)", what, len(got), sum(got), len(want), sum(want))
	}
}

// checkInfo checks the fields every Stat/Get/Put result must carry.
func (h *harness) checkInfo(t *testing.T, what string, info store.ObjectInfo, key string, size int64, before, after time.Time) {
	t.Helper()
	if info.Key != key || info.Size != size {
		t.Errorf("%s: key %q size %d, want %q %d", what, info.Key, info.Size, key, size)
	}
	if info.Bucket != "" && info.Bucket != h.bucket {
		t.Errorf("%s: bucket %q, want %q", what, info.Bucket, h.bucket)
	}
	if info.ETag == "" {
		t.Errorf("%s: empty ETag", what)
	}
	slack := h.cfg.modTimeSlack
	if !before.IsZero() && (info.ModTime.Before(before.Add(-slack)) || info.ModTime.After(after.Add(slack))) {
		t.Errorf("%s: ModTime %v outside [%v, %v] ± %v", what, info.ModTime, before, after, slack)
	}
}

// errReader yields n bytes of data, then fails with err.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

var errBoom = errors.New("storetest: body reader failed")

// oddKeys are keys with characters that need escaping somewhere (URLs,
// shells, file systems). None is a "/"-prefix of another.
var oddKeys = []string{
	"a b", "a-b", "a/b", "a0", "a+b", "a%20b", "a=b&c", "q?x#y", "semi;colon,comma",
	"tilde~", "quote'\"", "paren(1)", "star*", "colon:x", "at@sign", "dollar$", "excl!",
	"ünïcödé/日本語", "emoji😀", "caret^", "back\\slash", "brace{x}", "pipe|x", "lt<gt>",
	"deep/er/still/deeper/key", "deep/er/x", "deep/y", "Upper/Case", "upper/case",
	"trailing.", "tab\tkey", ".hidden", "..dots", "x/.y", "x/..z",
	strings.Repeat("s", 255), strings.Repeat("n/", 20) + "leaf",
}

// longKey is a key of exactly store.MaxKeyLen bytes made of short segments.
func longKey() string {
	return strings.Repeat(strings.Repeat("k", 100)+"/", 10) + strings.Repeat("k", store.MaxKeyLen-1010)
}

// invalidKeys are rejected with ErrInvalidKey by every store.
var invalidKeys = []string{
	"", "/x", "../x", "x/../y", "x/..", "..", ".", "./x", "x/./y", "a//b", "a/", "a\x00b",
	"\xff\xfe", strings.Repeat("s", 256), strings.Repeat("k/", 512) + "k",
}
