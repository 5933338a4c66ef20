package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/deltaglider-go/deltaglider/store"
)

func testRoundTrip(t *testing.T, h *harness) {
	for i, n := range []int{0, 1, 100, 64<<10 + 1} {
		key := fmt.Sprintf("obj/size-%d", n)
		body := data(uint64(i), n)
		before := time.Now()
		pinfo := h.putSimple(t, key, body)
		after := time.Now()
		h.checkInfo(t, "Put "+key, pinfo, key, int64(n), before, after)

		sinfo, err := h.s.Stat(h.ctx, h.bucket, key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		h.checkInfo(t, "Stat "+key, sinfo, key, int64(n), before, after)
		if sinfo.ETag != pinfo.ETag {
			t.Errorf("Stat(%q).ETag = %q, Put returned %q", key, sinfo.ETag, pinfo.ETag)
		}
		got, ginfo := h.get(t, key, 0, -1)
		equalBytes(t, "Get "+key, got, body)
		h.checkInfo(t, "Get "+key, ginfo, key, int64(n), before, after)
		if ginfo.ETag != pinfo.ETag {
			t.Errorf("Get(%q).ETag = %q, Put returned %q", key, ginfo.ETag, pinfo.ETag)
		}
	}
	// Unknown size, through a reader that returns short reads.
	body := data(9, 70000)
	info, err := h.s.Put(h.ctx, h.bucket, "unknown-size", iotest.HalfReader(bytes.NewReader(body)), store.PutOptions{Size: store.SizeUnknown})
	if err != nil {
		t.Fatalf("Put unknown size: %v", err)
	}
	if info.Size != int64(len(body)) {
		t.Errorf("Put unknown size: Size %d, want %d", info.Size, len(body))
	}
	got, _ := h.get(t, "unknown-size", 0, -1)
	equalBytes(t, "Get unknown-size", got, body)
	// An empty body of unknown size.
	if _, err := h.s.Put(h.ctx, h.bucket, "empty-unknown", strings.NewReader(""), store.PutOptions{Size: store.SizeUnknown}); err != nil {
		t.Fatalf("Put empty unknown size: %v", err)
	}
	got, info = h.get(t, "empty-unknown", 0, -1)
	if len(got) != 0 || info.Size != 0 {
		t.Errorf("Get empty-unknown: %d bytes, Size %d", len(got), info.Size)
	}
	// The longest allowed key.
	k := longKey()
	h.putSimple(t, k, []byte("long"))
	got, _ = h.get(t, k, 0, -1)
	equalBytes(t, "Get long key", got, []byte("long"))
}

func testLarge(t *testing.T, h *harness) {
	n := h.cfg.largeSize
	body := data(42, n)
	// Known size.
	h.put(t, "large/known", body, store.PutOptions{Size: int64(n)})
	got, info := h.get(t, "large/known", 0, -1)
	equalBytes(t, "Get large/known", got, body)
	if info.Size != int64(n) {
		t.Errorf("Size %d, want %d", info.Size, n)
	}
	// Unknown size through a pipe (not seekable, odd chunk sizes).
	pr, pw := io.Pipe()
	go func() {
		rest := body
		for i := 0; len(rest) > 0; i++ {
			c := min(len(rest), 1000+i*7919%300000)
			if _, err := pw.Write(rest[:c]); err != nil {
				return
			}
			rest = rest[c:]
		}
		pw.Close()
	}()
	info, err := h.s.Put(h.ctx, h.bucket, "large/unknown", pr, store.PutOptions{Size: store.SizeUnknown})
	pr.Close()
	if err != nil {
		t.Fatalf("Put large unknown size: %v", err)
	}
	if info.Size != int64(n) {
		t.Errorf("Put large unknown: Size %d, want %d", info.Size, n)
	}
	got, _ = h.get(t, "large/unknown", 0, -1)
	equalBytes(t, "Get large/unknown", got, body)
	// A range straddling the middle.
	got, _ = h.get(t, "large/unknown", int64(n/2-1000), 5000)
	equalBytes(t, "Get large/unknown middle", got, body[n/2-1000:n/2+4000])
}

func testOverwrite(t *testing.T, h *harness) {
	a, b := data(1, 5000), data(2, 3000)
	ia := h.put(t, "k", a, store.PutOptions{Size: int64(len(a)), Metadata: map[string]string{"first": "1"}, ContentType: "text/a"})
	ib := h.put(t, "k", b, store.PutOptions{Size: int64(len(b)), Metadata: map[string]string{"second": "2"}})
	if ia.ETag == ib.ETag {
		t.Errorf("ETag unchanged (%q) after overwrite with different content", ia.ETag)
	}
	got, info := h.get(t, "k", 0, -1)
	equalBytes(t, "Get after overwrite", got, b)
	want := map[string]string{"second": "2"}
	if !maps.Equal(info.Metadata, want) {
		t.Errorf("metadata after overwrite = %v, want %v", info.Metadata, want)
	}
	if info.ContentType == "text/a" {
		t.Errorf("content type of the old object survived the overwrite")
	}
	// Overwrite with an empty object.
	h.putSimple(t, "k", nil)
	got, info = h.get(t, "k", 0, -1)
	if len(got) != 0 || info.Size != 0 {
		t.Errorf("after overwrite with empty: %d bytes, Size %d", len(got), info.Size)
	}
}

func testMetadata(t *testing.T, h *harness) {
	md := map[string]string{
		"Mixed-Case":     "Value With Spaces",
		"dg-file-sha256": strings.Repeat("ab", 32),
		"dg-file-size":   "12345",
		"non-ascii":      "héllo wörld ✓ 日本語 😀",
		"punct":          "a=b; c, \"d\" (e) /f\\ %20 +",
		"under_score":    "x",
	}
	want := map[string]string{}
	for k, v := range md {
		want[strings.ToLower(k)] = v
	}
	ctype := "application/x-test; charset=utf-8"
	body := []byte("metadata body")
	h.put(t, "md", body, store.PutOptions{Size: int64(len(body)), Metadata: md, ContentType: ctype})
	info, err := h.s.Stat(h.ctx, h.bucket, "md")
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(info.Metadata, want) {
		t.Errorf("Stat metadata = %q, want %q", info.Metadata, want)
	}
	if info.ContentType != ctype {
		t.Errorf("Stat ContentType = %q, want %q", info.ContentType, ctype)
	}
	_, ginfo := h.get(t, "md", 0, 4)
	if !maps.Equal(ginfo.Metadata, want) || ginfo.ContentType != ctype {
		t.Errorf("Get metadata = %q %q, want %q %q", ginfo.Metadata, ginfo.ContentType, want, ctype)
	}
	// The caller's map is not retained: mutating it changes nothing.
	md["dg-file-size"] = "changed"
	info, _ = h.s.Stat(h.ctx, h.bucket, "md")
	if info.Metadata["dg-file-size"] != "12345" {
		t.Errorf("store retained the caller's metadata map")
	}
	// The largest metadata allowed.
	maxMD := map[string]string{"a": strings.Repeat("é", 300)}
	maxMD["b"] = strings.Repeat("z", store.MaxMetadataSize-store.MetadataSize(maxMD)-1)
	h.put(t, "maxmd", body, store.PutOptions{Size: int64(len(body)), Metadata: maxMD})
	if info, err := h.s.Stat(h.ctx, h.bucket, "maxmd"); err != nil || !maps.Equal(info.Metadata, maxMD) {
		t.Errorf("largest metadata did not round-trip: %v", err)
	}
	maxMD["b"] += "z"
	_, err = h.s.Put(h.ctx, h.bucket, "toobig", bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), Metadata: maxMD})
	wantErr(t, "Put with metadata one byte too large", err, store.ErrInvalidMetadata)
	// No metadata at all.
	h.putSimple(t, "nomd", body)
	info, _ = h.s.Stat(h.ctx, h.bucket, "nomd")
	if len(info.Metadata) != 0 {
		t.Errorf("metadata of an object stored without = %q", info.Metadata)
	}
	// Invalid metadata is rejected and nothing is stored.
	for _, bad := range []map[string]string{
		{"has space": "x"},
		{"": "x"},
		{"ключ": "x"},
		{"dup": "1", "DUP": "2"},
		{"ctl": "a\nb"},
		{"bad-utf8": "\xff"},
		{"lead": " x"},
		{"big": strings.Repeat("x", store.MaxMetadataSize)},
	} {
		_, err := h.s.Put(h.ctx, h.bucket, "badmd", bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), Metadata: bad})
		wantErr(t, fmt.Sprintf("Put with metadata %q", bad), err, store.ErrInvalidMetadata)
	}
	h.mustNotExist(t, "badmd")
}

