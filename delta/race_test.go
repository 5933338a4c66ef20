package delta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

// hookStore runs hooks around its calls so a test can force one
// interleaving of concurrent writers.
type hookStore struct {
	store.Store
	beforePut    func(key string)
	afterPut     func(key string)
	beforeDelete func(key string)
	afterDelete  func(key string)
	beforeGet    func(key string)
	beforeStat   func(key string)
	beforeCopy   func(srcKey string)
}

func (h *hookStore) Copy(ctx context.Context, sb, sk, db, dk string, o store.CopyOptions) (store.ObjectInfo, error) {
	if h.beforeCopy != nil {
		h.beforeCopy(sk)
	}
	return h.Store.Copy(ctx, sb, sk, db, dk, o)
}

func (h *hookStore) Get(ctx context.Context, bucket, key string, off, n int64) (io.ReadCloser, store.ObjectInfo, error) {
	if h.beforeGet != nil {
		h.beforeGet(key)
	}
	return h.Store.Get(ctx, bucket, key, off, n)
}

func (h *hookStore) Stat(ctx context.Context, bucket, key string) (store.ObjectInfo, error) {
	if h.beforeStat != nil {
		h.beforeStat(key)
	}
	return h.Store.Stat(ctx, bucket, key)
}

func (h *hookStore) Put(ctx context.Context, bucket, key string, r io.Reader, o store.PutOptions) (store.ObjectInfo, error) {
	if h.beforePut != nil {
		h.beforePut(key)
	}
	oi, err := h.Store.Put(ctx, bucket, key, r, o)
	if err == nil && h.afterPut != nil {
		h.afterPut(key)
	}
	return oi, err
}

func (h *hookStore) Delete(ctx context.Context, bucket, key string) error {
	if h.beforeDelete != nil {
		h.beforeDelete(key)
	}
	err := h.Store.Delete(ctx, bucket, key)
	if h.afterDelete != nil {
		h.afterDelete(key)
	}
	return err
}

// TestSameKeyRaceLosesNothing forces the interleaving in which two Puts of
// one key, one stored as a delta and one directly, each remove the other's
// object: both Puts succeed, so the key must still hold one of them.
func TestSameKeyRaceLosesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		vs := versions(21, 3, 256<<10)
		seed := newClient(t, ts.s)
		put(t, seed, ts.bucket, "sp/v0.zip", vs[0]) // the deltaspace's reference

		key := "sp/app.zip"
		bPut, aDel := make(chan struct{}), make(chan struct{})
		var onceP, onceA, onceB sync.Once
		h := &hookStore{Store: ts.s}
		h.afterPut = func(k string) {
			if k == key { // writer B's direct object
				onceP.Do(func() { close(bPut) })
			}
		}
		h.beforeDelete = func(k string) {
			switch k {
			case key: // writer A removing the direct variant: only once B wrote it
				onceA.Do(func() { <-bPut })
			case key + DeltaSuffix: // writer B removing the delta: only after A removed B's object
				onceB.Do(func() { <-aDel })
			}
		}
		var onceAD sync.Once
		h.afterDelete = func(k string) {
			if k == key {
				onceAD.Do(func() { close(aDel) })
			}
		}
		ca, cb := newClient(t, h), newClient(t, h)
		var wg sync.WaitGroup
		var ia, ib Info
		var ea, eb error
		wg.Add(2)
		go func() {
			defer wg.Done()
			ia, ea = ca.Put(context.Background(), ts.bucket, key, bytes.NewReader(vs[1]), PutOptions{Size: int64(len(vs[1]))})
		}()
		go func() {
			defer wg.Done()
			ib, eb = cb.Put(context.Background(), ts.bucket, key, bytes.NewReader(vs[2]), PutOptions{Size: int64(len(vs[2])), NoDelta: true})
		}()
		wg.Wait()
		if ea != nil || eb != nil {
			t.Fatalf("Puts: %v / %v", ea, eb)
		}
		if ia.StoredAs != Delta || ib.StoredAs != Direct {
			t.Fatalf("stored as %v and %v, want delta and direct (the race needs both kinds)", ia.StoredAs, ib.StoredAs)
		}
		got, _, err := get(t, seed, ts.bucket, key)
		if err != nil {
			t.Fatalf("after two successful Puts: %v", err)
		}
		if !bytes.Equal(got, vs[1]) && !bytes.Equal(got, vs[2]) {
			t.Fatalf("key holds %d bytes that neither Put wrote", len(got))
		}
	})
}

