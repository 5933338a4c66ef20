package delta

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/store"
)

func TestRoundTripSynthetic(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		c := newClient(t, ts.s)
		vs := versions(1, 6, 200<<10)
		var stored int64
		for i, v := range vs {
			info := put(t, c, ts.bucket, fmt.Sprintf("rel/app-%d.zip", i), v)
			if info.StoredAs != Delta {
				t.Fatalf("version %d stored %v (%s)", i, info.StoredAs, info.Reason)
			}
			if info.CreatedReference != (i == 0) {
				t.Fatalf("version %d CreatedReference = %v", i, info.CreatedReference)
			}
			if i > 0 && info.Ratio() > 0.05 {
				t.Errorf("version %d ratio %.3f", i, info.Ratio())
			}
			stored += info.StoredSize
		}
		for i, v := range vs {
			info := mustGet(t, c, ts.bucket, fmt.Sprintf("rel/app-%d.zip", i), v)
			if info.StoredAs != Delta || info.RefKey != "rel/reference.bin" {
				t.Fatalf("Get info %+v", info)
			}
		}
		keys := storedKeys(t, ts)
		want := []string{"rel/app-0.zip.delta", "rel/app-1.zip.delta", "rel/app-2.zip.delta", "rel/app-3.zip.delta",
			"rel/app-4.zip.delta", "rel/app-5.zip.delta", "rel/reference.bin"}
		if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Fatalf("stored keys %v", keys)
		}
		// Listing: logical keys and original sizes, reference hidden.
		var got []string
		err := c.List(context.Background(), ts.bucket, ListOptions{Prefix: "rel/"}, func(e ListEntry) error {
			got = append(got, fmt.Sprintf("%s=%d", e.Key, e.Size))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var wantL []string
		for i, v := range vs {
			wantL = append(wantL, fmt.Sprintf("rel/app-%d.zip=%d", i, len(v)))
		}
		if strings.Join(got, ",") != strings.Join(wantL, ",") {
			t.Fatalf("List = %v\nwant %v", got, wantL)
		}
		st, err := c.Stats(context.Background(), ts.bucket, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Objects != 6 || st.DeltaObjects != 6 || st.References != 1 || st.StoredBytes != stored+int64(len(vs[0])) {
			t.Fatalf("Stats %+v (stored deltas %d)", st, stored)
		}
	})
}

func TestMetadataWritten(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s)
	vs := versions(2, 2, 64<<10)
	put(t, c, ts.bucket, "p/a.zip", vs[0], func(o *PutOptions) {
		o.ContentType = "application/zip"
		o.Metadata = map[string]string{"owner": "me"}
	})
	put(t, c, ts.bucket, "p/b.zip", vs[1])
	put(t, c, ts.bucket, "p/notes.txt", []byte("hello"))
	ctx := context.Background()
	ref, _ := ts.s.Stat(ctx, ts.bucket, "p/reference.bin")
	d0, _ := ts.s.Stat(ctx, ts.bucket, "p/a.zip.delta")
	d1, _ := ts.s.Stat(ctx, ts.bucket, "p/b.zip.delta")
	dir, _ := ts.s.Stat(ctx, ts.bucket, "p/notes.txt")
	expect := func(name string, md map[string]string, kv map[string]string) {
		t.Helper()
		for k, v := range kv {
			got, ok := md[k]
			if !ok || (v != "*" && got != v) {
				t.Errorf("%s: %s = %q (present %v), want %q; all: %v", name, k, got, ok, v, md)
			}
		}
	}
	md5hex := func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
	// The reference carries what Python writes (source-name) and what the
	// proxy needs to read it (original-name, file-size, md5).
	expect("reference", ref.Metadata, map[string]string{"dg-tool": "*", "dg-source-name": "a.zip",
		"dg-file-sha256": sha(vs[0]), "dg-created-at": "*", "dg-note": "reference", "dg-original-name": "a.zip",
		"dg-file-size": fmt.Sprint(len(vs[0])), "dg-md5": md5hex(vs[0])})
	common := map[string]string{"dg-tool": "*", "dg-file-size": "*", "dg-created-at": "*", "dg-ref-key": "p/reference.bin",
		"dg-ref-path": "reference.bin", "dg-ref-sha256": sha(vs[0]), "dg-delta-size": "*", "dg-delta-cmd": "*"}
	expect("zero-diff delta", d0.Metadata, common)
	expect("zero-diff delta", d0.Metadata, map[string]string{"dg-original-name": "a.zip", "dg-file-sha256": sha(vs[0]),
		"dg-note": "delta", "owner": "me", "dg-md5": md5hex(vs[0])})
	expect("delta", d1.Metadata, common)
	expect("delta", d1.Metadata, map[string]string{"dg-original-name": "b.zip", "dg-file-sha256": sha(vs[1]),
		"dg-note": "delta", "dg-md5": md5hex(vs[1])})
	expect("direct", dir.Metadata, map[string]string{"dg-tool": "*", "dg-original-name": "notes.txt",
		"dg-file-sha256": sha([]byte("hello")), "dg-file-size": "5", "dg-created-at": "*", "dg-compression": "none",
		"dg-note": "passthrough", "dg-md5": md5hex([]byte("hello"))})
	if d0.ContentType != "application/zip" {
		t.Errorf("content type %q", d0.ContentType)
	}
	if ds := d1.Metadata["dg-delta-size"]; ds != fmt.Sprint(d1.Size) {
		t.Errorf("dg-delta-size %s, object %d", ds, d1.Size)
	}
	if _, ok := d0.Metadata["dg-codec"]; ok {
		t.Error("dg-codec written for the default codec")
	}
	info := mustGet(t, c, ts.bucket, "p/a.zip", vs[0])
	if info.ContentType != "application/zip" || len(info.Metadata) != 1 || info.Metadata["owner"] != "me" {
		t.Errorf("Get info: type %q metadata %v", info.ContentType, info.Metadata)
	}
	if info.MD5 != md5hex(vs[0]) {
		t.Errorf("Get info: MD5 %q", info.MD5)
	}
}