func testRanges(t *testing.T, h *harness) {
	const n = 300_000
	body := data(7, n)
	h.putSimple(t, "r", body)
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(off, length int64) {
		t.Helper()
		got, info := h.get(t, "r", off, length)
		end := int64(n)
		if length >= 0 && off+length < end {
			end = off + length
		}
		equalBytes(t, fmt.Sprintf("Get(%d, %d)", off, length), got, body[off:end])
		if info.Size != n {
			t.Errorf("Get(%d, %d): info.Size %d, want the whole object's %d", off, length, info.Size, n)
		}
	}
	for range 60 {
		off := rng.Int64N(n)
		check(off, rng.Int64N(n-off)+1)
	}
	for range 10 {
		check(rng.Int64N(n), rng.Int64N(n)) // may run past the end
	}
	check(0, -1)
	check(n/3, -1)
	check(n-1, -1)
	check(n-1, 1)
	check(0, 1)
	check(12345, 0)
	check(0, n+1000)
	check(n, -1) // offset == size: empty
	check(n, 10)
	for _, off := range []int64{n + 1, n + 1000, -1} {
		_, _, err := h.s.Get(h.ctx, h.bucket, "r", off, -1)
		wantErr(t, fmt.Sprintf("Get offset %d of %d", off, n), err, store.ErrInvalidRange)
	}
	// Ranges of an empty object.
	h.putSimple(t, "empty", nil)
	got, _ := h.get(t, "empty", 0, -1)
	if len(got) != 0 {
		t.Errorf("Get(empty) returned %d bytes", len(got))
	}
	got, _ = h.get(t, "empty", 0, 10)
	if len(got) != 0 {
		t.Errorf("Get(empty, 0, 10) returned %d bytes", len(got))
	}
	_, _, err := h.s.Get(h.ctx, h.bucket, "empty", 1, -1)
	wantErr(t, "Get(empty, 1, -1)", err, store.ErrInvalidRange)
	// Closing a reader before the end is fine.
	rc, _, err := h.s.Get(h.ctx, h.bucket, "r", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("early Close: %v", err)
	}
}

