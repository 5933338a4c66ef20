package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// countingStore counts Gets and the bytes they deliver.
type countingStore struct {
	Store
	gets, bytes atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, bucket, key string, off, n int64) (io.ReadCloser, ObjectInfo, error) {
	rc, info, err := c.Store.Get(ctx, bucket, key, off, n)
	if err == nil {
		c.gets.Add(1)
		if n < 0 {
			n = info.Size - off
		}
		c.bytes.Add(min(n, info.Size-off))
	}
	return rc, info, err
}

func newObject(t *testing.T, size int) (*countingStore, []byte) {
	t.Helper()
	s := &countingStore{Store: NewMemory()}
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(size), 1))
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	if _, err := s.Put(ctx, "bkt", "obj", bytes.NewReader(body), PutOptions{Size: int64(size)}); err != nil {
		t.Fatal(err)
	}
	return s, body
}

func TestReaderAtRandom(t *testing.T) {
	for _, size := range []int{0, 1, 4096, 4097, 100_000, 1 << 20} {
		s, body := newObject(t, size)
		r, err := NewReaderAt(t.Context(), s, "bkt", "obj", BlockSize(4096), CacheBlocks(8), ReadAhead(3))
		if err != nil {
			t.Fatal(err)
		}
		if r.Size() != int64(size) {
			t.Fatalf("Size %d, want %d", r.Size(), size)
		}
		rng := rand.New(rand.NewPCG(7, uint64(size)))
		for range 300 {
			off := rng.Int64N(int64(size) + 10)
			p := make([]byte, rng.IntN(20000))
			n, err := r.ReadAt(p, off)
			var want []byte
			if off < int64(size) {
				want = body[off:min(int64(size), off+int64(len(p)))]
			}
			if !bytes.Equal(p[:n], want) {
				t.Fatalf("size %d ReadAt(%d bytes, %d): wrong data", size, len(p), off)
			}
			if n < len(p) && err != io.EOF {
				t.Fatalf("size %d ReadAt(%d bytes, %d) = %d, %v; want io.EOF", size, len(p), off, n, err)
			}
			if n == len(p) && err != nil && !(err == io.EOF && off+int64(n) == int64(size)) {
				t.Fatalf("size %d ReadAt(%d bytes, %d) = %d, %v", size, len(p), off, n, err)
			}
			r.mu.Lock()
			if r.lru.Len() > 8 || len(r.blocks) != r.lru.Len() {
				t.Fatalf("cache holds %d blocks (map %d), limit 8", r.lru.Len(), len(r.blocks))
			}
			r.mu.Unlock()
		}
		// The generic io.Reader checks over a SectionReader.
		if err := iotest.TestReader(io.NewSectionReader(r, 0, r.Size()), body); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
	}
}

func TestReaderAtCaching(t *testing.T) {
	const size = 64 << 10
	s, body := newObject(t, size)
	r, err := NewReaderAt(t.Context(), s, "bkt", "obj", BlockSize(4096), CacheBlocks(16), ReadAhead(4))
	if err != nil {
		t.Fatal(err)
	}
	// Sequential read of the whole object in small pieces: read-ahead
	// fetches 4 blocks per Get, so 16 blocks take 4 Gets.
	got, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("sequential read: %v", err)
	}
	if g := s.gets.Load(); g != 4 {
		t.Errorf("sequential read of 16 blocks took %d Gets, want 4", g)
	}
	// Everything is cached now: re-reading costs nothing.
	before := s.gets.Load()
	for off := int64(0); off < size; off += 1000 {
		if _, err := r.ReadAt(make([]byte, 100), off); err != nil {
			t.Fatal(err)
		}
	}
	if g := s.gets.Load() - before; g != 0 {
		t.Errorf("cached re-read took %d Gets", g)
	}
	if b := s.bytes.Load(); b != size {
		t.Errorf("fetched %d bytes for a %d-byte object", b, size)
	}
}

