package delta

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMetaSpellings(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	for _, k := range []string{"dg-file-sha256", "dg_file_sha256", "file_sha256", "file-sha256", "DG-File-SHA256"} {
		m, user, err := parseMeta(map[string]string{k: strings.ToUpper(sha), "owner": "me"})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if m.FileSHA256 != sha || !m.managed() {
			t.Errorf("%s: FileSHA256 = %q", k, m.FileSHA256)
		}
		if len(user) != 1 || user["owner"] != "me" {
			t.Errorf("%s: user metadata = %v", k, user)
		}
	}
	// Old bare keys as Python <6.1.2 wrote for direct uploads.
	m, user, err := parseMeta(map[string]string{
		"file_sha256": sha, "file_size": "12", "compression": "none", "original_name": "a.txt",
		"tool": "deltaglider/5.0", "created_at": "2024-01-01T00:00:00Z",
	})
	if err != nil || !m.isDirect() || m.FileSize != 12 || m.OriginalName != "a.txt" || len(user) != 0 {
		t.Fatalf("bare keys: %+v user=%v err=%v", m, user, err)
	}
	// Unmanaged objects keep bare-looking keys as user metadata.
	m, user, _ = parseMeta(map[string]string{"note": "mine", "tool": "hammer"})
	if m.managed() || user["note"] != "mine" || user["tool"] != "hammer" {
		t.Fatalf("unmanaged: %+v %v", m, user)
	}
	for _, bad := range []map[string]string{
		{"dg-file-sha256": "xyz"},
		{"dg-file-sha256": sha, "dg-file-size": "-1"},
		{"dg-file-sha256": sha, "dg-delta-size": "many"},
		{"dg-file-sha256": sha, "dg-ref-sha256": sha + "00"},
	} {
		if _, _, err := parseMeta(bad); !errors.Is(err, ErrInvalidMetadata) {
			t.Errorf("%v: err = %v, want ErrInvalidMetadata", bad, err)
		}
	}
}

func TestMetaEncodeRoundTrip(t *testing.T) {
	in := meta{Tool: "deltaglider-go/x", OriginalName: "a.zip", FileSHA256: strings.Repeat("01", 32),
		FileSize: 99, CreatedAt: "2026-01-02T03:04:05Z", RefKey: "p/reference.bin", RefPath: "reference.bin",
		RefSHA256: strings.Repeat("cd", 32), DeltaSize: 7, DeltaCmd: "cmd", Note: noteDelta, Codec: CodecVCDIFF}
	md := in.encode(map[string]string{"Owner": "me"})
	for _, k := range []string{"dg-tool", "dg-original-name", "dg-file-sha256", "dg-file-size", "dg-created-at",
		"dg-ref-key", "dg-ref-path", "dg-ref-sha256", "dg-delta-size", "dg-delta-cmd", "dg-note", "dg-codec", "owner"} {
		if md[k] == "" {
			t.Errorf("encoded metadata lacks %s: %v", k, md)
		}
	}
	out, user, err := parseMeta(md)
	if err != nil || out != in || len(user) != 1 || user["owner"] != "me" {
		t.Fatalf("round trip: %+v %v %v", out, user, err)
	}
	if err := checkUserMeta(map[string]string{"dg-x": "1"}); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("dg- user key accepted")
	}
	if err := checkUserMeta(map[string]string{"file_sha256": "1"}); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("file_sha256 user key accepted")
	}
	if err := checkUserMeta(map[string]string{"owner": "1"}); err != nil {
		t.Error(err)
	}
}

func TestEligibleByName(t *testing.T) {
	yes := []string{"a.zip", "A.ZIP", "x.tar.gz", "x.tgz", "x.tar.bz2", "x.tar.xz", "x.jar", "x.deb", "x.rpm",
		"x.apk", "x.iso", "x.dmg", "x.7z", "x.rar", "x.war", "x.ear", "x.pkg", "x.gz", "x.bz2", "x.xz",
		"db.sql", "db.dump", "f.bak", "f.backup", "a.exe", "b.DLL", "libc.so", "x.dylib",
		"driver.sys", "libz.so.1", "libz.so.1.2.13"}
	no := []string{"a.txt", "a.json", "README", "zip", ".zip", "a.zip.sha256", "a.png", "notes.so.txt", ".so"}
	for _, n := range yes {
		if !EligibleByName(n) {
			t.Errorf("%s not eligible", n)
		}
	}
	for _, n := range no {
		if EligibleByName(n) {
			t.Errorf("%s eligible", n)
		}
	}
}

