package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/bsdiff"
	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// --secondary: the patch carries the compressor, stock xdelta3 applies
// it, and our decode command does too.
func TestEncodeCommandSecondary(t *testing.T) {
	dir := t.TempDir()
	srcPath, tgtPath, src, tgt := encodeInputs(t, dir)
	for _, sec := range []struct {
		name string
		id   int
	}{{"none", vcdiff.SecondaryNone}, {"lzma", vcdiff.SecondaryLZMA}, {"djw", vcdiff.SecondaryDJW}} {
		patch := filepath.Join(dir, "p."+sec.name)
		code, _, stderr := runCLI(t, nil, "encode", "--secondary", sec.name, "-s", srcPath, tgtPath, patch)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", sec.name, code, stderr)
		}
		p, err := os.ReadFile(patch)
		if err != nil {
			t.Fatal(err)
		}
		info, err := vcdiff.Inspect(bytes.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		// Sections too small to gain are stored raw, but the header
		// names the compressor whenever one was asked for.
		if info.Secondary != sec.id {
			t.Fatalf("%s: patch header says secondary %d", sec.name, info.Secondary)
		}
		if got, err := vcdiff.Decode(nil, p, src); err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("%s: Decode: %v", sec.name, err)
		}
		x := testtool.Tool(t, "xdelta3")
		out, err := exec.Command(x, "-d", "-c", "-s", srcPath, patch).Output()
		if err != nil || !bytes.Equal(out, tgt) {
			t.Fatalf("%s: xdelta3 -d: %v", sec.name, err)
		}
	}
	// LZMA makes text-like ADD data smaller.
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog; "), 4000)
	tp := filepath.Join(dir, "text")
	if err := os.WriteFile(tp, text, 0o644); err != nil {
		t.Fatal(err)
	}
	_, plain, _ := runCLI(t, nil, "encode", "-0", tp)
	_, lz, _ := runCLI(t, nil, "encode", "-0", "-S", "lzma", tp)
	if len(lz) == 0 || len(lz) >= len(plain) {
		t.Fatalf("-S lzma: %d bytes, plain %d", len(lz), len(plain))
	}
	code, _, stderr := runCLI(t, nil, "encode", "--secondary", "zstd", tp)
	if code != 2 || !strings.Contains(stderr, "zstd") {
		t.Fatalf("unknown secondary: exit %d, %q", code, stderr)
	}
}

// --codec bsdiff/bsdiff43: decode recognises both by their magic, info
// describes them, and Debian's bspatch applies BSDIFF40.
func TestEncodeCommandBsdiff(t *testing.T) {
	dir := t.TempDir()
	srcPath, tgtPath, src, tgt := encodeInputs(t, dir)
	for _, tc := range []struct {
		codec  string
		format bsdiff.Format
	}{{"bsdiff", bsdiff.FormatBSDIFF40}, {"bsdiff43", bsdiff.FormatBSDIFF43}} {
		patch := filepath.Join(dir, tc.codec+".patch")
		code, _, stderr := runCLI(t, nil, "encode", "--codec", tc.codec, "-s", srcPath, tgtPath, patch)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.codec, code, stderr)
		}
		p, err := os.ReadFile(patch)
		if err != nil {
			t.Fatal(err)
		}
		if f := bsdiff.Detect(p); f != tc.format {
			t.Fatalf("%s: patch format %s", tc.codec, f)
		}
		if got, err := bsdiff.Patch(src, p); err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("%s: bsdiff.Patch: %v", tc.codec, err)
		}
		out := filepath.Join(dir, tc.codec+".out")
		if code, _, stderr := runCLI(t, nil, "decode", "-s", srcPath, patch, out); code != 0 {
			t.Fatalf("%s: decode: exit %d: %s", tc.codec, code, stderr)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, tgt) {
			t.Fatalf("%s: decode output differs", tc.codec)
		}
		// stdin -> stdout as well
		if code, stdout, stderr := runCLI(t, p, "decode", "-s", srcPath); code != 0 || stdout != string(tgt) {
			t.Fatalf("%s: decode stdin: exit %d, %d bytes, %s", tc.codec, code, len(stdout), stderr)
		}
		code, stdout, stderr := runCLI(t, nil, "info", "--json", patch)
		if code != 0 {
			t.Fatalf("%s: info: exit %d: %s", tc.codec, code, stderr)
		}
		var doc struct {
			Format    string `json:"format"`
			PatchSize int64  `json:"patch_size"`
			NewSize   int64  `json:"new_size"`
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("%s: info --json: %v\n%s", tc.codec, err, stdout)
		}
		if doc.Format != tc.format.String() || doc.PatchSize != int64(len(p)) || doc.NewSize != int64(len(tgt)) {
			t.Fatalf("%s: info --json = %+v", tc.codec, doc)
		}
		// A truncated patch fails and leaves no output behind.
		trunc := filepath.Join(dir, tc.codec+".trunc")
		if err := os.WriteFile(trunc, p[:len(p)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(dir, tc.codec+".bad")
		if code, _, _ := runCLI(t, nil, "decode", "-s", srcPath, trunc, bad); code == 0 {
			t.Fatalf("%s: truncated patch decoded", tc.codec)
		}
		if _, err := os.Stat(bad); !os.IsNotExist(err) {
			t.Fatalf("%s: failed decode left %s behind (%v)", tc.codec, bad, err)
		}
	}
	bspatch := testtool.Tool(t, "bspatch")
	out := filepath.Join(dir, "bspatch.out")
	if b, err := exec.Command(bspatch, srcPath, out, filepath.Join(dir, "bsdiff.patch")).CombinedOutput(); err != nil {
		t.Fatalf("bspatch: %v: %s", err, b)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, tgt) {
		t.Fatal("bspatch output differs")
	}
	if code, _, stderr := runCLI(t, nil, "encode", "--codec", "bsdiff", "-S", "lzma", "-s", srcPath, tgtPath); code != 2 || !strings.Contains(stderr, "--secondary") {
		t.Fatalf("bsdiff with --secondary: exit %d, %q", code, stderr)
	}
}

