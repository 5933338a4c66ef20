package delta

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/store"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// pyBucket lays out a deltaspace exactly as the Python DeltaGlider CLI
// does, with deltas made by stock xdelta3 the way it calls it
// (xdelta3 -e -f -9 -s reference.bin <file> <file>.delta: default LZMA
// secondary compression, app header, Adler-32).
type pyBucket struct {
	t      *testing.T
	ts     testStore
	xd     string
	dir    string
	prefix string
	ref    []byte
}

func newPyBucket(t *testing.T, ts testStore, prefix string, ref []byte, refMeta map[string]string) *pyBucket {
	t.Helper()
	p := &pyBucket{t: t, ts: ts, xd: testtool.Tool(t, "xdelta3"), dir: t.TempDir(), prefix: prefix, ref: ref}
	if err := os.WriteFile(filepath.Join(p.dir, "reference.bin"), ref, 0o600); err != nil {
		t.Fatal(err)
	}
	md := map[string]string{"dg-tool": "deltaglider/6.1.2", "dg-source-name": "first.zip", "dg-file-sha256": sha(ref),
		"dg-created-at": "2025-10-01T12:00:00.123456Z", "dg-note": "reference"}
	if refMeta != nil {
		md = refMeta
	}
	p.putRaw(prefix+"/reference.bin", ref, md)
	return p
}

func (p *pyBucket) putRaw(key string, data []byte, md map[string]string) {
	p.t.Helper()
	if _, err := p.ts.s.Put(context.Background(), p.ts.bucket, key, bytes.NewReader(data), store.PutOptions{
		Size: int64(len(data)), Metadata: md}); err != nil {
		p.t.Fatal(err)
	}
}

