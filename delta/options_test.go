package delta

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

func TestOptionsAndEnv(t *testing.T) {
	s := store.NewMemory()
	for _, o := range []Option{WithMaxRatio(0), WithMaxRatio(1.5), WithLevel(0), WithLevel(10), WithMinDeltaSize(-1),
		WithCodec("zstd"), WithConcurrency(0), WithSourceMemory(-1)} {
		if _, err := New(s, WithoutCache(), o); err == nil {
			t.Error("invalid option accepted")
		}
	}
	if _, err := New(nil); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("nil store: %v", err)
	}
	for _, v := range []string{"-1", "lots", "1.5"} {
		t.Setenv("DG_SOURCE_MEMORY_MB", v)
		if _, err := New(s, WithoutCache()); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("DG_SOURCE_MEMORY_MB=%s: %v", v, err)
		}
	}
	t.Setenv("DG_SOURCE_MEMORY_MB", "0")
	if c, err := New(s, WithoutCache()); err != nil || c.sources != nil {
		t.Errorf("DG_SOURCE_MEMORY_MB=0 still keeps references (%v)", err)
	}
	t.Setenv("DG_SOURCE_MEMORY_MB", "64")
	if c, err := New(s, WithoutCache()); err != nil || c.sources == nil || c.sources.budget != 64<<20 {
		t.Errorf("DG_SOURCE_MEMORY_MB=64: %v", err)
	}
	t.Setenv("DG_SOURCE_MEMORY_MB", "")
	t.Setenv("DG_MAX_RATIO", "abc")
	if _, err := New(s, WithoutCache()); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("DG_MAX_RATIO=abc: %v", err)
	}
	// DG_MAX_RATIO really drives the fallback: a version that differs a
	// lot from the reference is a delta at ratio 0.9 and direct at 0.1.
	ts := newBucket(t, "memory", s)
	vs := versions(40, 1, 64<<10)
	half := append(append([]byte(nil), vs[0][:32<<10]...), randBytes(41, 32<<10)...)
	for _, c := range []struct {
		env  string
		want StoredAs
	}{{"0.9", Delta}, {"0.1", Direct}} {
		t.Setenv("DG_MAX_RATIO", c.env)
		cl := newClient(t, s)
		put(t, cl, ts.bucket, "r/a.zip", vs[0])
		info := put(t, cl, ts.bucket, "r/half.zip", half)
		if info.StoredAs != c.want {
			t.Errorf("DG_MAX_RATIO=%s: stored %v (ratio of delta unknown, reason %q)", c.env, info.StoredAs, info.Reason)
		}
		mustGet(t, cl, ts.bucket, "r/half.zip", half)
	}
	// Per-put override.
	cl := newClient(t, s, WithMaxRatio(0.9))
	info := put(t, cl, ts.bucket, "r/half2.zip", half, func(o *PutOptions) { o.MaxRatio = 0.1 })
	if info.StoredAs != Direct || info.Reason != "ratio" {
		t.Errorf("PutOptions.MaxRatio ignored: %+v", info)
	}

	dir := t.TempDir()
	t.Setenv("DG_CACHE_DIR", dir)
	t.Setenv("DG_CACHE_SIZE_MB", "3")
	if DefaultCacheDir() != dir {
		t.Errorf("DefaultCacheDir = %s", DefaultCacheDir())
	}
	if n, err := DefaultCacheMaxBytes(); err != nil || n != 3<<20 {
		t.Errorf("DefaultCacheMaxBytes = %d, %v", n, err)
	}
	cl, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	put(t, cl, ts.bucket, "e/a.zip", vs[0])
	put(t, cl, ts.bucket, "e/b.zip", half)
	if ents, _ := os.ReadDir(filepath.Join(dir, "objects")); len(ents) == 0 {
		t.Error("default cache in DG_CACHE_DIR not used")
	}
	t.Setenv("DG_CACHE_SIZE_MB", "-5")
	if _, err := New(s); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("DG_CACHE_SIZE_MB=-5: %v", err)
	}
}

func TestBsdiffCodec(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s, WithCodec(CodecBSDIFF))
	vs := versions(50, 3, 100<<10)
	for i, v := range vs {
		info := put(t, c, ts.bucket, "b/v"+string(rune('0'+i))+".zip", v)
		if info.StoredAs != Delta || info.Codec != CodecBSDIFF {
			t.Fatalf("v%d: %+v", i, info)
		}
	}
	oi, _ := ts.s.Stat(context.Background(), ts.bucket, "b/v1.zip.delta")
	if oi.Metadata["dg-codec"] != "bsdiff" {
		t.Errorf("dg-codec = %q", oi.Metadata["dg-codec"])
	}
	// A default (vcdiff) client reads them by their dg-codec.
	r := newClient(t, ts.s)
	for i, v := range vs {
		mustGet(t, r, ts.bucket, "b/v"+string(rune('0'+i))+".zip", v)
	}
	// Unknown codec: clear error.
	tamper(t, ts, "b/v2.zip.delta", nil, func(m map[string]string) map[string]string { m["dg-codec"] = "zpaq"; return m })
	if _, _, err := get(t, r, ts.bucket, "b/v2.zip"); !errors.Is(err, ErrUnknownCodec) {
		t.Errorf("unknown codec: %v", err)
	}
}

func TestProgress(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s)
	vs := versions(60, 2, 300<<10)
	var last, calls atomic.Int64
	prog := func(p Progress) {
		calls.Add(1)
		if p.Done < last.Load() && p.Op == "get" {
			t.Errorf("progress went back: %+v", p)
		}
		last.Store(p.Done)
	}
	put(t, c, ts.bucket, "p/a.zip", vs[0], func(o *PutOptions) { o.Progress = prog })
	if last.Load() != int64(len(vs[0])) || calls.Load() == 0 {
		t.Errorf("put progress ended at %d of %d", last.Load(), len(vs[0]))
	}
	put(t, c, ts.bucket, "p/b.zip", vs[1])
	last.Store(0)
	rc, _, err := c.Get(context.Background(), ts.bucket, "p/b.zip", GetOptions{Length: -1, Progress: prog})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	rc.Close()
	if last.Load() != int64(len(vs[1])) {
		t.Errorf("get progress ended at %d of %d", last.Load(), len(vs[1]))
	}
	var n atomic.Int64
	if _, err := c.Stats(context.Background(), ts.bucket, "", func(Progress) { n.Add(1) }); err != nil || n.Load() != 2 {
		t.Errorf("stats progress calls %d, %v", n.Load(), err)
	}
}
