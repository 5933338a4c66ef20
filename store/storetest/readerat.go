package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

// testReaderAt reads an object of the store under test through
// store.NewReaderAt (small blocks, a small cache, read-ahead), the way the
// codec reads a reference straight from the store: random reads, reads at
// and past the end, a sequential scan and concurrent readers, all checked
// against the bytes written; then the object is replaced and a read that
// needs the store fails with ErrObjectChanged instead of mixing versions.
func testReaderAt(t *testing.T, h *harness) {
	const n = 300_000
	body := data(11, n)
	info := h.putSimple(t, "ra", body)
	ctx := h.ctx
	const bs = 16 << 10
	r, err := store.NewReaderAt(ctx, h.s, h.bucket, "ra", store.BlockSize(bs), store.CacheBlocks(6), store.ReadAhead(3))
	if err != nil {
		t.Fatalf("NewReaderAt: %v", err)
	}
	defer r.Close()
	if r.Size() != n || r.Info().ETag != info.ETag {
		t.Fatalf("NewReaderAt: size %d ETag %q, want %d %q", r.Size(), r.Info().ETag, n, info.ETag)
	}
	readAt := func(off int64, length int) {
		t.Helper()
		p := make([]byte, length)
		got, err := r.ReadAt(p, off)
		want := body[min(off, n):min(off+int64(length), n)]
		if got != len(want) || !bytes.Equal(p[:got], want) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d bytes (equal %v), want %d", length, off, got, bytes.Equal(p[:got], want), len(want))
		}
		if got < length && err != io.EOF {
			t.Fatalf("ReadAt(%d bytes at %d): short read of %d with err %v, want io.EOF", length, off, got, err)
		}
		if got == length && err != nil && err != io.EOF {
			t.Fatalf("ReadAt(%d bytes at %d): %v", length, off, err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 80 {
		off := rng.Int64N(n)
		readAt(off, int(rng.Int64N(3*bs)+1))
	}
	readAt(0, n)
	readAt(n-1, 1)
	readAt(n-10, 100) // runs past the end
	readAt(n, 10)     // at the end
	readAt(bs-1, 2)   // across a block boundary
	if _, err := r.ReadAt(make([]byte, 1), n+5); err != io.EOF {
		t.Errorf("ReadAt past the end: %v, want io.EOF", err)
	}
	// A sequential scan (read-ahead) in odd chunk sizes.
	var seq bytes.Buffer
	if _, err := io.CopyBuffer(&seq, io.NewSectionReader(r, 0, n), make([]byte, 7777)); err != nil {
		t.Fatalf("sequential scan: %v", err)
	}
	equalBytes(t, "sequential scan", seq.Bytes(), body)
	// Concurrent readers of one ReaderAt.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range 30 {
				off := rng.Int64N(n)
				p := make([]byte, rng.Int64N(2*bs)+1)
				got, err := r.ReadAt(p, off)
				if err != nil && err != io.EOF {
					t.Errorf("reader %d: ReadAt: %v", g, err)
					return
				}
				if !bytes.Equal(p[:got], body[off:min(off+int64(len(p)), n)]) {
					t.Errorf("reader %d: ReadAt(%d bytes at %d) returned wrong bytes", g, len(p), off)
					return
				}
			}
		})
	}
	wg.Wait()
	// Replaced: reads of blocks not in the cache fail with ErrObjectChanged.
	h.putSimple(t, "ra", data(12, n))
	r2, err := store.NewReaderAt(ctx, h.s, h.bucket, "ra", store.BlockSize(bs), store.CacheBlocks(2), store.ReadAhead(1), store.KnownInfo(info))
	if err != nil {
		t.Fatalf("NewReaderAt with KnownInfo: %v", err)
	}
	defer r2.Close()
	_, err = r2.ReadAt(make([]byte, 10), n/2)
	if !errors.Is(err, store.ErrObjectChanged) {
		t.Errorf("ReadAt of a replaced object: %v, want ErrObjectChanged", err)
	}
	// Deleted: the same.
	if err := h.s.Delete(ctx, h.bucket, "ra"); err != nil {
		t.Fatal(err)
	}
	_, err = r2.ReadAt(make([]byte, 10), 0)
	wantErr(t, fmt.Sprintf("ReadAt of a deleted object (%d bytes)", n), err, store.ErrObjectChanged)
	_, err = store.NewReaderAt(ctx, h.s, h.bucket, "ra")
	wantErr(t, "NewReaderAt of a missing object", err, store.ErrNotExist)
}
