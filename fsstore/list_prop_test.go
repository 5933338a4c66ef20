package fsstore

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/deltaglider-go/deltaglider/store"
)

// listModel is the listing the contract prescribes, computed naively from
// the sorted set of keys: entries are keys or common prefixes (marked with
// a trailing "\x00"), each emitted if strictly greater than StartAfter.
func listModel(keys []string, o store.ListOptions) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, o.Prefix) {
			continue
		}
		e, name := k, k
		if o.Delimiter != "" {
			if i := strings.Index(k[len(o.Prefix):], o.Delimiter); i >= 0 {
				name = k[:len(o.Prefix)+i+len(o.Delimiter)]
				e = name + "\x00"
			}
		}
		if seen[e] || name <= o.StartAfter {
			continue
		}
		seen[e] = true
		out = append(out, e)
	}
	return out
}

// TestListProperty compares fsstore's directory walk (which skips whole
// subtrees by prefix, StartAfter and common prefix) with the model on
// random trees of keys over a small alphabet rich in '-', '/' and '0',
// the characters around '/' in byte order.
func TestListProperty(t *testing.T) {
	s, err := New(fastTempDir(t), WithoutSync()) // auto: tmpfs may lack user xattrs
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	seg := rapid.StringOfN(rapid.SampledFrom([]rune("ab-0.")), 1, 3, -1).Filter(func(s string) bool {
		return s != "." && s != ".." && s != ".dg"
	})
	key := rapid.Custom(func(t *rapid.T) string {
		return strings.Join(rapid.SliceOfN(seg, 1, 3).Draw(t, "segs"), "/")
	})
	short := rapid.StringOfN(rapid.SampledFrom([]rune("ab-0/.")), 0, 5, -1)
	n := 0
	rapid.Check(t, func(t *rapid.T) {
		n++
		bucket := "b" + strings.Repeat("x", 2) + string(rune('a'+n%26)) + strings.Repeat("0", n/26%5)
		if err := s.CreateBucket(ctx, bucket); err != nil {
			t.Fatal(err)
		}
		defer func() {
			var ks []string
			s.List(ctx, bucket, store.ListOptions{}, func(e store.Entry) error { ks = append(ks, e.Key); return nil })
			s.DeleteMany(ctx, bucket, ks)
			if err := s.DeleteBucket(ctx, bucket); err != nil {
				t.Fatal(err)
			}
		}()
		var keys []string
		for _, k := range rapid.SliceOfN(key, 0, 25).Draw(t, "keys") {
			// Skip keys that are a "/"-prefix of another or vice versa.
			if slices.ContainsFunc(keys, func(o string) bool {
				return o == k || strings.HasPrefix(o, k+"/") || strings.HasPrefix(k, o+"/")
			}) {
				continue
			}
			if _, err := s.Put(ctx, bucket, k, bytes.NewReader(nil), store.PutOptions{Size: 0}); err != nil {
				t.Fatalf("Put(%q): %v", k, err)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for range 10 {
			o := store.ListOptions{
				Prefix:     short.Draw(t, "prefix"),
				Delimiter:  rapid.SampledFrom([]string{"", "", "/", "-", "a/", "0"}).Draw(t, "delim"),
				StartAfter: short.Draw(t, "startAfter"),
			}
			var got []string
			if err := s.List(ctx, bucket, o, func(e store.Entry) error {
				if e.IsPrefix {
					got = append(got, e.Key+"\x00")
				} else {
					got = append(got, e.Key)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if want := listModel(keys, o); !slices.Equal(got, want) {
				t.Fatalf("keys %q\nList(%+v)\n got %q\nwant %q", keys, o, got, want)
			}
		}
	})
}