// stored returns the bytes of a stored object.
func (p *pyBucket) stored(key string) []byte {
	p.t.Helper()
	rc, _, err := p.ts.s.Get(context.Background(), p.ts.bucket, key, 0, -1)
	if err != nil {
		p.t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

// xdelta runs stock xdelta3 like the Python tool and returns the delta.
func (p *pyBucket) xdelta(name string, data []byte) []byte {
	p.t.Helper()
	in := filepath.Join(p.dir, name)
	if err := os.WriteFile(in, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.xd, "-e", "-f", "-9", "-s", "reference.bin", name, name+".delta")
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("xdelta3: %v\n%s", err, out)
	}
	d, err := os.ReadFile(in + ".delta")
	if err != nil {
		p.t.Fatal(err)
	}
	return d
}

// canonical returns the delta metadata Python v6+ writes; spell renames
// the keys into an older spelling.
func (p *pyBucket) deltaMeta(name string, data, delta []byte, note string, spell func(string) string) map[string]string {
	md := map[string]string{
		"dg-tool": "deltaglider/6.1.2", "dg-original-name": name, "dg-file-sha256": sha(data),
		"dg-file-size": fmt.Sprint(len(data)), "dg-created-at": "2025-10-01T12:00:01.5Z",
		"dg-ref-key": p.prefix + "/reference.bin", "dg-ref-sha256": sha(p.ref), "dg-delta-size": fmt.Sprint(len(delta)),
		"dg-delta-cmd": fmt.Sprintf("xdelta3 -e -9 -s reference.bin %s %s.delta", name, name),
	}
	if note != "" {
		md["dg-note"] = note
	}
	if spell == nil {
		return md
	}
	out := map[string]string{}
	for k, v := range md {
		out[spell(strings.TrimPrefix(k, "dg-"))] = v
	}
	return out
}

func (p *pyBucket) putDelta(name string, data []byte, note string, spell func(string) string) {
	p.t.Helper()
	d := p.xdelta(name, data)
	p.putRaw(p.prefix+"/"+name+".delta", d, p.deltaMeta(name, data, d, note, spell))
}

var (
	spellUnderscoreDG = func(f string) string { return "dg_" + strings.ReplaceAll(f, "-", "_") }
	spellBareUnder    = func(f string) string { return strings.ReplaceAll(f, "-", "_") }
	spellBareDash     = func(f string) string { return f }
)

func TestCompatPythonBucket(t *testing.T) {
	forEachStore(t, func(t *testing.T, ts testStore) {
		vs := versions(21, 6, 150<<10)
		p := newPyBucket(t, ts, "releases/1.x", vs[0], nil)
		p.putDelta("app-1.0.zip", vs[0], "zero-diff (reference identical)", nil) // the first file's zero-diff delta
		p.putDelta("app-1.1.zip", vs[1], "", nil)
		p.putDelta("app-1.2.zip", vs[2], "", spellUnderscoreDG)
		p.putDelta("app-1.3.zip", vs[3], "", spellBareUnder)
		p.putDelta("app-1.4.zip", vs[4], "", spellBareDash)
		// The Rust proxy's spelling: dg-ref-path relative to the deltaspace.
		d := p.xdelta("app-1.5.zip", vs[5])
		md := p.deltaMeta("app-1.5.zip", vs[5], d, "delta", nil)
		delete(md, "dg-ref-key")
		md["dg-ref-path"] = "reference.bin"
		p.putRaw("releases/1.x/app-1.5.zip.delta", d, md)
		// Direct uploads, v6.1.2+ (dg- keys) and older (bare keys).
		txt := []byte("sha256sums\n")
		p.putRaw("releases/1.x/SHA256SUMS.txt", txt, map[string]string{"dg-tool": "deltaglider/6.1.2",
			"dg-original-name": "SHA256SUMS.txt", "dg-file-sha256": sha(txt), "dg-file-size": fmt.Sprint(len(txt)),
			"dg-created-at": "2025-10-01T12:00:00Z", "dg-compression": "none"})
		old := []byte("{\"old\":true}")
		p.putRaw("releases/1.x/meta.json", old, map[string]string{"tool": "deltaglider/5.1.0",
			"original_name": "meta.json", "file_sha256": sha(old), "file_size": fmt.Sprint(len(old)),
			"created_at": "2025-01-01T00:00:00", "compression": "none"})

		// The fixtures are what stock xdelta3 -9 writes: LZMA secondary
		// compression (ID 2) in every window of every non-empty delta.
		for i := range vs {
			d := p.stored(fmt.Sprintf("releases/1.x/app-1.%d.zip.delta", i))
			pi, err := vcdiff.Inspect(bytes.NewReader(d))
			if err != nil || pi.Secondary != vcdiff.SecondaryLZMA || len(pi.Windows) == 0 {
				t.Fatalf("fixture %d: %+v, %v", i, pi, err)
			}
			for _, w := range pi.Windows {
				if i > 0 && w.DeltaIndicator == 0 {
					t.Fatalf("fixture %d: a window without LZMA sections: %+v", i, w)
				}
			}
		}
		c := newClient(t, ts.s)
		for i, v := range vs {
			key := fmt.Sprintf("releases/1.x/app-1.%d.zip", i)
			info := mustGet(t, c, ts.bucket, key, v)
			if info.StoredAs != Delta || info.RefKey != "releases/1.x/reference.bin" || info.SHA256 != sha(v) {
				t.Errorf("%s: %+v", key, info)
			}
			if _, err := c.Verify(context.Background(), ts.bucket, key, nil); err != nil {
				t.Errorf("Verify %s: %v", key, err)
			}
		}
		for key, want := range map[string][]byte{"releases/1.x/SHA256SUMS.txt": txt, "releases/1.x/meta.json": old} {
			if info := mustGet(t, c, ts.bucket, key, want); info.StoredAs != Direct {
				t.Errorf("%s: %v", key, info.StoredAs)
			}
		}
		var listed []string
		if err := c.List(context.Background(), ts.bucket, ListOptions{Prefix: "releases/"}, func(e ListEntry) error {
			listed = append(listed, fmt.Sprintf("%s:%d", strings.TrimPrefix(e.Key, "releases/1.x/"), e.Size))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := []string{"SHA256SUMS.txt:11"}
		for i, v := range vs {
			want = append(want, fmt.Sprintf("app-1.%d.zip:%d", i, len(v)))
		}
		want = append(want, "meta.json:12")
		if strings.Join(listed, " ") != strings.Join(want, " ") {
			t.Errorf("List:\n got %v\nwant %v", listed, want)
		}

		// We add to the Python deltaspace: our delta goes against its
		// reference, and stock xdelta3 (what Python runs) decodes it.
		v7 := versions(21, 7, 150<<10)[6]
		info := put(t, c, ts.bucket, "releases/1.x/app-1.6.zip", v7)
		if info.StoredAs != Delta || info.CreatedReference {
			t.Fatalf("put into Python deltaspace: %+v", info)
		}
		rc, _, err := ts.s.Get(context.Background(), ts.bucket, "releases/1.x/app-1.6.zip.delta", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		var ours bytes.Buffer
		ours.ReadFrom(rc)
		rc.Close()
		dp := filepath.Join(p.dir, "ours.delta")
		os.WriteFile(dp, ours.Bytes(), 0o600)
		cmd := exec.Command(p.xd, "-d", "-f", "-s", "reference.bin", "ours.delta", "ours.out")
		cmd.Dir = p.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("stock xdelta3 cannot decode our delta: %v\n%s", err, out)
		}
		if got, _ := os.ReadFile(filepath.Join(p.dir, "ours.out")); !bytes.Equal(got, v7) {
			t.Fatal("stock xdelta3 decodes our delta to different bytes")
		}
	})
}

// TestCompatExternalCompression: the Python tool lets xdelta3 decompress
// gzip inputs (app header /G/). Such a delta is reconstructed when gzip
// reproduces the original bytes, and refused with a clear error otherwise.
func TestCompatExternalCompression(t *testing.T) {
	testtool.Tool(t, "gzip")
	ts := newBucket(t, "memory", store.NewMemory())
	vs := versions(31, 2, 120<<10)
	gz := testtool.Tool(t, "gzip")
	gnuGzip := func(b []byte) []byte { // byte-reproducible, like `gzip -n`
		cmd := exec.Command(gz, "-c", "-n")
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	goGzip := func(b []byte) []byte { // what Python's gzip module-like writers make: not reproducible by gzip
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, 9)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	ref := gnuGzip(vs[0])
	p := newPyBucket(t, ts, "gz", ref, nil)
	good := gnuGzip(vs[1])
	bad := goGzip(vs[1])
	p.putDelta("good.tar.gz", good, "", nil)
	p.putDelta("bad.tar.gz", bad, "", nil)
	for _, name := range []string{"good.tar.gz", "bad.tar.gz"} {
		d, _ := os.ReadFile(filepath.Join(p.dir, name+".delta"))
		if !bytes.Contains(d[:64], []byte(name+"/G/reference.bin/G")) {
			t.Fatalf("fixture %s has no /G/ app header: %q", name, d[:64])
		}
	}
	c := newClient(t, ts.s)
	mustGet(t, c, ts.bucket, "gz/good.tar.gz", good)
	_, _, err := get(t, c, ts.bucket, "gz/bad.tar.gz")
	if !errors.Is(err, ErrExternalCompression) || !strings.Contains(err.Error(), "cannot be recovered") {
		t.Fatalf("err = %v, want ErrExternalCompression explaining why", err)
	}
	// We never write /G/ deltas: a new gzip put into the deltaspace gets a
	// plain delta that stock xdelta3 decodes with -D semantics unaffected.
	info := put(t, c, ts.bucket, "gz/new.tar.gz", goGzip(vs[0]))
	if info.StoredAs == Delta {
		rc, _, _ := ts.s.Get(context.Background(), ts.bucket, "gz/new.tar.gz.delta", 0, -1)
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		if bytes.Contains(b.Bytes()[:min(64, b.Len())], []byte("/G")) {
			t.Fatal("we wrote an external-compression app header")
		}
	}
	mustGet(t, c, ts.bucket, "gz/new.tar.gz", goGzip(vs[0]))
}

// TestCompatExternalBzip2Xz: the same for bzip2 (/B/) and xz (/Y/) inputs,
// which stock xdelta3 also decompresses; both tools are deterministic, so
// these deltas are recoverable.
func TestCompatExternalBzip2Xz(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	vs := versions(33, 2, 120<<10)
	for _, tc := range []struct{ tool, letter, ext string }{{"bzip2", "B", ".tar.bz2"}, {"xz", "Y", ".tar.xz"}} {
		t.Run(tc.tool, func(t *testing.T) {
			bin := testtool.Tool(t, tc.tool)
			comp := func(b []byte) []byte {
				cmd := exec.Command(bin, "-c")
				cmd.Stdin = bytes.NewReader(b)
				out, err := cmd.Output()
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			p := newPyBucket(t, ts, tc.tool, comp(vs[0]), nil)
			target := comp(vs[1])
			name := "v1" + tc.ext
			p.putDelta(name, target, "", nil)
			d, _ := os.ReadFile(filepath.Join(p.dir, name+".delta"))
			if hdr := name + "/" + tc.letter + "/reference.bin/" + tc.letter; !bytes.Contains(d[:64], []byte(hdr)) {
				t.Fatalf("fixture lacks app header %q: %q", hdr, d[:64])
			}
			c := newClient(t, ts.s)
			mustGet(t, c, ts.bucket, tc.tool+"/"+name, target)
			if tc.letter != "Y" {
				return
			}
			// xz's other letter: xdelta3 3.0.x writes Y, later versions X.
			x := bytes.Replace(d, []byte("/Y/reference.bin/Y"), []byte("/X/reference.bin/X"), 1)
			p.putRaw(tc.tool+"/vx"+tc.ext+".delta", x, p.deltaMeta("vx"+tc.ext, target, x, "", nil))
			mustGet(t, c, ts.bucket, tc.tool+"/vx"+tc.ext, target)
			// A result longer than recorded is cut off, not written out.
			p.putRaw(tc.tool+"/short"+tc.ext+".delta", d, p.deltaMeta("short"+tc.ext, target[:100], d, "", nil))
			_, _, err := get(t, c, ts.bucket, tc.tool+"/short"+tc.ext)
			if !errors.Is(err, ErrExternalCompression) || !strings.Contains(err.Error(), "beyond the recorded size of 100 bytes") {
				t.Fatalf("oversized result: %v", err)
			}
		})
	}
}

// TestSecondaryCompressionInterop: deltas written with each secondary
// compressor are decoded by stock xdelta3 (as the Python tool runs it) and
// by us, and LZMA (the default) makes them smaller than none.
func TestSecondaryCompressionInterop(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	ts := newBucket(t, "memory", store.NewMemory())
	// Version 2 rewrites the start of every 4 KiB block with new text, so
	// the delta carries a lot of compressible added data.
	base := randBytes(34, 3<<20)
	next := bytes.Clone(base)
	for off := 0; off+512 < len(next); off += 4096 {
		copy(next[off:off+512], fmt.Sprintf("%0512d", off*7919))
	}
	vs := [][]byte{base, next}
	sizes := map[string]int64{}
	for _, sec := range []string{"none", "djw", "lzma"} {
		c := newClient(t, ts.s, WithSecondary(sec))
		put(t, c, ts.bucket, sec+"/a.zip", vs[0])
		info := put(t, c, ts.bucket, sec+"/b.zip", vs[1])
		if info.StoredAs != Delta {
			t.Fatalf("%s: %+v", sec, info)
		}
		sizes[sec] = info.StoredSize
		mustGet(t, newClient(t, ts.s), ts.bucket, sec+"/b.zip", vs[1])
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "reference.bin"), vs[0], 0o600)
		rc, _, err := ts.s.Get(context.Background(), ts.bucket, sec+"/b.zip.delta", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		var d bytes.Buffer
		d.ReadFrom(rc)
		rc.Close()
		os.WriteFile(filepath.Join(dir, "b.delta"), d.Bytes(), 0o600)
		cmd := exec.Command(xd, "-d", "-f", "-s", "reference.bin", "b.delta", "b.out")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: stock xdelta3 cannot decode our delta: %v\n%s", sec, err, out)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "b.out")); !bytes.Equal(got, vs[1]) {
			t.Fatalf("%s: stock xdelta3 decodes our delta to different bytes", sec)
		}
		// A range of a secondary-compressed delta is decoded from the start.
		rr, _, err := c.Get(context.Background(), ts.bucket, sec+"/b.zip", GetOptions{Offset: 2 << 20, Length: 100})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rr)
		rr.Close()
		if err != nil || !bytes.Equal(got, vs[1][2<<20:2<<20+100]) {
			t.Fatalf("%s: range read wrong: %v", sec, err)
		}
	}
	t.Logf("delta sizes: %v", sizes)
	if sizes["lzma"] >= sizes["none"] {
		t.Errorf("LZMA secondary did not shrink the delta: %v", sizes)
	}
}

// pyMetaCheck parses metadata the way the Python DeltaGlider v6 does
// (core/models.py DeltaMeta.from_dict for deltas, the reference's
// dg-file-sha256 for new deltas, dg-compression for direct objects), with
// Python's own int() and datetime.fromisoformat, and prints one line per
// object: "ok <key>" or the exception.
const pyMetaCheck = `
import json, sys
from datetime import datetime
for o in json.load(sys.stdin):
    md, key = o["md"], o["key"]
    try:
        if o["kind"] == "delta":
            for f in ("tool", "original-name", "file-sha256", "ref-key", "ref-sha256"):
                assert md["dg-" + f], f
            int(md["dg-file-size"]); int(md["dg-delta-size"])
            datetime.fromisoformat(md["dg-created-at"].rstrip("Z"))
            assert md["dg-ref-key"] == o["ref"], md["dg-ref-key"]
            assert md.get("dg-note") in (None, "delta", "zero-diff (reference identical)")
        elif o["kind"] == "reference":
            assert len(md["dg-file-sha256"]) == 64
            datetime.fromisoformat(md["dg-created-at"].rstrip("Z"))
        else:
            assert md["dg-compression"] == "none"
            assert len(md["dg-file-sha256"]) == 64
            int(md["dg-file-size"])
        print("ok", key)
    except Exception as e:
        print("bad", key, repr(e))
`

// TestCompatPythonReadsOurMetadata: what we write parses with the Python
// tool's rules, run by python3 itself.
func TestCompatPythonReadsOurMetadata(t *testing.T) {
	py := testtool.Tool(t, "python3")
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s, WithCodec(CodecVCDIFF))
	vs := versions(64, 2, 100<<10)
	put(t, c, ts.bucket, "py/a.zip", vs[0])
	put(t, c, ts.bucket, "py/b.zip", vs[1])
	put(t, c, ts.bucket, "py/c.txt", []byte(strings.Repeat("text ", 1000)))
	put(t, c, ts.bucket, "root.zip", vs[0])
	var objs []map[string]any
	for _, o := range []struct{ Kind, Key, Ref string }{{"reference", "py/reference.bin", ""},
		{"delta", "py/a.zip.delta", "py/reference.bin"}, {"delta", "py/b.zip.delta", "py/reference.bin"},
		{"direct", "py/c.txt", ""}, {"reference", "reference.bin", ""}, {"delta", "root.zip.delta", "reference.bin"}} {
		oi, err := ts.s.Stat(context.Background(), ts.bucket, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, map[string]any{"kind": o.Kind, "key": o.Key, "ref": o.Ref, "md": oi.Metadata})
	}
	in, _ := json.Marshal(objs)
	cmd := exec.Command(py, "-c", pyMetaCheck)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(objs) {
		t.Fatalf("python3 output:\n%s", out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "ok ") {
			t.Errorf("Python cannot read our metadata: %s", l)
		}
	}
}