func TestIsExecutable(t *testing.T) {
	elf := []byte("\x7fELF\x02\x01\x01")
	for _, tc := range []struct {
		name string
		head []byte
		want bool
	}{
		{"esbuild", elf, true}, {"a.zip", elf, true}, {"tool.exe", nil, true}, {"x.DLL", nil, true},
		{"libz.so", nil, true}, {"libz.so.1", nil, true}, {"libz.so.1.2.13", nil, true}, {"x.dylib", nil, true},
		{"a.zip", []byte("PK\x03\x04"), false}, {"notes.so.txt", nil, false}, {".so", nil, false},
		{"x.tar", nil, false}, {"README", []byte("hello"), false},
	} {
		if got := IsExecutable(tc.name, tc.head); got != tc.want {
			t.Errorf("IsExecutable(%q, %q) = %v", tc.name, tc.head, got)
		}
	}
}

func TestSniff(t *testing.T) {
	tarHead := make([]byte, 512)
	copy(tarHead[257:], "ustar\x0000")
	pe := make([]byte, 256)
	copy(pe, "MZ")
	pe[0x3c] = 0x80
	copy(pe[0x80:], "PE\x00\x00")
	cases := map[string][]byte{
		"zip": []byte("PK\x03\x04rest"), "gzip": {0x1f, 0x8b, 8, 0}, "xz": {0xfd, '7', 'z', 'X', 'Z', 0, 0},
		"zstd": {0x28, 0xb5, 0x2f, 0xfd, 0}, "bzip2": []byte("BZh91AY"), "7z": {'7', 'z', 0xbc, 0xaf, 0x27, 0x1c, 0},
		"tar": tarHead, "elf": []byte("\x7fELF\x02\x01"), "pe": pe, "macho": {0xcf, 0xfa, 0xed, 0xfe, 7},
		"rpm": {0xed, 0xab, 0xee, 0xdb, 3}, "ar": []byte("!<arch>\ndebian-binary"), "squashfs": []byte("hsqs...."),
	}
	for want, head := range cases {
		if got := SniffKind(head); got != want {
			t.Errorf("SniffKind(%s) = %q", want, got)
		}
	}
	for _, h := range [][]byte{nil, []byte("hello world"), []byte("{\"a\":1}"), []byte("MZ"), make([]byte, 600)} {
		if k := SniffKind(h); k != "" {
			t.Errorf("SniffKind(%q) = %q, want none", h[:min(len(h), 12)], k)
		}
	}
}

func TestLayout(t *testing.T) {
	for _, k := range []string{"reference.bin", "p/reference.bin", "a.delta", "p/q/x.zip.delta", ".deltaglider/stats.json", "", "p/"} {
		if checkKey(k) == nil {
			t.Errorf("checkKey(%q) accepted", k)
		}
	}
	if err := checkKey("p/reference.bin"); !errors.Is(err, ErrReservedKey) {
		t.Errorf("err = %v", err)
	}
	for _, k := range []string{"a.zip", "p/q/a.zip", "p/reference.bin.txt", "p/deltas/x"} {
		if err := checkKey(k); err != nil {
			t.Errorf("checkKey(%q): %v", k, err)
		}
	}
	if s, n := deltaspace("a/b/c.zip"); s != "a/b" || n != "c.zip" {
		t.Errorf("deltaspace = %q %q", s, n)
	}
	if refKey("x.zip") != "reference.bin" || refKey("a/x.zip") != "a/reference.bin" {
		t.Error("refKey")
	}
	for _, c := range []struct {
		key  string
		m    meta
		want string
	}{
		{"p/x.delta", meta{}, "p/reference.bin"},
		{"p/x.delta", meta{RefKey: "p/reference.bin"}, "p/reference.bin"},
		{"p/x.delta", meta{RefPath: "reference.bin"}, "p/reference.bin"},
		{"x.delta", meta{RefPath: "reference.bin"}, "reference.bin"},
		{"p/x.delta", meta{RefKey: "q/reference.bin", RefPath: "reference.bin"}, "q/reference.bin"},
	} {
		if got := resolveRef(c.key, &c.m); got != c.want {
			t.Errorf("resolveRef(%q, %+v) = %q, want %q", c.key, c.m, got, c.want)
		}
	}
}