// TestSameKeyConcurrentPuts has several writers replace one key at once,
// some as deltas and some directly; afterwards the key reads back, verified,
// as one of the contents written.
func TestSameKeyConcurrentPuts(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		vs := versions(22, 7, 128<<10)
		seed := newClient(t, ts.s)
		put(t, seed, ts.bucket, "hot/v0.zip", vs[0])
		rounds := 6
		if ts.name == "s3store" {
			rounds = 2
		}
		for round := range rounds {
			key := fmt.Sprintf("hot/k%d.zip", round)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := newClient(t, ts.s)
					data := vs[1+w]
					_, errs[w] = c.Put(context.Background(), ts.bucket, key, bytes.NewReader(data),
						PutOptions{Size: int64(len(data)), NoDelta: w%2 == 1})
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			got, _, err := get(t, seed, ts.bucket, key)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			ok := false
			for _, v := range vs[1:] {
				ok = ok || bytes.Equal(got, v)
			}
			if !ok {
				t.Fatalf("round %d: key holds content no writer wrote", round)
			}
		}
	})
}

// TestPurgeRebuildSeesWriterRetry forces the interleaving CI once hit by
// chance in TestDeletePurgeAndRace: a writer stores a delta against the
// reference a Purge is removing, a second writer seeds a new reference,
// Purge finds the orphan and sets out to re-store it, and meanwhile the
// first writer notices the change and stores its delta again against the
// new reference. Purge must read that delta's metadata together with its
// body (not from an earlier Stat), see it is made against the new
// reference, and leave it alone.
func TestPurgeRebuildSeesWriterRetry(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		ctx := context.Background()
		vs := versions(23, 3, 64<<10)
		put(t, newClient(t, ts.s), ts.bucket, "rr/seed.zip", vs[0])
		if _, err := newClient(t, ts.s).Delete(ctx, ts.bucket, "rr/seed.zip"); err != nil {
			t.Fatal(err)
		}
		const rk, dk = "rr/" + ReferenceName, "rr/v1.zip" + DeltaSuffix
		encoded, seeded, deltaPut := make(chan struct{}), make(chan struct{}), make(chan struct{})
		purgeAtGet, wDone := make(chan struct{}), make(chan struct{})

		// Writer W: holds its first delta until the new reference is
		// seeded, and its re-check of the reference until Purge is about
		// to read the delta.
		var oncePut, onceAfter, onceStat sync.Once
		var wrote bool
		var mu sync.Mutex
		hw := &hookStore{Store: ts.s}
		hw.beforePut = func(k string) {
			if k == dk {
				oncePut.Do(func() { close(encoded); <-seeded })
			}
		}
		hw.afterPut = func(k string) {
			if k == dk {
				onceAfter.Do(func() { mu.Lock(); wrote = true; mu.Unlock(); close(deltaPut) })
			}
		}
		hw.beforeStat = func(k string) {
			mu.Lock()
			w := wrote
			mu.Unlock()
			if k == rk && w {
				onceStat.Do(func() { <-purgeAtGet })
			}
		}
		// Purge: once it removed the old reference, a second writer seeds
		// a new one; Purge then waits for W's delta before listing again,
		// and for W to finish before reading the delta it found.
		var onceDel, onceGet sync.Once
		hp := &hookStore{Store: ts.s}
		hp.afterDelete = func(k string) {
			if k == rk {
				onceDel.Do(func() {
					put(t, newClient(t, ts.s), ts.bucket, "rr/v2.zip", vs[2])
					close(seeded)
					<-deltaPut
				})
			}
		}
		hp.beforeGet = func(k string) {
			if k == dk {
				onceGet.Do(func() { close(purgeAtGet); <-wDone })
			}
		}
		var wg sync.WaitGroup
		var werr, perr error
		var removed []string
		wg.Add(2)
		go func() {
			defer wg.Done()
			defer close(wDone)
			_, werr = newClient(t, hw).Put(ctx, ts.bucket, "rr/v1.zip", bytes.NewReader(vs[1]), PutOptions{Size: int64(len(vs[1]))})
		}()
		go func() {
			defer wg.Done()
			<-encoded
			removed, perr = newClient(t, hp).Purge(ctx, ts.bucket, "rr/")
		}()
		wg.Wait()
		if werr != nil || perr != nil {
			t.Fatalf("Put: %v; Purge: %v", werr, perr)
		}
		if len(removed) != 1 || removed[0] != rk {
			t.Errorf("Purge removed %v, want the old %s", removed, rk)
		}
		cr := newClient(t, ts.s)
		mustGet(t, cr, ts.bucket, "rr/v1.zip", vs[1])
		mustGet(t, cr, ts.bucket, "rr/v2.zip", vs[2])
	})
}

