package delta

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

// TestTagsPreserved: tags given to Put are on the object stored for the
// key (delta or direct, never the shared reference), read back by Tags,
// kept or replaced by Copy, and dropped by an untagged overwrite.
func TestTagsPreserved(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		ctx := context.Background()
		c := newClient(t, ts.s)
		vs := versions(31, 3, 64<<10)
		ta := map[string]string{"project": "dg", "stage": "release candidate", "owner": "é"}
		tb := map[string]string{"b": "2"}
		ia := put(t, c, ts.bucket, "t/a.zip", vs[0], func(o *PutOptions) { o.Tags = ta }) // seeds the reference
		ib := put(t, c, ts.bucket, "t/b.zip", vs[1], func(o *PutOptions) { o.Tags = tb })
		text := []byte(strings.Repeat("plain text ", 500))
		ic := put(t, c, ts.bucket, "t/c.txt", text, func(o *PutOptions) { o.Tags = map[string]string{"kind": "text"} })
		if ia.StoredAs != Delta || ib.StoredAs != Delta || ic.StoredAs != Direct {
			t.Fatalf("stored as %v %v %v", ia.StoredAs, ib.StoredAs, ic.StoredAs)
		}
		if !maps.Equal(ia.Tags, ta) {
			t.Errorf("Put Info.Tags = %v", ia.Tags)
		}
		want := func(key string, w map[string]string) {
			t.Helper()
			got, err := c.Tags(ctx, ts.bucket, key)
			if err != nil {
				t.Fatalf("Tags %s: %v", key, err)
			}
			if !maps.Equal(got, w) {
				t.Errorf("Tags %s = %v, want %v", key, got, w)
			}
		}
		want("t/a.zip", ta)
		want("t/b.zip", tb)
		want("t/c.txt", map[string]string{"kind": "text"})
		// The reference is shared: it carries nobody's tags.
		if rt, err := ts.s.Tags(ctx, ts.bucket, "t/"+ReferenceName); err != nil || len(rt) != 0 {
			t.Errorf("reference tags = %v, %v; want none", rt, err)
		}

		// Copy in the same deltaspace (server-side copy of the delta) and
		// to another one (re-encoded): tags kept, or replaced when asked.
		if i, err := c.Copy(ctx, ts.bucket, "t/b.zip", ts.bucket, "t/b2.zip", CopyOptions{}); err != nil || !maps.Equal(i.Tags, tb) {
			t.Fatalf("Copy: %v %v", err, i.Tags)
		}
		want("t/b2.zip", tb)
		if _, err := c.Copy(ctx, ts.bucket, "t/b.zip", ts.bucket, "u/b.zip", CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		want("u/b.zip", tb)
		nt := map[string]string{"copied": "yes"}
		if _, err := c.Copy(ctx, ts.bucket, "t/a.zip", ts.bucket, "t/a2.zip", CopyOptions{ReplaceTags: true, Tags: nt}); err != nil {
			t.Fatal(err)
		}
		want("t/a2.zip", nt)
		want("t/a.zip", ta)

		// An overwrite without tags drops them, whichever way it is stored.
		put(t, c, ts.bucket, "t/b.zip", vs[2])
		want("t/b.zip", nil)
		put(t, c, ts.bucket, "t/c.txt", text)
		want("t/c.txt", nil)

		// Invalid tags are refused before anything is stored.
		_, err := c.Put(ctx, ts.bucket, "t/bad.zip", strings.NewReader("x"), PutOptions{Size: 1, Tags: map[string]string{"aws:x": "y"}})
		if !errors.Is(err, store.ErrInvalidTags) {
			t.Errorf("Put with a reserved tag key: %v", err)
		}
		if _, err := c.Stat(ctx, ts.bucket, "t/bad.zip"); !errors.Is(err, store.ErrNotExist) {
			t.Errorf("Stat after a refused Put: %v", err)
		}
		if _, err := c.Tags(ctx, ts.bucket, "t/missing.zip"); !errors.Is(err, store.ErrNotExist) {
			t.Errorf("Tags of a missing key: %v", err)
		}
	})
}
