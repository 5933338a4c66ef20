package fsstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/store"
)

// Layout of TestListHundredsOfThousands: scaleDirs directories of
// scaleDirFiles keys each, then one flat directory of scaleFlat keys.
const (
	scaleDirs     = 200
	scaleDirFiles = 1000
	scaleFlat     = 100_000
	scaleKeys     = scaleDirs*scaleDirFiles + scaleFlat
)

// scaleKey returns the i-th key of the layout in byte order.
func scaleKey(i int) string {
	if i < scaleDirs*scaleDirFiles {
		return fmt.Sprintf("d%03d/k%04d", i/scaleDirFiles, i%scaleDirFiles)
	}
	return fmt.Sprintf("flat/f%06d", i-scaleDirs*scaleDirFiles)
}

// liveHeap returns the bytes of live heap objects after a full GC.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestListHundredsOfThousands lists a bucket of 300,000 keys, 100,000 of
// them in one directory, and checks that every entry comes exactly once
// in byte order while the live heap stays far below what holding the
// listing would take (300,000 entries are more than 30 MB as
// store.Entry values). The files are created directly (as another tool,
// or the proxy, would leave them): Put is exercised at 20,000 keys by
// TestListManyKeys. It runs only with LONG=1 (make test-long).
func TestListHundredsOfThousands(t *testing.T) {
	if os.Getenv("LONG") != "1" || testing.Short() {
		t.Skip("300,000 files: set LONG=1 (make test-long) to run it")
	}
	// tmpfs where there is one (creating 300,000 files on a virtual disk
	// takes minutes); empty files cost only an inode each.
	dir := fastTempDir(t)
	s, err := New(dir, WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	const b = "bkt"
	if err := s.CreateBucket(ctx, b); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range scaleKeys {
		p := filepath.Join(dir, b, filepath.FromSlash(scaleKey(i)))
		if i%scaleDirFiles == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("created %d files in %v", scaleKeys, time.Since(start).Round(time.Millisecond))
	// One object written through the store, with metadata, among them.
	mid := scaleKey(scaleKeys - scaleFlat/2)
	mustPut(t, s, b, mid, []byte("via Put"), map[string]string{"k": "v"})

	// budget is the live-heap growth allowed during a listing: the
	// sorted names of the largest directory (100,000 short names, about
	// 4 MB) and some slack, a fraction of the listing itself.
	const budget = 16 << 20
	check := func(name string, opts store.ListOptions, want func(i int) (string, bool), n int) {
		t.Helper()
		base := liveHeap()
		var peak uint64
		start := time.Now()
		got := 0
		err := s.List(ctx, b, opts, func(e store.Entry) error {
			w, isPrefix := want(got)
			if got >= n || e.Key != w || e.IsPrefix != isPrefix {
				return fmt.Errorf("entry %d is %q (prefix %v), want %q (prefix %v)", got, e.Key, e.IsPrefix, w, isPrefix)
			}
			if !isPrefix && e.Key == mid && e.Size != 7 {
				return fmt.Errorf("entry %q: size %d, want 7", e.Key, e.Size)
			}
			got++
			if got%20000 == 0 || got == n {
				peak = max(peak, liveHeap())
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != n {
			t.Fatalf("%s: %d entries, want %d", name, got, n)
		}
		growth := int64(peak) - int64(base)
		t.Logf("%s: %d entries in %v, live heap %d KiB before, peak %d KiB", name, got, time.Since(start).Round(time.Millisecond), base>>10, peak>>10)
		if growth > budget {
			t.Errorf("%s: live heap grew by %d KiB during the listing (budget %d KiB): the listing is held in memory", name, growth>>10, budget>>10)
		}
	}
	key := func(off int) func(int) (string, bool) {
		return func(i int) (string, bool) { return scaleKey(off + i), false }
	}
	check("full listing", store.ListOptions{}, key(0), scaleKeys)
	check("listing of the flat directory", store.ListOptions{Prefix: "flat/"}, key(scaleDirs*scaleDirFiles), scaleFlat)
	check("listing after a key in the flat directory", store.ListOptions{StartAfter: mid},
		key(scaleKeys-scaleFlat/2+1), scaleFlat/2-1)
	check("listing of one directory", store.ListOptions{Prefix: "d123/"}, key(123*scaleDirFiles), scaleDirFiles)
	check("delimited listing", store.ListOptions{Delimiter: "/"}, func(i int) (string, bool) {
		if i < scaleDirs {
			return fmt.Sprintf("d%03d/", i), true
		}
		return "flat/", true
	}, scaleDirs+1)
	// A listing stopped early reads no further (the callback's error is
	// returned as it is).
	n := 0
	stop := fmt.Errorf("stop")
	if err := s.List(ctx, b, store.ListOptions{}, func(store.Entry) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	}); err != stop || n != 10 {
		t.Errorf("stopped listing: %v after %d entries", err, n)
	}
	info, err := s.Stat(ctx, b, mid)
	if err != nil || info.Metadata["k"] != "v" {
		t.Errorf("Stat(%q) among 300,000 files: %+v, %v", mid, info, err)
	}
}
