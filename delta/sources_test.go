package delta

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

func testSource(t *testing.T, n int) *vcdiff.Source {
	t.Helper()
	s, err := vcdiff.NewSource(bytes.NewReader(randBytes(uint64(n), n)), int64(n), 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSourceCache: one build per key however many callers; least
// recently used entries go past the budget; a source over the whole
// budget and a failed build are not kept.
func TestSourceCache(t *testing.T) {
	one := testSource(t, 100_000)
	per := one.MemBytes()
	sc := newSourceCache(2*per + per/2) // room for two
	var builds atomic.Int64
	build := func() (*vcdiff.Source, error) { builds.Add(1); return testSource(t, 100_000), nil }

	var wg sync.WaitGroup
	got := make([]*vcdiff.Source, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := sc.get("a", build)
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		}()
	}
	wg.Wait()
	if builds.Load() != 1 {
		t.Fatalf("8 concurrent gets of one key built %d times, want 1", builds.Load())
	}
	for _, s := range got {
		if s != got[0] {
			t.Fatal("concurrent gets returned different sources")
		}
	}
	sc.get("b", build)
	sc.get("a", build) // a is now the most recent
	sc.get("c", build) // evicts b
	if builds.Load() != 3 {
		t.Fatalf("builds = %d, want 3", builds.Load())
	}
	sc.get("a", build)
	sc.get("c", build)
	if builds.Load() != 3 {
		t.Fatalf("a or c was rebuilt: builds = %d, want 3", builds.Load())
	}
	sc.get("b", build)
	if builds.Load() != 4 {
		t.Fatalf("b was still kept: builds = %d, want 4", builds.Load())
	}
	if sc.used > sc.budget || len(sc.entries) != 2 {
		t.Fatalf("used %d of %d in %d entries", sc.used, sc.budget, len(sc.entries))
	}

	big := func() (*vcdiff.Source, error) { builds.Add(1); return testSource(t, 400_000), nil }
	sc.get("big", big)
	sc.get("big", big)
	if builds.Load() != 6 {
		t.Fatalf("a source over the budget was kept: builds = %d, want 6", builds.Load())
	}
	boom := errors.New("boom")
	fails := 0
	bad := func() (*vcdiff.Source, error) { fails++; return nil, boom }
	if _, err := sc.get("bad", bad); err != boom {
		t.Fatalf("failed build: %v", err)
	}
	if _, err := sc.get("bad", bad); err != boom || fails != 2 {
		t.Fatalf("a failed build was kept (%d builds, %v)", fails, err)
	}
	if sc.used > sc.budget {
		t.Fatalf("used %d > budget %d", sc.used, sc.budget)
	}
}

// TestPutsShareTheReference: puts into one deltaspace store the same
// deltas with the indexed reference kept between them as without, and a
// reference seeded again with other content is not confused with the old.
func TestPutsShareTheReference(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		ctx := context.Background()
		vs := versions(31, 5, 300<<10)
		shared, alone := newClient(t, ts.s), newClient(t, ts.s, WithSourceMemory(0))
		if shared.sources == nil || alone.sources != nil {
			t.Fatal("WithSourceMemory did not take")
		}
		for i, v := range vs {
			a := put(t, shared, ts.bucket, "sh/"+string(rune('a'+i))+".zip", v)
			b := put(t, alone, ts.bucket, "al/"+string(rune('a'+i))+".zip", v)
			if a.StoredSize != b.StoredSize || a.StoredAs != b.StoredAs {
				t.Fatalf("version %d: stored %v %d bytes with the shared reference, %v %d without", i, a.StoredAs, a.StoredSize, b.StoredAs, b.StoredSize)
			}
		}
		if len(shared.sources.entries) != 1 {
			t.Errorf("%d references kept, want 1", len(shared.sources.entries))
		}
		for i, v := range vs {
			mustGet(t, shared, ts.bucket, "sh/"+string(rune('a'+i))+".zip", v)
		}
		// Empty the deltaspace and seed it again with other content.
		if _, err := shared.DeleteRecursive(ctx, ts.bucket, "sh/", nil); err != nil {
			t.Fatal(err)
		}
		ws := versions(32, 2, 300<<10)
		put(t, shared, ts.bucket, "sh/new0.zip", ws[0])
		put(t, shared, ts.bucket, "sh/new1.zip", ws[1])
		mustGet(t, newClient(t, ts.s), ts.bucket, "sh/new1.zip", ws[1])
	})
}

// TestReleaseSources: ReleaseSources empties the kept references and the
// client goes on working.
func TestReleaseSources(t *testing.T) {
	c := newClient(t, store.NewMemory())
	ctx := context.Background()
	if err := c.Store().CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	vs := versions(33, 3, 200<<10)
	put(t, c, "bkt", "r/a.zip", vs[0])
	put(t, c, "bkt", "r/b.zip", vs[1])
	if len(c.sources.entries) != 1 || c.sources.used == 0 {
		t.Fatalf("%d sources, %d bytes kept after two puts", len(c.sources.entries), c.sources.used)
	}
	c.ReleaseSources()
	if len(c.sources.entries) != 0 || c.sources.used != 0 {
		t.Fatalf("%d sources, %d bytes kept after ReleaseSources", len(c.sources.entries), c.sources.used)
	}
	put(t, c, "bkt", "r/c.zip", vs[2])
	mustGet(t, c, "bkt", "r/c.zip", vs[2])
}