func testNotExist(t *testing.T, h *harness) {
	ctx, s, b := h.ctx, h.s, h.bucket
	_, _, err := s.Get(ctx, b, "missing", 0, -1)
	wantErr(t, "Get missing", err, store.ErrNotExist)
	_, _, err = s.Get(ctx, b, "missing", 10, 5)
	wantErr(t, "Get range of missing", err, store.ErrNotExist)
	_, err = s.Stat(ctx, b, "missing")
	wantErr(t, "Stat missing", err, store.ErrNotExist)
	_, err = s.Copy(ctx, b, "missing", b, "dst", store.CopyOptions{})
	wantErr(t, "Copy missing", err, store.ErrNotExist)
	h.mustNotExist(t, "dst")
	if err := s.Delete(ctx, b, "missing"); err != nil {
		t.Errorf("Delete missing: %v", err)
	}
	if err := s.DeleteMany(ctx, b, []string{"missing", "missing2"}); err != nil {
		t.Errorf("DeleteMany missing: %v", err)
	}
	// A "directory" of another key is not an object.
	h.putSimple(t, "dir/file", []byte("x"))
	_, err = s.Stat(ctx, b, "dir")
	wantErr(t, "Stat of a key's parent \"dir\"", err, store.ErrNotExist)
	_, _, err = s.Get(ctx, b, "dir", 0, -1)
	wantErr(t, "Get of a key's parent \"dir\"", err, store.ErrNotExist)
	if err := s.Delete(ctx, b, "dir"); err != nil {
		t.Errorf("Delete of a key's parent \"dir\": %v", err)
	}
	if _, err := s.Stat(ctx, b, "dir/file"); err != nil {
		t.Errorf("Delete(\"dir\") disturbed dir/file: %v", err)
	}

	// A missing bucket.
	nb := missingBucket(b)
	_, err = s.Put(ctx, nb, "k", strings.NewReader("x"), store.PutOptions{Size: 1})
	wantErr(t, "Put in missing bucket", err, store.ErrBucketNotExist)
	_, _, err = s.Get(ctx, nb, "k", 0, -1)
	wantErr(t, "Get in missing bucket", err, store.ErrBucketNotExist)
	_, err = s.Stat(ctx, nb, "k")
	wantErr(t, "Stat in missing bucket", err, store.ErrBucketNotExist)
	err = s.List(ctx, nb, store.ListOptions{}, func(store.Entry) error { return nil })
	wantErr(t, "List missing bucket", err, store.ErrBucketNotExist)
	_, err = s.Copy(ctx, b, "dir/file", nb, "k", store.CopyOptions{})
	wantErr(t, "Copy into missing bucket", err, store.ErrBucketNotExist)
	_, err = s.Copy(ctx, nb, "k", b, "k2", store.CopyOptions{})
	wantErr(t, "Copy from missing bucket", err, store.ErrBucketNotExist)
	// Deleting from a missing bucket may succeed or report the bucket.
	if err := s.Delete(ctx, nb, "k"); err != nil && !errors.Is(err, store.ErrBucketNotExist) {
		t.Errorf("Delete in missing bucket: %v", err)
	}
	if err := s.DeleteMany(ctx, nb, []string{"k"}); err != nil && !errors.Is(err, store.ErrBucketNotExist) {
		t.Errorf("DeleteMany in missing bucket: %v", err)
	}
	if ok, err := s.BucketExists(ctx, nb); ok || err != nil {
		t.Errorf("BucketExists(missing) = %v, %v", ok, err)
	}
}

// missingBucket returns a valid bucket name that does not exist.
func missingBucket(b string) string {
	return b + "-nx"
}

func testInvalidKeys(t *testing.T, h *harness) {
	ctx, s, b := h.ctx, h.s, h.bucket
	h.putSimple(t, "valid", []byte("v"))
	for _, k := range invalidKeys {
		q := truncate(k)
		_, err := s.Put(ctx, b, k, strings.NewReader("x"), store.PutOptions{Size: 1})
		wantErr(t, "Put "+q, err, store.ErrInvalidKey)
		_, err = s.Put(ctx, b, k, strings.NewReader("x"), store.PutOptions{Size: 1, IfNotExists: true})
		wantErr(t, "conditional Put "+q, err, store.ErrInvalidKey)
		_, _, err = s.Get(ctx, b, k, 0, -1)
		wantErr(t, "Get "+q, err, store.ErrInvalidKey)
		_, err = s.Stat(ctx, b, k)
		wantErr(t, "Stat "+q, err, store.ErrInvalidKey)
		wantErr(t, "Delete "+q, s.Delete(ctx, b, k), store.ErrInvalidKey)
		wantErr(t, "DeleteMany "+q, s.DeleteMany(ctx, b, []string{"nothing", k}), store.ErrInvalidKey)
		_, err = s.Copy(ctx, b, k, b, "dst", store.CopyOptions{})
		wantErr(t, "Copy from "+q, err, store.ErrInvalidKey)
		_, err = s.Copy(ctx, b, "valid", b, k, store.CopyOptions{})
		wantErr(t, "Copy to "+q, err, store.ErrInvalidKey)
	}
	// Nothing was created anywhere by the attempts.
	var keys []string
	if err := s.List(ctx, b, store.ListOptions{}, func(e store.Entry) error {
		keys = append(keys, e.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"valid"}) {
		t.Errorf("after invalid-key attempts the bucket lists %q", keys)
	}
	// Invalid bucket names.
	for _, nb := range []string{"", "ab", "Upper", "a/b", "..", "../x", "a..b", "-ab", "ab-", "a_b", "192.168.1.1", strings.Repeat("b", 64)} {
		_, err := s.Put(ctx, nb, "k", strings.NewReader("x"), store.PutOptions{Size: 1})
		wantErr(t, fmt.Sprintf("Put in bucket %q", nb), err, store.ErrInvalidBucket)
		_, err = s.Stat(ctx, nb, "k")
		wantErr(t, fmt.Sprintf("Stat in bucket %q", nb), err, store.ErrInvalidBucket)
		wantErr(t, fmt.Sprintf("CreateBucket %q", nb), s.CreateBucket(ctx, nb), store.ErrInvalidBucket)
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// listAll collects a listing.
func (h *harness) list(t *testing.T, opts store.ListOptions) []store.Entry {
	t.Helper()
	var out []store.Entry
	err := h.s.List(h.ctx, h.bucket, opts, func(e store.Entry) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%+v): %v", opts, err)
	}
	return out
}

// model computes the expected listing from the sorted set of keys.
func model(keys []string, opts store.ListOptions) []string {
	var out []string
	f := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, opts.Prefix) {
			continue
		}
		e := k
		if opts.Delimiter != "" {
			if i := strings.Index(k[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				e = k[:len(opts.Prefix)+i+len(opts.Delimiter)] + "\x00prefix"
			}
		}
		if f[e] {
			continue
		}
		f[e] = true
		if strings.TrimSuffix(e, "\x00prefix") <= opts.StartAfter {
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b string) int {
		return strings.Compare(strings.TrimSuffix(a, "\x00prefix"), strings.TrimSuffix(b, "\x00prefix"))
	})
	return out
}

func entryNames(es []store.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key
		if e.IsPrefix {
			out[i] += "\x00prefix"
		}
	}
	return out
}