func TestAppHeader(t *testing.T) {
	for h, want := range map[string]externalComp{
		"":                        {},
		"new.zip//ref.zip/":       {},
		"-//reference.bin/":       {},
		"a.tar.gz/G/ref.tar.gz/G": {"G", "G"},
		"a.bz2/B/reference.bin/":  {"B", ""},
		"a/Y":                     {"Y", ""},
		"x/G9/y/G9":               {"G", "G"},
		"free text":               {},
	} {
		got, err := parseAppHeader([]byte(h))
		if err != nil || got != want {
			t.Errorf("parseAppHeader(%q) = %+v, %v; want %+v", h, got, err, want)
		}
	}
	if _, err := parseAppHeader([]byte("a/Q/b/")); !errors.Is(err, ErrExternalCompression) {
		t.Errorf("unknown comp letter: %v", err)
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	c, err := NewCache(dir, 3000)
	if err != nil {
		t.Fatal(err)
	}
	data := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 1000) }
	fetches := 0
	get := func(i int) *refFile {
		t.Helper()
		id := cacheID("b", "k"+string(rune('0'+i)), "etag", 1000)
		if rf, ok := c.open(id, 1000); ok {
			return rf
		}
		fetches++
		rf, err := c.fill(id, 1000, func(w io.Writer) error { _, err := w.Write(data(i)); return err })
		if err != nil {
			t.Fatal(err)
		}
		return rf
	}
	check := func(rf *refFile, i int) {
		t.Helper()
		got := make([]byte, 1000)
		if _, err := rf.ReadAt(got, 0); err != nil || !bytes.Equal(got, data(i)) {
			t.Fatalf("content of %d wrong: %v", i, err)
		}
		s := sha256.Sum256(data(i))
		if rf.SHA256 != hex.EncodeToString(s[:]) {
			t.Fatalf("sha of %d wrong", i)
		}
		rf.Close()
	}
	// Uses are ordered by file times; space them beyond the file system's
	// timestamp granularity.
	tick := func() { time.Sleep(20 * time.Millisecond) }
	for i := 0; i < 3; i++ {
		check(get(i), i)
		tick()
	}
	check(get(1), 1)
	if fetches != 3 {
		t.Fatalf("fetches = %d, want 3 (second get of 1 should hit)", fetches)
	}
	// Corrupt entry 1 on disk: detected, refetched.
	sum := blake3Hex(data(1))
	if err := os.WriteFile(c.objPath(sum), bytes.Repeat([]byte{9}, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	check(get(1), 1)
	if fetches != 4 {
		t.Fatalf("corrupt entry not refetched (fetches = %d)", fetches)
	}
	tick()
	check(get(0), 0) // a hit: 0, the oldest entry, is now the most recently used
	tick()
	// A fourth entry exceeds the 3000-byte cap: the least recently used
	// one (2; not 0, the first stored) goes.
	check(get(3), 3)
	if _, err := os.Stat(c.objPath(blake3Hex(data(2)))); !os.IsNotExist(err) {
		t.Errorf("LRU entry 2 not evicted: %v", err)
	}
	for _, i := range []int{0, 1, 3} {
		if _, err := os.Stat(c.objPath(blake3Hex(data(i)))); err != nil {
			t.Errorf("entry %d evicted: %v", i, err)
		}
	}
	check(get(3), 3)
	check(get(0), 0)
	if fetches != 5 {
		t.Errorf("fetches = %d, want 5", fetches)
	}
	// Too big for the cap: served from an unlinked temp file, not cached.
	big := bytes.Repeat([]byte{7}, 5000)
	rf, err := c.fill("big", 5000, func(w io.Writer) error { _, err := w.Write(big); return err })
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(io.NewSectionReader(rf, 0, 5000))
	rf.Close()
	if !bytes.Equal(got, big) {
		t.Error("big content wrong")
	}
	if _, ok := c.open("big", 5000); ok {
		t.Error("oversized reference was cached")
	}
	// A short fetch is an error and leaves nothing behind.
	if _, err := c.fill("short", 10, func(w io.Writer) error { _, err := w.Write([]byte("abc")); return err }); err == nil {
		t.Error("short fetch accepted")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("tmp not clean: %v", ents)
	}
}

func blake3Hex(b []byte) string {
	h := newBlake3()
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