func TestRouting(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		c := newClient(t, ts.s)
		vs := versions(3, 2, 100<<10)
		elf := append([]byte("\x7fELF\x02\x01\x01"), vs[1][7:]...)
		cases := []struct {
			key    string
			data   []byte
			noD    bool
			as     StoredAs
			reason string
		}{
			{"m/a.zip", vs[0], false, Delta, ""},
			{"m/readme.txt", []byte(strings.Repeat("text ", 3000)), false, Direct, "not-eligible"},
			{"m/tool", elf, false, Delta, ""},                               // sniffed ELF
			{"m/random.zip", randBytes(4, 100<<10), false, Direct, "ratio"}, // delta would exceed max ratio
			{"m/small.zip", []byte("PK\x03\x04tiny"), false, Direct, "small"},
			{"m/b.zip", vs[1], true, Direct, "no-delta"},
			{"m/empty.txt", nil, false, Direct, "not-eligible"},
		}
		for _, tc := range cases {
			info := put(t, c, ts.bucket, tc.key, tc.data, func(o *PutOptions) { o.NoDelta = tc.noD })
			if info.StoredAs != tc.as || info.Reason != tc.reason {
				t.Errorf("%s: stored %v reason %q, want %v %q", tc.key, info.StoredAs, info.Reason, tc.as, tc.reason)
			}
		}
		for _, tc := range cases {
			info := mustGet(t, c, ts.bucket, tc.key, tc.data)
			if info.StoredAs != tc.as {
				t.Errorf("%s: Get says %v", tc.key, info.StoredAs)
			}
		}
		// Overwriting a delta-stored key with a direct one (and back) leaves
		// one stored variant.
		put(t, c, ts.bucket, "m/a.zip", vs[1], func(o *PutOptions) { o.NoDelta = true })
		mustGet(t, c, ts.bucket, "m/a.zip", vs[1])
		put(t, c, ts.bucket, "m/a.zip", vs[0])
		mustGet(t, c, ts.bucket, "m/a.zip", vs[0])
		n := 0
		for _, k := range storedKeys(t, ts) {
			if strings.HasPrefix(k, "m/a.zip") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("m/a.zip stored %d ways", n)
		}
	})
}