func (h *harness) putKeys(t *testing.T, keys []string) map[string]store.ObjectInfo {
	t.Helper()
	infos := map[string]store.ObjectInfo{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			body := data(uint64(i), i%50)
			info, err := h.s.Put(h.ctx, h.bucket, k, bytes.NewReader(body), store.PutOptions{Size: int64(len(body))})
			if err != nil {
				t.Errorf("Put(%q): %v", k, err)
				return
			}
			mu.Lock()
			infos[k] = info
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return infos
}

func testList(t *testing.T, h *harness) {
	if got := h.list(t, store.ListOptions{}); len(got) != 0 {
		t.Fatalf("empty bucket lists %q", entryNames(got))
	}
	keys := slices.Clone(oddKeys)
	infos := h.putKeys(t, keys)
	slices.Sort(keys)

	all := h.list(t, store.ListOptions{})
	if got := entryNames(all); !slices.Equal(got, keys) {
		t.Fatalf("full listing:\n got %q\nwant %q", got, keys)
	}
	for _, e := range all {
		want := infos[e.Key]
		if e.IsPrefix || e.Size != want.Size || e.ETag != want.ETag {
			t.Errorf("entry %q: prefix %v size %d etag %q; Put said size %d etag %q", e.Key, e.IsPrefix, e.Size, e.ETag, want.Size, want.ETag)
		}
	}
	cases := []store.ListOptions{
		{Prefix: "a"},
		{Prefix: "a/"},
		{Prefix: "deep/"},
		{Prefix: "deep/er"},
		{Prefix: "deep/er/"},
		{Prefix: "nothing"},
		{Prefix: "ünïcödé/"},
		{Delimiter: "/"},
		{Prefix: "deep/", Delimiter: "/"},
		{Prefix: "deep", Delimiter: "/"},
		{Prefix: "n/n/", Delimiter: "/"},
		{Delimiter: "e"},
		{Prefix: "deep/", Delimiter: "er"},
		{StartAfter: "a-b"},
		{StartAfter: "a/"},
		{StartAfter: "deep/er/x"},
		{StartAfter: "deep/", Delimiter: "/"},
		{StartAfter: "deep/er", Delimiter: "/"},
		{StartAfter: "deep/er/", Prefix: "deep/", Delimiter: "/"},
		{StartAfter: "zzzz"},
		{StartAfter: "\U0010FFFF"},
		{Prefix: "../"},
		{Prefix: "/"},
	}
	for _, o := range cases {
		got := entryNames(h.list(t, o))
		if want := model(keys, o); !slices.Equal(got, want) {
			t.Errorf("List(%+v):\n got %q\nwant %q", o, got, want)
		}
	}
	// A callback error stops the listing and is returned.
	stop := errors.New("stop")
	n := 0
	err := h.s.List(h.ctx, h.bucket, store.ListOptions{}, func(store.Entry) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("List with failing callback: err %v after %d calls; want %v after 3", err, n, stop)
	}
}

func testListPagination(t *testing.T, h *harness) {
	var keys []string
	for i := range 120 {
		switch i % 3 {
		case 0:
			keys = append(keys, fmt.Sprintf("p/%03d", i))
		case 1:
			keys = append(keys, fmt.Sprintf("p/d%02d/x%03d", i%7, i))
		default:
			keys = append(keys, fmt.Sprintf("q%03d-%d", i, i%5))
		}
	}
	h.putKeys(t, keys)
	slices.Sort(keys)
	for _, o := range []store.ListOptions{{}, {Delimiter: "/"}, {Prefix: "p/", Delimiter: "/"}, {Prefix: "p/"}} {
		want := model(keys, o)
		for _, page := range []int{1, 7, 50} {
			var got []string
			opts := o
			for calls := 0; ; calls++ {
				if calls > len(want)+1 {
					t.Fatalf("pagination of %+v by %d does not end", o, page)
				}
				var batch []store.Entry
				errPage := errors.New("page full")
				err := h.s.List(h.ctx, h.bucket, opts, func(e store.Entry) error {
					batch = append(batch, e)
					if len(batch) == page {
						return errPage
					}
					return nil
				})
				if err != nil && !errors.Is(err, errPage) {
					t.Fatal(err)
				}
				got = append(got, entryNames(batch)...)
				if err == nil {
					break
				}
				opts.StartAfter = batch[len(batch)-1].Key
			}
			if !slices.Equal(got, want) {
				t.Errorf("pagination of %+v by %d:\n got %q\nwant %q", o, page, got, want)
			}
		}
	}
}

func testConditionalCreate(t *testing.T, h *harness) {
	body := []byte("first")
	opts := store.PutOptions{Size: int64(len(body)), IfNotExists: true, Metadata: map[string]string{"who": "first"}}
	if _, err := h.s.Put(h.ctx, h.bucket, "cc", bytes.NewReader(body), opts); err != nil {
		t.Fatalf("conditional Put of a new key: %v", err)
	}
	opts.Metadata = map[string]string{"who": "second"}
	_, err := h.s.Put(h.ctx, h.bucket, "cc", strings.NewReader("other"), opts)
	wantErr(t, "conditional Put of an existing key", err, store.ErrExist)
	got, info := h.get(t, "cc", 0, -1)
	equalBytes(t, "after failed conditional Put", got, body)
	if info.Metadata["who"] != "first" {
		t.Errorf("failed conditional Put changed metadata to %q", info.Metadata)
	}
	// Unknown size too.
	_, err = h.s.Put(h.ctx, h.bucket, "cc", strings.NewReader("other"), store.PutOptions{Size: store.SizeUnknown, IfNotExists: true})
	wantErr(t, "conditional Put (unknown size) of an existing key", err, store.ErrExist)

	// 8 concurrent writers, several rounds: exactly one wins each round.
	const writers = 8
	for round := range 4 {
		key := fmt.Sprintf("race/%d", round)
		bodies := make([][]byte, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			bodies[w] = data(uint64(round*100+w), 20000+w)
			wg.Go(func() {
				<-start
				size := int64(len(bodies[w]))
				if w%2 == 1 {
					size = store.SizeUnknown
				}
				_, errs[w] = h.s.Put(h.ctx, h.bucket, key, bytes.NewReader(bodies[w]), store.PutOptions{Size: size, IfNotExists: true})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("round %d: writers %d and %d both won", round, winner, w)
				}
				winner = w
			case !errors.Is(err, store.ErrExist):
				t.Errorf("round %d: writer %d: %v, want ErrExist", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won", round)
		}
		got, _ := h.get(t, key, 0, -1)
		equalBytes(t, fmt.Sprintf("round %d content", round), got, bodies[winner])
	}
}

// cancellingReader yields data; after first bytes it cancels the context
// and keeps yielding until the data runs out.
type cancellingReader struct {
	data   []byte
	after  int
	cancel context.CancelFunc
	read   int
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.read >= r.after && r.cancel != nil {
		r.cancel()
		r.cancel = nil
		time.Sleep(10 * time.Millisecond) // let transports notice
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data[:min(len(r.data), 64<<10)])
	r.data = r.data[n:]
	r.read += n
	return n, nil
}

func testCancelledPut(t *testing.T, h *harness) {
	old := data(3, 1000)
	h.putSimple(t, "existing", old)
	body := data(4, 4<<20)
	for _, key := range []string{"new", "existing"} {
		for _, size := range []int64{int64(len(body)), store.SizeUnknown} {
			for _, ifNotExists := range []bool{false, true} {
				if ifNotExists && key == "existing" {
					continue
				}
				what := fmt.Sprintf("%s size %d ifNotExists %v", key, size, ifNotExists)
				// Context cancelled mid-body.
				ctx, cancel := context.WithCancel(h.ctx)
				r := &cancellingReader{data: body, after: 1 << 20, cancel: cancel}
				_, err := h.s.Put(ctx, h.bucket, key, r, store.PutOptions{Size: size, IfNotExists: ifNotExists})
				cancel()
				if err == nil {
					t.Errorf("%s: Put with context cancelled mid-body succeeded", what)
				}
				h.checkUnchanged(t, what+" (cancelled)", key, old)
				// Body reader failing mid-body.
				_, err = h.s.Put(h.ctx, h.bucket, key, &errReader{data: body[:1<<20+17], err: errBoom},
					store.PutOptions{Size: size, IfNotExists: ifNotExists})
				if err == nil {
					t.Errorf("%s: Put with a failing body succeeded", what)
				}
				h.checkUnchanged(t, what+" (failing body)", key, old)
			}
		}
	}
}

// checkUnchanged checks that "existing" still holds old and anything else
// does not exist.
func (h *harness) checkUnchanged(t *testing.T, what, key string, old []byte) {
	t.Helper()
	if key != "existing" {
		h.mustNotExist(t, key)
		return
	}
	got, _ := h.get(t, key, 0, -1)
	equalBytes(t, what, got, old)
}

func testSizeMismatch(t *testing.T, h *harness) {
	body := data(5, 100_000)
	for _, ifNotExists := range []bool{false, true} {
		_, err := h.s.Put(h.ctx, h.bucket, "short", bytes.NewReader(body[:len(body)-1]), store.PutOptions{Size: int64(len(body)), IfNotExists: ifNotExists})
		if err == nil {
			t.Errorf("Put of a body shorter than Size succeeded (ifNotExists %v)", ifNotExists)
		}
		h.mustNotExist(t, "short")
		_, err = h.s.Put(h.ctx, h.bucket, "long", bytes.NewReader(body), store.PutOptions{Size: int64(len(body) - 1), IfNotExists: ifNotExists})
		if err == nil {
			// Some backends send exactly Size bytes and ignore the rest;
			// then the stored object must be exactly those bytes.
			got, _ := h.get(t, "long", 0, -1)
			if !bytes.Equal(got, body[:len(body)-1]) {
				t.Errorf("Put of a body longer than Size stored %d bytes", len(got))
			}
			if err := h.s.Delete(h.ctx, h.bucket, "long"); err != nil {
				t.Fatal(err)
			}
		} else {
			h.mustNotExist(t, "long")
		}
	}
}

func testCancelledContext(t *testing.T, h *harness) {
	h.putSimple(t, "k", []byte("x"))
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	s, b := h.s, h.bucket
	_, err := s.Put(ctx, b, "new", strings.NewReader("x"), store.PutOptions{Size: 1})
	wantErr(t, "Put", err, context.Canceled)
	h.mustNotExist(t, "new")
	_, _, err = s.Get(ctx, b, "k", 0, -1)
	wantErr(t, "Get", err, context.Canceled)
	_, err = s.Stat(ctx, b, "k")
	wantErr(t, "Stat", err, context.Canceled)
	wantErr(t, "Delete", s.Delete(ctx, b, "k"), context.Canceled)
	wantErr(t, "DeleteMany", s.DeleteMany(ctx, b, []string{"k"}), context.Canceled)
	_, err = s.Copy(ctx, b, "k", b, "k2", store.CopyOptions{})
	wantErr(t, "Copy", err, context.Canceled)
	wantErr(t, "List", s.List(ctx, b, store.ListOptions{}, func(store.Entry) error { return nil }), context.Canceled)
	_, err = s.ListBuckets(ctx)
	wantErr(t, "ListBuckets", err, context.Canceled)
	_, err = s.BucketExists(ctx, b)
	wantErr(t, "BucketExists", err, context.Canceled)
	wantErr(t, "CreateBucket", s.CreateBucket(ctx, missingBucket(b)), context.Canceled)
	if _, err := h.s.Stat(h.ctx, b, "k"); err != nil {
		t.Errorf("object gone after cancelled calls: %v", err)
	}
	h.mustNotExist(t, "k2")
	// A Get reader fails once its context is cancelled mid-read... or
	// delivers the (short) body completely; it must not hang.
	body := data(6, 2<<20)
	h.putSimple(t, "big", body)
	ctx, cancel = context.WithCancel(h.ctx)
	rc, _, err := s.Get(ctx, b, "big", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	cancel()
	got, err := io.ReadAll(rc)
	rc.Close()
	if err == nil && len(got) != len(body)-1000 {
		t.Errorf("Get after cancel: %d bytes without error", len(got))
	}
}

func testConcurrent(t *testing.T, h *harness) {
	const versions = 4
	bodies := make([][]byte, versions)
	valid := map[string]int{}
	for i := range bodies {
		bodies[i] = data(uint64(1000+i), 256<<10+i)
		valid[sum(bodies[i])] = i
	}
	h.putSimple(t, "shared", bodies[0])
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	for w := range 3 {
		wg.Go(func() {
			for i := range 6 {
				if ctx.Err() != nil {
					return
				}
				b := bodies[(w+i)%versions]
				if _, err := h.s.Put(ctx, h.bucket, "shared", bytes.NewReader(b), store.PutOptions{Size: int64(len(b))}); err != nil {
					t.Errorf("writer %d: %v", w, err)
					cancel()
					return
				}
				// Writers to distinct keys at the same time.
				k := fmt.Sprintf("own/%d/%d", w, i)
				if _, err := h.s.Put(ctx, h.bucket, k, bytes.NewReader(b[:1000]), store.PutOptions{Size: 1000}); err != nil {
					t.Errorf("writer %d: %v", w, err)
					cancel()
					return
				}
			}
		})
	}
	for r := range 3 {
		wg.Go(func() {
			for range 10 {
				if ctx.Err() != nil {
					return
				}
				rc, info, err := h.s.Get(ctx, h.bucket, "shared", 0, -1)
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					cancel()
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					cancel()
					return
				}
				v, ok := valid[sum(got)]
				if !ok {
					t.Errorf("reader %d: read %d bytes that are none of the written versions", r, len(got))
					cancel()
					return
				}
				if info.Size != int64(len(bodies[v])) {
					t.Errorf("reader %d: info.Size %d for a body of %d bytes", r, info.Size, len(got))
				}
			}
		})
	}
	wg.Wait()
	n := len(h.list(t, store.ListOptions{Prefix: "own/"}))
	if !t.Failed() && n != 18 {
		t.Errorf("listed %d own/ keys, want 18", n)
	}
}

func testBuckets(t *testing.T, h *harness) {
	ctx, s, b := h.ctx, h.s, h.bucket
	if ok, err := s.BucketExists(ctx, b); !ok || err != nil {
		t.Fatalf("BucketExists(%q) = %v, %v", b, ok, err)
	}
	wantErr(t, "CreateBucket of an existing bucket", s.CreateBucket(ctx, b), store.ErrBucketExist)
	b2, b3 := b+"-b2", b+"-b1"
	for _, nb := range []string{b2, b3} {
		if err := s.CreateBucket(ctx, nb); err != nil {
			t.Fatalf("CreateBucket(%q): %v", nb, err)
		}
		t.Cleanup(func() {
			// Best effort, for stores shared between tests.
			_ = s.DeleteMany(context.Background(), nb, []string{"k"})
			_ = s.DeleteBucket(context.Background(), nb)
		})
	}
	names, err := s.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(names) {
		t.Errorf("ListBuckets not sorted: %q", names)
	}
	for _, nb := range []string{b, b2, b3} {
		if !slices.Contains(names, nb) {
			t.Errorf("ListBuckets = %q, missing %q", names, nb)
		}
	}
	// Objects in different buckets are distinct.
	if _, err := s.Put(ctx, b2, "k", strings.NewReader("in b2"), store.PutOptions{Size: 5}); err != nil {
		t.Fatal(err)
	}
	h.mustNotExist(t, "k")
	wantErr(t, "DeleteBucket of a non-empty bucket", s.DeleteBucket(ctx, b2), store.ErrBucketNotEmpty)
	if ok, _ := s.BucketExists(ctx, b2); !ok {
		t.Fatalf("failed DeleteBucket removed the bucket")
	}
	if err := s.Delete(ctx, b2, "k"); err != nil {
		t.Fatal(err)
	}
	for _, nb := range []string{b2, b3} {
		if err := s.DeleteBucket(ctx, nb); err != nil {
			t.Fatalf("DeleteBucket(%q): %v", nb, err)
		}
		if ok, err := s.BucketExists(ctx, nb); ok || err != nil {
			t.Errorf("BucketExists(%q) after delete = %v, %v", nb, ok, err)
		}
	}
	wantErr(t, "DeleteBucket of a missing bucket", s.DeleteBucket(ctx, b2), store.ErrBucketNotExist)
	names, _ = s.ListBuckets(ctx)
	if slices.Contains(names, b2) {
		t.Errorf("ListBuckets after delete still lists %q", b2)
	}
	// A bucket can be recreated after deletion and is empty.
	if err := s.CreateBucket(ctx, b2); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.List(ctx, b2, store.ListOptions{}, func(store.Entry) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("recreated bucket: List = %d entries, %v", n, err)
	}
}

func testDelete(t *testing.T, h *harness) {
	h.putSimple(t, "d/1", []byte("1"))
	if err := h.s.Delete(h.ctx, h.bucket, "d/1"); err != nil {
		t.Fatal(err)
	}
	h.mustNotExist(t, "d/1")
	if err := h.s.Delete(h.ctx, h.bucket, "d/1"); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if got := h.list(t, store.ListOptions{}); len(got) != 0 {
		t.Errorf("after Delete the bucket lists %q", entryNames(got))
	}
	// A deleted key can be created again, also conditionally.
	if _, err := h.s.Put(h.ctx, h.bucket, "d/1", strings.NewReader("2"), store.PutOptions{Size: 1, IfNotExists: true}); err != nil {
		t.Errorf("conditional Put after Delete: %v", err)
	}
	// DeleteMany over more keys than one S3 batch holds (1000).
	var keys []string
	for i := range 1003 {
		keys = append(keys, fmt.Sprintf("many/%04d", i))
	}
	h.putKeys(t, keys)
	// A listing longer than one S3 page (1000 keys).
	if got := entryNames(h.list(t, store.ListOptions{Prefix: "many/"})); !slices.Equal(got, keys) {
		t.Fatalf("listing of %d keys: got %d keys", len(keys), len(got))
	}
	if got := entryNames(h.list(t, store.ListOptions{StartAfter: "many/0499"})); len(got) != 503 || got[0] != "many/0500" {
		t.Fatalf("listing after many/0499: %d keys", len(got))
	}
	del := append(slices.Clone(keys[:1002]), "many/missing", "d/1")
	if err := h.s.DeleteMany(h.ctx, h.bucket, del); err != nil {
		t.Fatalf("DeleteMany: %v", err)
	}
	got := entryNames(h.list(t, store.ListOptions{}))
	if !slices.Equal(got, []string{"many/1002"}) {
		t.Errorf("after DeleteMany the bucket lists %d keys (%q...)", len(got), got[:min(len(got), 5)])
	}
	if err := h.s.DeleteMany(h.ctx, h.bucket, nil); err != nil {
		t.Errorf("DeleteMany(nil): %v", err)
	}
}

func testCopy(t *testing.T, h *harness) {
	ctx, s, b := h.ctx, h.s, h.bucket
	body := data(8, 300_000)
	md := map[string]string{"orig": "yes", "non-ascii": "ü"}
	src := h.put(t, "src", body, store.PutOptions{Size: int64(len(body)), Metadata: md, ContentType: "text/src"})

	info, err := s.Copy(ctx, b, "src", b, "copy/plain", store.CopyOptions{})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	h.checkInfo(t, "Copy result", info, "copy/plain", int64(len(body)), time.Time{}, time.Time{})
	got, ginfo := h.get(t, "copy/plain", 0, -1)
	equalBytes(t, "copied content", got, body)
	if !maps.Equal(ginfo.Metadata, md) || ginfo.ContentType != "text/src" {
		t.Errorf("copy metadata %q %q, want %q %q", ginfo.Metadata, ginfo.ContentType, md, "text/src")
	}
	newMD := map[string]string{"New-Key": "new"}
	if _, err := s.Copy(ctx, b, "src", b, "copy/replaced", store.CopyOptions{ReplaceMetadata: true, Metadata: newMD, ContentType: "text/new"}); err != nil {
		t.Fatalf("Copy with metadata replace: %v", err)
	}
	got, ginfo = h.get(t, "copy/replaced", 0, -1)
	equalBytes(t, "copied content (replaced metadata)", got, body)
	if want := map[string]string{"new-key": "new"}; !maps.Equal(ginfo.Metadata, want) || ginfo.ContentType != "text/new" {
		t.Errorf("replaced metadata %q %q, want %q %q", ginfo.Metadata, ginfo.ContentType, want, "text/new")
	}
	// Source untouched.
	sinfo, err := s.Stat(ctx, b, "src")
	if err != nil || !maps.Equal(sinfo.Metadata, md) || sinfo.ETag != src.ETag {
		t.Errorf("source after copies: %+v, %v", sinfo, err)
	}
	// Metadata replaced in place (S3 allows a self-copy only with replace).
	if _, err := s.Copy(ctx, b, "src", b, "src", store.CopyOptions{ReplaceMetadata: true, Metadata: map[string]string{"v": "2"}}); err != nil {
		t.Fatalf("in-place Copy with metadata replace: %v", err)
	}
	got, ginfo = h.get(t, "src", 0, -1)
	equalBytes(t, "content after in-place copy", got, body)
	if !maps.Equal(ginfo.Metadata, map[string]string{"v": "2"}) {
		t.Errorf("metadata after in-place copy %q", ginfo.Metadata)
	}
	// Overwriting an existing destination, and copying an empty object.
	h.putSimple(t, "empty", nil)
	if _, err := s.Copy(ctx, b, "empty", b, "copy/plain", store.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ = h.get(t, "copy/plain", 0, -1)
	if len(got) != 0 {
		t.Errorf("copy of empty object over another: %d bytes", len(got))
	}
	// To another bucket.
	b2 := b + "-c2"
	if err := s.CreateBucket(ctx, b2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Delete(context.Background(), b2, "x")
		_ = s.DeleteBucket(context.Background(), b2)
	})
	if _, err := s.Copy(ctx, b, "copy/replaced", b2, "x", store.CopyOptions{}); err != nil {
		t.Fatalf("Copy to another bucket: %v", err)
	}
	rc, _, err := s.Get(ctx, b2, "x", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rc)
	rc.Close()
	equalBytes(t, "cross-bucket copy", got, body)
	// Invalid metadata on copy.
	_, err = s.Copy(ctx, b, "src", b, "copy/bad", store.CopyOptions{ReplaceMetadata: true, Metadata: map[string]string{"bad key": "x"}})
	wantErr(t, "Copy with invalid metadata", err, store.ErrInvalidMetadata)
	h.mustNotExist(t, "copy/bad")

	// Conditional copy: only of the version whose ETag is given.
	v1, err := s.Put(ctx, b, "cond", bytes.NewReader([]byte("version one")), store.PutOptions{Size: 11})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(ctx, b, "cond", b, "copy/cond", store.CopyOptions{IfMatch: v1.ETag}); err != nil {
		t.Fatalf("Copy with the current ETag: %v", err)
	}
	if _, err := s.Put(ctx, b, "cond", bytes.NewReader([]byte("version two!")), store.PutOptions{Size: 12}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Copy(ctx, b, "cond", b, "copy/cond2", store.CopyOptions{IfMatch: v1.ETag})
	wantErr(t, "Copy with a replaced version's ETag", err, store.ErrObjectChanged)
	h.mustNotExist(t, "copy/cond2")
	_, err = s.Copy(ctx, b, "cond", b, "copy/cond", store.CopyOptions{IfMatch: v1.ETag, ReplaceMetadata: true, Metadata: map[string]string{"k": "v"}})
	wantErr(t, "Copy over an existing object with a replaced version's ETag", err, store.ErrObjectChanged)
	rc, _, err = s.Get(ctx, b, "copy/cond", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rc)
	rc.Close()
	equalBytes(t, "copy left by a failed conditional copy", got, []byte("version one"))
}

func testTags(t *testing.T, h *harness) {
	ctx, s, b := h.ctx, h.s, h.bucket
	body := []byte("tagged body")
	tags := map[string]string{
		"project":     "deltaglider",
		"Case":        "Sensitive Value",
		"non-ascii":   "héllo wörld 日本語",
		"punct":       "a+b-c=d.e_f:g/h@i",
		"empty-value": "",
	}
	for i := len(tags); i < store.MaxTags; i++ {
		tags[fmt.Sprintf("k%d", i)] = strings.Repeat("v", store.MaxTagValueLen)
	}
	// At the limits (in ASCII: versitygw v1.8.0 measures the URL-encoded
	// form, so a non-ASCII key or value near the limit is refused there).
	tags[strings.Repeat("k", store.MaxTagKeyLen)] = strings.Repeat("v", store.MaxTagValueLen)
	delete(tags, "k9")
	h.put(t, "tagged", body, store.PutOptions{Size: int64(len(body)), Tags: tags, Metadata: map[string]string{"m": "1"}})
	got, err := s.Tags(ctx, b, "tagged")
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, tags) {
		t.Errorf("Tags = %q, want %q", got, tags)
	}
	// Tags are not metadata.
	if info, err := s.Stat(ctx, b, "tagged"); err != nil || !maps.Equal(info.Metadata, map[string]string{"m": "1"}) {
		t.Errorf("Stat after a tagged Put: %v %q", err, info.Metadata)
	}
	// The caller's map is not retained.
	tags["project"] = "changed"
	if got, _ := s.Tags(ctx, b, "tagged"); got["project"] != "deltaglider" {
		t.Errorf("store retained the caller's tags map")
	}
	tags["project"] = "deltaglider"

	// An object put without tags has none, also after overwriting a tagged one.
	h.putSimple(t, "untagged", body)
	if got, err := s.Tags(ctx, b, "untagged"); err != nil || len(got) != 0 {
		t.Errorf("Tags of an untagged object = %q, %v", got, err)
	}
	h.put(t, "retagged", body, store.PutOptions{Size: int64(len(body)), Tags: map[string]string{"a": "1"}})
	h.putSimple(t, "retagged", body)
	if got, err := s.Tags(ctx, b, "retagged"); err != nil || len(got) != 0 {
		t.Errorf("Tags after an untagged overwrite = %q, %v", got, err)
	}

	// Copy keeps the source's tags unless told to replace them.
	if _, err := s.Copy(ctx, b, "tagged", b, "copy-keep", store.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tags(ctx, b, "copy-keep"); err != nil || !maps.Equal(got, tags) {
		t.Errorf("Tags of a copy = %q, %v; want the source's", got, err)
	}
	repl := map[string]string{"stage": "copied"}
	if _, err := s.Copy(ctx, b, "tagged", b, "copy-repl", store.CopyOptions{ReplaceTags: true, Tags: repl}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tags(ctx, b, "copy-repl"); err != nil || !maps.Equal(got, repl) {
		t.Errorf("Tags of a copy with ReplaceTags = %q, %v; want %q", got, err, repl)
	}
	if _, err := s.Copy(ctx, b, "tagged", b, "copy-none", store.CopyOptions{ReplaceTags: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tags(ctx, b, "copy-none"); err != nil || len(got) != 0 {
		t.Errorf("Tags of a copy with ReplaceTags and no tags = %q, %v", got, err)
	}
	// Re-tagging an object in place through Copy.
	if _, err := s.Copy(ctx, b, "copy-none", b, "copy-none", store.CopyOptions{ReplaceTags: true, Tags: repl}); err != nil {
		t.Fatalf("Copy onto itself with new tags: %v", err)
	}
	if got, err := s.Tags(ctx, b, "copy-none"); err != nil || !maps.Equal(got, repl) {
		t.Errorf("Tags after re-tagging in place = %q, %v", got, err)
	}
	if data, _ := h.get(t, "copy-none", 0, -1); !bytes.Equal(data, body) {
		t.Errorf("re-tagging in place changed the body")
	}

	// Tags that S3 refuses are refused by every store, and nothing is stored.
	eleven := map[string]string{}
	for i := range store.MaxTags + 1 {
		eleven[fmt.Sprintf("k%d", i)] = "v"
	}
	bad := []map[string]string{
		eleven,
		{"": "v"},
		{strings.Repeat("k", store.MaxTagKeyLen+1): "v"},
		{"k": strings.Repeat("v", store.MaxTagValueLen+1)},
		{strings.Repeat("é", store.MaxTagKeyLen/2) + "k": "v"},
		{"aws:reserved": "v"},
		{"semi;colon": "v"},
		{"k": "new\nline"},
		{"k": "amp&ersand"},
	}
	for i, tg := range bad {
		key := fmt.Sprintf("badtags%d", i)
		_, err := s.Put(ctx, b, key, bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), Tags: tg})
		wantErr(t, "Put with invalid tags "+key, err, store.ErrInvalidTags)
		h.mustNotExist(t, key)
		_, err = s.Copy(ctx, b, "tagged", b, key, store.CopyOptions{ReplaceTags: true, Tags: tg})
		wantErr(t, "Copy with invalid tags "+key, err, store.ErrInvalidTags)
		h.mustNotExist(t, key)
	}

	_, err = s.Tags(ctx, b, "missing")
	wantErr(t, "Tags of a missing object", err, store.ErrNotExist)
	_, err = s.Tags(ctx, missingBucket(b), "k")
	wantErr(t, "Tags in a missing bucket", err, store.ErrBucketNotExist)
}