// cp of executables: bsdiff by default (reported in --json and in the
// text line), VCDIFF with --codec vcdiff, an unknown codec is a usage
// error; every version reads back byte-exactly.
func TestCpCodecExecutables(t *testing.T) {
	h := newHarness(t, "fs")
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 10))
	bin := make([]byte, 300<<10)
	copy(bin, "\x7fELF\x02\x01\x01")
	for i := 8; i < len(bin); i++ {
		bin[i] = byte(rng.IntN(40))
	}
	var paths []string
	for v := range 3 {
		// Rebuilt binary: every 4-byte "address" shifted by v.
		b := bytes.Clone(bin)
		for i := 64; i+4 <= len(b); i += 64 {
			b[i] += byte(v)
		}
		p := filepath.Join(dir, fmt.Sprintf("tool-%d", v))
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	h.ok("cp", paths[0], h.url("auto/"))
	r := h.ok("--json", "cp", paths[1], h.url("auto/"))
	recs := jsonLines(t, r.stdout)
	if len(recs) != 1 || recs[0]["stored_as"] != "delta" || recs[0]["codec"] != "bsdiff" {
		t.Fatalf("default codec for an ELF file: %v", recs)
	}
	r = h.ok("cp", paths[2], h.url("auto/"))
	if !strings.Contains(r.stdout, "(bsdiff delta ") {
		t.Fatalf("text line does not name bsdiff: %q", r.stdout)
	}
	h.ok("cp", paths[0], h.url("plain/"))
	r = h.ok("--json", "--codec", "vcdiff", "cp", paths[1], h.url("plain/"))
	if recs := jsonLines(t, r.stdout); len(recs) != 1 || recs[0]["codec"] != "vcdiff" {
		t.Fatalf("--codec vcdiff: %v", recs)
	}
	for i, p := range paths {
		want := must(os.ReadFile(p))
		if got := h.ok("cp", h.url("auto/"+filepath.Base(p)), "-"); got.stdout != string(want) {
			t.Fatalf("auto/tool-%d differs", i)
		}
	}
	if got := h.ok("cp", h.url("plain/"+filepath.Base(paths[1])), "-"); got.stdout != string(must(os.ReadFile(paths[1]))) {
		t.Fatal("plain/tool-1 differs")
	}
	h.fails(2, []string{"zpaq"}, "cp", "--codec", "zpaq", paths[2], h.url("plain/"))
}