func TestReservedAndPlain(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s)
	ctx := context.Background()
	for _, k := range []string{"reference.bin", "x/reference.bin", "x/y.delta", ".deltaglider/tmp/a"} {
		if _, err := c.Put(ctx, ts.bucket, k, strings.NewReader("x"), PutOptions{}); !errors.Is(err, ErrReservedKey) {
			t.Errorf("Put %s: %v", k, err)
		}
		if _, _, err := c.Get(ctx, ts.bucket, k, GetOptions{}); !errors.Is(err, ErrReservedKey) {
			t.Errorf("Get %s: %v", k, err)
		}
	}
	if _, err := c.Put(ctx, ts.bucket, "a.txt", strings.NewReader("x"), PutOptions{Metadata: map[string]string{"dg-note": "x"}}); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("dg- user metadata accepted: %v", err)
	}
	// A plain object (no DeltaGlider metadata) is served as it is.
	plain := []byte("PK\x03\x04 written by someone else")
	if _, err := ts.s.Put(ctx, ts.bucket, "ext/foreign.zip", bytes.NewReader(plain), store.PutOptions{Size: int64(len(plain)),
		Metadata: map[string]string{"note": "kept"}}); err != nil {
		t.Fatal(err)
	}
	info := mustGet(t, c, ts.bucket, "ext/foreign.zip", plain)
	if info.StoredAs != Plain || info.Metadata["note"] != "kept" {
		t.Errorf("plain info %+v", info)
	}
	if _, _, err := c.Get(ctx, ts.bucket, "ext/missing.zip", GetOptions{}); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestRanges(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s)
	vs := versions(5, 2, 300<<10)
	put(t, c, ts.bucket, "r/a.zip", vs[0])
	put(t, c, ts.bucket, "r/b.zip", vs[1])
	direct := randBytes(6, 50000)
	put(t, c, ts.bucket, "r/d.bin", direct)
	for _, k := range []struct {
		key  string
		data []byte
	}{{"r/b.zip", vs[1]}, {"r/d.bin", direct}} {
		n := int64(len(k.data))
		for _, rg := range [][2]int64{{0, 10}, {1000, 5000}, {n - 7, -1}, {n - 7, 100}, {n, -1}, {12345, 0}} {
			rc, _, err := c.Get(context.Background(), ts.bucket, k.key, GetOptions{Offset: rg[0], Length: rg[1]})
			if err != nil {
				t.Fatalf("%s %v: %v", k.key, rg, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			end := n
			if rg[1] >= 0 && rg[0]+rg[1] < n {
				end = rg[0] + rg[1]
			}
			if err != nil || !bytes.Equal(got, k.data[rg[0]:end]) {
				t.Fatalf("%s range %v: %d bytes, err %v", k.key, rg, len(got), err)
			}
		}
		if _, _, err := c.Get(context.Background(), ts.bucket, k.key, GetOptions{Offset: n + 1}); !errors.Is(err, store.ErrInvalidRange) {
			t.Errorf("offset past end: %v", err)
		}
	}
}

// tamper replaces a stored object's body, keeping or replacing metadata.
func tamper(t *testing.T, ts testStore, key string, body []byte, md func(map[string]string) map[string]string) {
	t.Helper()
	ctx := context.Background()
	oi, err := ts.s.Stat(ctx, ts.bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	m := oi.Metadata
	if md != nil {
		m = md(m)
	}
	if body == nil {
		rc, _, err := ts.s.Get(ctx, ts.bucket, key, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(rc)
		rc.Close()
	}
	if _, err := ts.s.Put(ctx, ts.bucket, key, bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), Metadata: m, ContentType: oi.ContentType}); err != nil {
		t.Fatal(err)
	}
}

func TestCorruption(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		vs := versions(7, 3, 100<<10)
		setup := func(t *testing.T, prefix string) *Client {
			c := newClient(t, ts.s)
			put(t, c, ts.bucket, prefix+"/a.zip", vs[0])
			put(t, c, ts.bucket, prefix+"/b.zip", vs[1])
			return c
		}
		ctx := context.Background()
		t.Run("reference content replaced", func(t *testing.T) {
			c := setup(t, "c1")
			tamper(t, ts, "c1/reference.bin", vs[2], nil)
			_, _, err := get(t, newClient(t, ts.s), ts.bucket, "c1/b.zip")
			if !errors.Is(err, ErrWrongReference) {
				t.Fatalf("err = %v, want ErrWrongReference", err)
			}
			_ = c
		})
		t.Run("reference replaced with its metadata", func(t *testing.T) {
			setup(t, "c2")
			tamper(t, ts, "c2/reference.bin", vs[2], func(m map[string]string) map[string]string {
				m["dg-file-sha256"] = sha(vs[2])
				return m
			})
			_, _, err := get(t, newClient(t, ts.s), ts.bucket, "c2/b.zip")
			if !errors.Is(err, ErrWrongReference) {
				t.Fatalf("err = %v, want ErrWrongReference", err)
			}
		})
		t.Run("reference corrupted in cache", func(t *testing.T) {
			cdir := t.TempDir()
			cache, _ := NewCache(cdir, 1<<30)
			c, _ := New(ts.s, WithCache(cache))
			put(t, c, ts.bucket, "c3/a.zip", vs[0])
			put(t, c, ts.bucket, "c3/b.zip", vs[1])
			filepath.Walk(filepath.Join(cdir, "objects"), func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() {
					b, _ := os.ReadFile(p)
					b[len(b)/2] ^= 1
					os.WriteFile(p, b, 0o600)
				}
				return nil
			})
			mustGet(t, c, ts.bucket, "c3/b.zip", vs[1]) // detected and refetched
		})
		t.Run("cache index points at another reference", func(t *testing.T) {
			cdir := t.TempDir()
			cache, _ := NewCache(cdir, 1<<30)
			c, _ := New(ts.s, WithCache(cache))
			ws := versions(17, 2, 100<<10) // a reference of the same size as vs[0]
			put(t, c, ts.bucket, "c8a/a.zip", vs[0])
			put(t, c, ts.bucket, "c8a/b.zip", vs[1])
			put(t, c, ts.bucket, "c8b/a.zip", ws[0])
			put(t, c, ts.bucket, "c8b/b.zip", ws[1])
			index := func(space string) string {
				oi, err := ts.s.Stat(ctx, ts.bucket, space+"/reference.bin")
				if err != nil {
					t.Fatal(err)
				}
				return filepath.Join(cdir, "index", cacheID(ts.bucket, oi.Key, oi.ETag, oi.Size))
			}
			other, err := os.ReadFile(index("c8b"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(index("c8a"), other, 0o600); err != nil {
				t.Fatal(err)
			}
			mustGet(t, c, ts.bucket, "c8a/b.zip", vs[1]) // not trusted: refetched
			mustGet(t, c, ts.bucket, "c8b/b.zip", ws[1])
		})
		t.Run("delta corrupted", func(t *testing.T) {
			setup(t, "c4")
			rc, _, _ := ts.s.Get(ctx, ts.bucket, "c4/b.zip.delta", 0, -1)
			d, _ := io.ReadAll(rc)
			rc.Close()
			d[len(d)/2] ^= 0x55
			tamper(t, ts, "c4/b.zip.delta", d, nil)
			if _, _, err := get(t, newClient(t, ts.s), ts.bucket, "c4/b.zip"); err == nil {
				t.Fatal("corrupt delta decoded without error")
			}
		})
		t.Run("recorded checksum wrong", func(t *testing.T) {
			c := setup(t, "c5")
			tamper(t, ts, "c5/b.zip.delta", nil, func(m map[string]string) map[string]string {
				m["dg-file-sha256"] = sha([]byte("other"))
				return m
			})
			rc, _, err := c.Get(ctx, ts.bucket, "c5/b.zip", GetOptions{Length: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			n, err := io.Copy(io.Discard, rc)
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("read %d bytes, err = %v, want ErrIntegrity before EOF", n, err)
			}
			if _, err := c.Verify(ctx, ts.bucket, "c5/b.zip", nil); !errors.Is(err, ErrIntegrity) {
				t.Fatalf("Verify: %v", err)
			}
			if _, err := c.Verify(ctx, ts.bucket, "c5/a.zip", nil); err != nil {
				t.Fatalf("Verify good object: %v", err)
			}
		})
		t.Run("metadata stripped", func(t *testing.T) {
			c := setup(t, "c6")
			tamper(t, ts, "c6/b.zip.delta", nil, func(map[string]string) map[string]string { return nil })
			_, _, err := get(t, c, ts.bucket, "c6/b.zip")
			if !errors.Is(err, ErrMissingMetadata) || !strings.Contains(err.Error(), "c6/b.zip.delta") {
				t.Fatalf("err = %v, want ErrMissingMetadata naming the object", err)
			}
		})
		t.Run("direct object corrupted", func(t *testing.T) {
			c := newClient(t, ts.s)
			data := []byte(strings.Repeat("direct ", 1000))
			put(t, c, ts.bucket, "c7/a.txt", data)
			bad := append([]byte(nil), data...)
			bad[10] = 'X'
			tamper(t, ts, "c7/a.txt", bad, nil)
			if _, _, err := get(t, c, ts.bucket, "c7/a.txt"); !errors.Is(err, ErrIntegrity) {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

func TestRacingWriters(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		vs := versions(8, 8, 128<<10)
		for round := 0; round < 3; round++ {
			prefix := fmt.Sprintf("race%d", round)
			var wg sync.WaitGroup
			infos := make([]Info, len(vs))
			errs := make([]error, len(vs))
			for i := range vs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := newClient(t, ts.s) // separate caches, like separate processes
					infos[i], errs[i] = c.Put(context.Background(), ts.bucket, fmt.Sprintf("%s/v%d.zip", prefix, i),
						bytes.NewReader(vs[i]), PutOptions{Size: int64(len(vs[i]))})
				}()
			}
			wg.Wait()
			seeders := 0
			for i := range vs {
				if errs[i] != nil {
					t.Fatalf("writer %d: %v", i, errs[i])
				}
				if infos[i].CreatedReference {
					seeders++
				}
				if infos[i].StoredAs != Delta {
					t.Errorf("writer %d stored %v (%s)", i, infos[i].StoredAs, infos[i].Reason)
				}
			}
			if seeders != 1 {
				t.Fatalf("%d writers seeded the reference", seeders)
			}
			c := newClient(t, ts.s)
			for i := range vs {
				mustGet(t, c, ts.bucket, fmt.Sprintf("%s/v%d.zip", prefix, i), vs[i])
			}
		}
	})
}

func TestDeletePurgeAndRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		ctx := context.Background()
		c := newClient(t, ts.s)
		vs := versions(9, 4, 64<<10)
		put(t, c, ts.bucket, "d/a.zip", vs[0])
		put(t, c, ts.bucket, "d/b.zip", vs[1])
		put(t, c, ts.bucket, "d/n.txt", []byte("note"))
		if _, err := c.Delete(ctx, ts.bucket, "d/a.zip"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Delete(ctx, ts.bucket, "d/b.zip"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Stat(ctx, ts.bucket, "d/a.zip"); !errors.Is(err, store.ErrNotExist) {
			t.Fatalf("deleted object still there: %v", err)
		}
		// The reference stays until Purge.
		if _, err := ts.s.Stat(ctx, ts.bucket, "d/reference.bin"); err != nil {
			t.Fatalf("reference removed by Delete: %v", err)
		}
		removed, err := c.Purge(ctx, ts.bucket, "")
		if err != nil || len(removed) != 1 || removed[0] != "d/reference.bin" {
			t.Fatalf("Purge = %v, %v", removed, err)
		}
		mustGet(t, c, ts.bucket, "d/n.txt", []byte("note"))

		// Purge racing with writers never orphans a delta.
		for round := 0; round < 6; round++ {
			p := fmt.Sprintf("pr%d", round)
			put(t, c, ts.bucket, p+"/seed.zip", vs[0])
			if _, err := c.Delete(ctx, ts.bucket, p+"/seed.zip"); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := 1; i < 3; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cw := newClient(t, ts.s)
					_, errs[i] = cw.Put(ctx, ts.bucket, fmt.Sprintf("%s/v%d.zip", p, i), bytes.NewReader(vs[i]), PutOptions{Size: int64(len(vs[i]))})
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[0] = newClient(t, ts.s).Purge(ctx, ts.bucket, p+"/")
			}()
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d op %d: %v", round, i, err)
				}
			}
			cr := newClient(t, ts.s)
			for i := 1; i < 3; i++ {
				mustGet(t, cr, ts.bucket, fmt.Sprintf("%s/v%d.zip", p, i), vs[i])
			}
		}
	})
}

