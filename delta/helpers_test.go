package delta

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
)

// moreStores lists further stores to test on (fsstore registers itself
// from its own file).
var moreStores []struct {
	name string
	open func(t *testing.T) store.Store
}

type testStore struct {
	name   string
	s      store.Store
	bucket string
}

// forEachStore runs fn against the in-memory store, fsstore and (when
// DELTAGLIDER_S3_ENDPOINT is set, as `make test` does) s3store on the
// S3 server, each with a fresh bucket.
func forEachStore(t *testing.T, fn func(t *testing.T, ts testStore)) {
	t.Run("memory", func(t *testing.T) {
		s := store.NewMemory()
		fn(t, newBucket(t, "memory", s))
	})
	for _, ms := range moreStores {
		t.Run(ms.name, func(t *testing.T) { fn(t, newBucket(t, ms.name, ms.open(t))) })
	}
	t.Run("s3store", func(t *testing.T) {
		fn(t, newBucket(t, "s3store", s3Store(t)))
	})
}

func s3Store(t *testing.T) store.Store {
	t.Helper()
	ep := os.Getenv("DELTAGLIDER_S3_ENDPOINT")
	if ep == "" {
		testtool.Missing(t, "DELTAGLIDER_S3_ENDPOINT not set (make test starts versitygw)")
	}
	s, _, err := s3store.NewFromConfig(context.Background(), s3store.Config{Endpoint: ep, UsePathStyle: true, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var bucketSeq = rand.Uint64()

func newBucket(t *testing.T, name string, s store.Store) testStore {
	t.Helper()
	bucketSeq++
	b := fmt.Sprintf("dgtest-%x", bucketSeq)
	if err := s.CreateBucket(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return testStore{name: name, s: s, bucket: b}
}

func newClient(t *testing.T, s store.Store, opts ...Option) *Client {
	t.Helper()
	c, err := NewCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := New(s, append([]Option{WithCache(c), WithTempDir(t.TempDir())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.ReleaseSources)
	return cl
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// versions returns n deterministic "archive" versions of about size bytes,
// each a small edit of the previous one, starting with a zip signature.
func versions(seed uint64, n, size int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	base := make([]byte, size)
	for i := range base {
		base[i] = byte(r.IntN(256))
	}
	copy(base, "PK\x03\x04")
	out := [][]byte{base}
	for v := 1; v < n; v++ {
		prev := out[v-1]
		next := append([]byte(nil), prev...)
		for e := 0; e < 5; e++ {
			at := 16 + r.IntN(len(next)-64)
			switch r.IntN(3) {
			case 0:
				for i := 0; i < 32; i++ {
					next[at+i] = byte(r.IntN(256))
				}
			case 1:
				ins := make([]byte, 1+r.IntN(100))
				for i := range ins {
					ins[i] = byte(r.IntN(256))
				}
				next = append(next[:at], append(ins, next[at:]...)...)
			default:
				next = append(next[:at], next[at+1+r.IntN(50):]...)
			}
		}
		out = append(out, next)
	}
	return out
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

func put(t *testing.T, c *Client, bucket, key string, data []byte, opts ...func(*PutOptions)) Info {
	t.Helper()
	o := PutOptions{Size: int64(len(data))}
	for _, f := range opts {
		f(&o)
	}
	info, err := c.Put(context.Background(), bucket, key, bytes.NewReader(data), o)
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	if info.Size != int64(len(data)) || info.SHA256 != sha(data) {
		t.Fatalf("Put %s: info %+v", key, info)
	}
	return info
}

func get(t *testing.T, c *Client, bucket, key string) ([]byte, Info, error) {
	t.Helper()
	rc, info, err := c.Get(context.Background(), bucket, key, GetOptions{Length: -1})
	if err != nil {
		return nil, info, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return b, info, err
}

func mustGet(t *testing.T, c *Client, bucket, key string, want []byte) Info {
	t.Helper()
	got, info, err := get(t, c, bucket, key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get %s: %d bytes differ from the %d put", key, len(got), len(want))
	}
	return info
}

func storedKeys(t *testing.T, ts testStore) []string {
	t.Helper()
	var keys []string
	err := ts.s.List(context.Background(), ts.bucket, store.ListOptions{}, func(e store.Entry) error {
		keys = append(keys, e.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

var _ = strings.Contains
var _ = time.Now
