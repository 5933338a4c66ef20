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

// hookStore runs hooks around Put and Delete so a test can force one
// interleaving of concurrent writers.
type hookStore struct {
	store.Store
	afterPut     func(key string)
	beforeDelete func(key string)
	afterDelete  func(key string)
}

func (h *hookStore) Put(ctx context.Context, bucket, key string, r io.Reader, o store.PutOptions) (store.ObjectInfo, error) {
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