func TestDeleteRecursiveCopy(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		ctx := context.Background()
		c := newClient(t, ts.s)
		vs := versions(10, 3, 64<<10)
		put(t, c, ts.bucket, "x/a.zip", vs[0], func(o *PutOptions) { o.Metadata = map[string]string{"k": "v"} })
		put(t, c, ts.bucket, "x/b.zip", vs[1])
		put(t, c, ts.bucket, "x/t.txt", []byte("text"))
		put(t, c, ts.bucket, "y/a.zip", vs[2])
		// Copy within the deltaspace: server-side, stays a delta.
		info, err := c.Copy(ctx, ts.bucket, "x/b.zip", ts.bucket, "x/c.zip", CopyOptions{})
		if err != nil || info.StoredAs != Delta {
			t.Fatalf("Copy: %+v %v", info, err)
		}
		mustGet(t, c, ts.bucket, "x/c.zip", vs[1])
		// Copy to another deltaspace: re-encoded there.
		info, err = c.Copy(ctx, ts.bucket, "x/a.zip", ts.bucket, "y/a-copy.zip", CopyOptions{})
		if err != nil || info.StoredAs != Delta || info.RefKey != "y/reference.bin" {
			t.Fatalf("Copy across: %+v %v", info, err)
		}
		got := mustGet(t, c, ts.bucket, "y/a-copy.zip", vs[0])
		if got.Metadata["k"] != "v" {
			t.Errorf("user metadata lost in copy: %v", got.Metadata)
		}
		n, err := c.DeleteRecursive(ctx, ts.bucket, "x/", nil)
		if err != nil || n != 4 {
			t.Fatalf("DeleteRecursive = %d, %v", n, err)
		}
		keys := storedKeys(t, ts)
		for _, k := range keys {
			if strings.HasPrefix(k, "x/") {
				t.Errorf("left behind: %s", k)
			}
		}
		mustGet(t, c, ts.bucket, "y/a.zip", vs[2])
		mustGet(t, c, ts.bucket, "y/a-copy.zip", vs[0])
	})
}