// TestGetRacingReplace replaces an object between a reader's lookup and
// its read of the stored bytes: the reader must get the new content,
// verified, not a checksum error from pairing old metadata with new bytes.
func TestGetRacingReplace(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		vs := versions(24, 4, 64<<10)
		w := newClient(t, ts.s)
		put(t, w, ts.bucket, "gr/v0.zip", vs[0])
		for _, tc := range []struct {
			key    string
			noDelt bool
		}{{"gr/app.zip", false}, {"gr/direct.zip", true}} {
			put(t, w, ts.bucket, tc.key, vs[1], func(o *PutOptions) { o.NoDelta = tc.noDelt })
			stored := tc.key
			if !tc.noDelt {
				stored += DeltaSuffix
			}
			var once sync.Once
			h := &hookStore{Store: ts.s}
			h.beforeGet = func(k string) {
				if k == stored {
					once.Do(func() {
						put(t, w, ts.bucket, tc.key, vs[2], func(o *PutOptions) { o.NoDelta = tc.noDelt })
					})
				}
			}
			mustGet(t, newClient(t, h), ts.bucket, tc.key, vs[2])
			var called bool
			once.Do(func() { called = true })
			if called {
				t.Fatalf("%s: the hook never ran, so the race was not staged", tc.key)
			}
		}
	})
}

// TestCopyRacingReplace replaces a delta between Copy's lookup and its
// server-side copy: the copy must hold the new content with the new
// metadata, not the new bytes under the old metadata (which would fail
// its integrity check when read).
func TestCopyRacingReplace(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		ctx := context.Background()
		vs := versions(25, 3, 64<<10)
		w := newClient(t, ts.s)
		put(t, w, ts.bucket, "cr/v0.zip", vs[0])
		put(t, w, ts.bucket, "cr/app.zip", vs[1])
		var once sync.Once
		ran := false
		h := &hookStore{Store: ts.s}
		h.beforeCopy = func(k string) {
			if k == "cr/app.zip"+DeltaSuffix {
				once.Do(func() {
					ran = true
					put(t, w, ts.bucket, "cr/app.zip", vs[2])
				})
			}
		}
		info, err := newClient(t, h).Copy(ctx, ts.bucket, "cr/app.zip", ts.bucket, "cr/copy.zip", CopyOptions{})
		if err != nil {
			t.Fatalf("Copy: %v", err)
		}
		if !ran {
			t.Fatal("the hook never ran, so the race was not staged")
		}
		if info.StoredAs != Delta {
			t.Errorf("copied as %v, want a server-side delta copy", info.StoredAs)
		}
		mustGet(t, newClient(t, ts.s), ts.bucket, "cr/copy.zip", vs[2])
	})
}