func TestReaderAtConcurrent(t *testing.T) {
	const size = 300_000
	s, body := newObject(t, size)
	r, err := NewReaderAt(t.Context(), s, "bkt", "obj", BlockSize(8192), CacheBlocks(6), ReadAhead(2))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for range 500 {
				off := rng.Int64N(size)
				p := make([]byte, rng.IntN(30000)+1)
				n, err := r.ReadAt(p, off)
				if err != nil && err != io.EOF {
					t.Error(err)
					return
				}
				if !bytes.Equal(p[:n], body[off:off+int64(n)]) || (n < len(p) && off+int64(n) != size) {
					t.Errorf("ReadAt(%d, %d): wrong data", len(p), off)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestReaderAtObjectChanged(t *testing.T) {
	s, _ := newObject(t, 100_000)
	ctx := t.Context()
	r, err := NewReaderAt(ctx, s, "bkt", "obj", BlockSize(4096), CacheBlocks(4), ReadAhead(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 10), 0); err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte("x"), 100_000)
	if _, err := s.Put(ctx, "bkt", "obj", bytes.NewReader(other), PutOptions{Size: int64(len(other))}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 10), 50_000); !errors.Is(err, ErrObjectChanged) {
		t.Errorf("read after overwrite: %v, want ErrObjectChanged", err)
	}
	if err := s.Delete(ctx, "bkt", "obj"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 10), 60_000); !errors.Is(err, ErrObjectChanged) {
		t.Errorf("read after delete: %v, want ErrObjectChanged", err)
	}
	r.Close()
	if _, err := r.ReadAt(make([]byte, 10), 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after Close: %v, want fs.ErrClosed", err)
	}
	if _, err := NewReaderAt(ctx, s, "bkt", "obj"); !errors.Is(err, ErrNotExist) {
		t.Errorf("NewReaderAt of a missing object: %v", err)
	}
	if _, err := NewReaderAt(ctx, s, "bkt", "obj", BlockSize(1)); err == nil {
		t.Errorf("BlockSize(1) accepted")
	}
}

func TestReaderAtCancelled(t *testing.T) {
	s, _ := newObject(t, 100_000)
	ctx, cancel := context.WithCancel(t.Context())
	r, err := NewReaderAt(ctx, s, "bkt", "obj", BlockSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.ReadAt(make([]byte, 10), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAt after cancel: %v", err)
	}
}

func TestReaderAtKnownInfo(t *testing.T) {
	s, body := newObject(t, 50_000)
	info, err := s.Stat(t.Context(), "bkt", "obj")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReaderAt(t.Context(), s, "bkt", "obj", KnownInfo(info), BlockSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 100)
	if _, err := r.ReadAt(p, 30_000); err != nil || !bytes.Equal(p, body[30_000:30_100]) {
		t.Fatalf("ReadAt with KnownInfo: %v", err)
	}
	stale := info
	stale.ETag = "stale"
	r, _ = NewReaderAt(t.Context(), s, "bkt", "obj", KnownInfo(stale), BlockSize(4096))
	if _, err := r.ReadAt(p, 0); !errors.Is(err, ErrObjectChanged) {
		t.Errorf("ReadAt with a stale ETag: %v, want ErrObjectChanged", err)
	}
}

// BenchmarkReaderAt reads a 16 MiB object through a ReaderAt in 4 KiB
// pieces, sequentially and at random offsets, with a cache of a quarter
// of the object.
func BenchmarkReaderAt(b *testing.B) {
	const size = 16 << 20
	s := NewMemory()
	ctx := b.Context()
	s.CreateBucket(ctx, "bkt")
	s.Put(ctx, "bkt", "obj", bytes.NewReader(make([]byte, size)), PutOptions{Size: size})
	for _, mode := range []string{"sequential", "random"} {
		b.Run(mode, func(b *testing.B) {
			r, err := NewReaderAt(ctx, s, "bkt", "obj", BlockSize(256<<10), CacheBlocks(16))
			if err != nil {
				b.Fatal(err)
			}
			p := make([]byte, 4096)
			rng := rand.New(rand.NewPCG(1, 1))
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			off := int64(0)
			for b.Loop() {
				if mode == "random" {
					off = rng.Int64N(size - int64(len(p)))
				} else if off+int64(len(p)) > size {
					off = 0
				}
				if _, err := r.ReadAt(p, off); err != nil {
					b.Fatal(err)
				}
				off += int64(len(p))
			}
		})
	}
}