func TestCorpusSeries(t *testing.T) {
	for _, series := range []string{"gomod-x-net", "gomod-aws-s3"} {
		t.Run(series, func(t *testing.T) {
			files := testtool.Series(t, series)
			forEachStore(t, func(t *testing.T, ts testStore) {
				c := newClient(t, ts.s)
				var stored int64
				var orig int64
				for i, f := range files {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					fh, _ := os.Open(f)
					info, err := c.Put(context.Background(), ts.bucket, series+"/"+filepath.Base(f), fh, PutOptions{Size: int64(len(data))})
					fh.Close()
					if err != nil {
						t.Fatal(err)
					}
					if info.StoredAs != Delta {
						t.Errorf("%s stored %v (%s)", f, info.StoredAs, info.Reason)
					}
					stored += info.StoredSize
					if i == 0 {
						stored += int64(len(data))
					}
					orig += int64(len(data))
					mustGet(t, c, ts.bucket, series+"/"+filepath.Base(f), data)
				}
				t.Logf("%s on %s: %d files, %d bytes original, %d bytes stored (%.2f%%)", series, ts.name, len(files), orig, stored,
					100*float64(stored)/float64(orig))
			})
		})
	}
}

var _ = sort.Strings

func TestRangeSkipsWindows(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s, WithSecondary("none"))
	vs := versions(70, 2, 20<<20) // 3 windows of 8 MiB
	put(t, c, ts.bucket, "w/a.zip", vs[0])
	put(t, c, ts.bucket, "w/b.zip", vs[1])
	n := int64(len(vs[1]))
	ctx := context.Background()
	for _, rg := range [][2]int64{{9 << 20, 1000}, {17<<20 + 5, -1}, {16<<20 - 10, 20}, {n - 1, 1}} {
		before := windowsSkipped.Load()
		rc, _, err := c.Get(ctx, ts.bucket, "w/b.zip", GetOptions{Offset: rg[0], Length: rg[1]})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		end := n
		if rg[1] >= 0 {
			end = rg[0] + rg[1]
		}
		if err != nil || !bytes.Equal(got, vs[1][rg[0]:end]) {
			t.Fatalf("range %v: %d bytes, %v", rg, len(got), err)
		}
		if windowsSkipped.Load() == before {
			t.Errorf("range %v decoded from the first window", rg)
		}
	}
	// A wrong recorded checksum is caught by VerifyWhole, not by a
	// window-skipping range read (which checks each window's Adler-32).
	tamper(t, ts, "w/b.zip.delta", nil, func(m map[string]string) map[string]string {
		m["dg-file-sha256"] = sha([]byte("x"))
		return m
	})
	rc, _, err := c.Get(ctx, ts.bucket, "w/b.zip", GetOptions{Offset: 9 << 20, Length: 10, VerifyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("VerifyWhole: %v", err)
	}
}

func TestDeleteRecursivePartialPrefix(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s)
	ctx := context.Background()
	vs := versions(11, 3, 64<<10)
	put(t, c, ts.bucket, "s/app-1.zip", vs[0])
	put(t, c, ts.bucket, "s/app-2.zip", vs[1])
	put(t, c, ts.bucket, "s/lib-1.zip", vs[2])
	// "s/app" covers two of three deltas: the reference stays for lib-1.
	if n, err := c.DeleteRecursive(ctx, ts.bucket, "s/app", nil); err != nil || n != 2 {
		t.Fatalf("DeleteRecursive = %d, %v", n, err)
	}
	mustGet(t, c, ts.bucket, "s/lib-1.zip", vs[2])
	// "s/lib" covers the last delta: the now unused reference goes too.
	if _, err := c.DeleteRecursive(ctx, ts.bucket, "s/lib", nil); err != nil {
		t.Fatal(err)
	}
	if keys := storedKeys(t, ts); len(keys) != 0 {
		t.Fatalf("left behind: %v", keys)
	}
}

func TestListShapes(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s)
	ctx := context.Background()
	vs := versions(12, 2, 64<<10)
	put(t, c, ts.bucket, "l/a.zip", vs[0])
	put(t, c, ts.bucket, "l/b.txt", []byte("b"))
	put(t, c, ts.bucket, "l/sub/c.zip", vs[1])
	put(t, c, ts.bucket, "l/z.zip", vs[1])
	// A crash between a put and its clean-up leaves both variants of z.zip:
	// listed once, the newer (direct, written later) wins.
	if _, err := ts.s.Put(ctx, ts.bucket, "l/z.zip", bytes.NewReader([]byte("zz")), store.PutOptions{Size: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.s.Put(ctx, ts.bucket, ".deltaglider/stats_quick.json", bytes.NewReader([]byte("{}")), store.PutOptions{Size: 2}); err != nil {
		t.Fatal(err)
	}
	list := func(o ListOptions) string {
		var out []string
		if err := c.List(ctx, ts.bucket, o, func(e ListEntry) error {
			if e.IsPrefix {
				out = append(out, e.Key+"/")
			} else {
				out = append(out, fmt.Sprintf("%s:%d", e.Key, e.Size))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, " ")
	}
	a, z := len(vs[0]), len(vs[1])
	if got, want := list(ListOptions{Prefix: "l/"}), fmt.Sprintf("l/a.zip:%d l/b.txt:1 l/sub/c.zip:%d l/z.zip:2", a, z); got != want {
		t.Errorf("recursive:\n got %s\nwant %s", got, want)
	}
	if got, want := list(ListOptions{Prefix: "l/", Delimiter: "/"}), fmt.Sprintf("l/a.zip:%d l/b.txt:1 l/sub// l/z.zip:2", a); got != want {
		t.Errorf("delimited:\n got %s\nwant %s", got, want)
	}
	if got, want := list(ListOptions{Prefix: "l/", StartAfter: "l/a.zip"}), fmt.Sprintf("l/b.txt:1 l/sub/c.zip:%d l/z.zip:2", z); got != want {
		t.Errorf("start after:\n got %s\nwant %s", got, want)
	}
	if got := list(ListOptions{Delimiter: "/"}); got != "l//" {
		t.Errorf("root: %s", got)
	}
	if got := list(ListOptions{Prefix: "l/", StoredSizes: true}); !strings.Contains(got, "l/a.zip:-1") {
		t.Errorf("StoredSizes: %s", got)
	}
	mustGet(t, c, ts.bucket, "l/z.zip", []byte("zz"))
}

// TestUserMetadataPreserved: user metadata and content type come back
// exactly, without DeltaGlider fields, from Stat, Get, List and every kind
// of Copy (server-side within a deltaspace, re-encoded across, direct),
// and ReplaceMetadata replaces them.
func TestUserMetadataPreserved(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		ctx := context.Background()
		c := newClient(t, ts.s)
		vs := versions(13, 2, 64<<10)
		type want struct {
			ct string
			md map[string]string
		}
		objs := map[string]want{
			"m/a.zip": {"application/zip", map[string]string{"owner": "me", "build": "42"}},
			"m/b.zip": {"application/x-b", map[string]string{"owner": "you"}},
			"m/c.txt": {"text/plain; charset=utf-8", map[string]string{"lang": "en", "note-x": "é"}},
		}
		data := map[string][]byte{"m/a.zip": vs[0], "m/b.zip": vs[1], "m/c.txt": []byte(strings.Repeat("text ", 1000))}
		for _, k := range []string{"m/a.zip", "m/b.zip", "m/c.txt"} {
			put(t, c, ts.bucket, k, data[k], func(o *PutOptions) { o.ContentType, o.Metadata = objs[k].ct, objs[k].md })
		}
		same := func(a, b map[string]string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
		check := func(key string, w want, body []byte) {
			t.Helper()
			st, err := c.Stat(ctx, ts.bucket, key)
			if err != nil {
				t.Fatal(err)
			}
			if st.ContentType != w.ct || !same(st.Metadata, w.md) {
				t.Errorf("Stat %s: %q %v, want %q %v", key, st.ContentType, st.Metadata, w.ct, w.md)
			}
			gi := mustGet(t, c, ts.bucket, key, body)
			if gi.ContentType != w.ct || !same(gi.Metadata, w.md) {
				t.Errorf("Get %s: %q %v, want %q %v", key, gi.ContentType, gi.Metadata, w.ct, w.md)
			}
		}
		for k, w := range objs {
			check(k, w, data[k])
		}
		err := c.List(ctx, ts.bucket, ListOptions{Prefix: "m/"}, func(e ListEntry) error {
			if w := objs[e.Key]; e.StoredAs == Delta && (e.ContentType != w.ct || !same(e.Metadata, w.md)) {
				t.Errorf("List %s: %q %v, want %q %v", e.Key, e.ContentType, e.Metadata, w.ct, w.md)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for src, dst := range map[string]string{"m/b.zip": "m/b2.zip", "m/a.zip": "n/a.zip", "m/c.txt": "n/c.txt"} {
			info, err := c.Copy(ctx, ts.bucket, src, ts.bucket, dst, CopyOptions{})
			if err != nil {
				t.Fatalf("Copy %s: %v", src, err)
			}
			if info.ContentType != objs[src].ct || !same(info.Metadata, objs[src].md) {
				t.Errorf("Copy %s → %s info: %q %v", src, dst, info.ContentType, info.Metadata)
			}
			check(dst, objs[src], data[src])
		}
		repl := want{"application/x-new", map[string]string{"owner": "new"}}
		for src, dst := range map[string]string{"m/b.zip": "m/b3.zip", "m/c.txt": "n/c.txt"} {
			if _, err := c.Copy(ctx, ts.bucket, src, ts.bucket, dst, CopyOptions{ReplaceMetadata: true,
				ContentType: repl.ct, Metadata: repl.md}); err != nil {
				t.Fatal(err)
			}
			check(dst, repl, data[src])
		}
		if _, err := c.Copy(ctx, ts.bucket, "m/a.zip", ts.bucket, "n/x.zip", CopyOptions{ReplaceMetadata: true,
			Metadata: map[string]string{"dg-tool": "x"}}); !errors.Is(err, ErrInvalidMetadata) {
			t.Errorf("Copy with a dg- key: %v", err)
		}
	})
}

// cancelAfter is a body that cancels its context once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n -= int64(k); c.n <= 0 {
		c.cancel()
	}
	return k, err
}

// TestCancel: a cancelled Put fails with context.Canceled and leaves the
// logical key as it was; a cancelled Get stops reading.
func TestCancel(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		vs := versions(14, 3, 4<<20)
		c := newClient(t, ts.s)
		put(t, c, ts.bucket, "k/a.zip", vs[0])
		ctx, cancel := context.WithCancel(context.Background())
		_, err := c.Put(ctx, ts.bucket, "k/b.zip", &cancelAfter{bytes.NewReader(vs[1]), 1 << 20, cancel}, PutOptions{Size: int64(len(vs[1]))})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put cancelled while reading the body: %v", err)
		}
		if _, err := c.Stat(context.Background(), ts.bucket, "k/b.zip"); !errors.Is(err, store.ErrNotExist) {
			t.Fatalf("a cancelled Put left an object: %v", err)
		}
		// Cancelled at some point of the encode or the upload: the key holds
		// the old or the new version (a cancel after the new one was stored
		// fails the Put but cannot undo it), readable and verified.
		for i, delay := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond} {
			key := fmt.Sprintf("k/c%d.zip", i)
			put(t, c, ts.bucket, key, vs[0], func(o *PutOptions) { o.NoDelta = true })
			ctx, cancel := context.WithCancel(context.Background())
			timer := time.AfterFunc(delay, cancel)
			_, err := c.Put(ctx, ts.bucket, key, bytes.NewReader(vs[2]), PutOptions{Size: int64(len(vs[2]))})
			timer.Stop()
			cancel()
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("Put with delay %v: %v", delay, err)
			}
			got, _, gerr := get(t, c, ts.bucket, key)
			if gerr != nil || !bytes.Equal(got, vs[2]) && (err == nil || !bytes.Equal(got, vs[0])) {
				t.Fatalf("after Put (err %v) cancelled at %v: %d bytes, %v", err, delay, len(got), gerr)
			}
		}
		ctx, cancel = context.WithCancel(context.Background())
		rc, _, err := c.Get(ctx, ts.bucket, "k/a.zip", GetOptions{Length: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if _, err := io.ReadFull(rc, make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := io.Copy(io.Discard, rc); !errors.Is(err, context.Canceled) {
			t.Fatalf("Get after cancel: %v", err)
		}
	})
}
