package bsdiff

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// Interop with Matthew Endsley's bsdiff (the ENDSLEY/BSDIFF43 writer), as
// shipped in src/bsdiff/bsdiff.c of the npm package node-bsdiff and built
// by scripts/test.sh into the tools cache: its patches applied by our
// decoder, byte for byte. No Endsley bspatch is available (node-bsdiff has
// only the writer; bsdiff-node, Debian's bsdiff and kr/binarydist are all
// BSDIFF40), so the other direction is covered by
// TestInteropBSDIFF43ViaDebian.

// endsleyDiff runs Endsley's bsdiff on old and new and returns its patch.
func endsleyDiff(t *testing.T, dir string, old, new []byte) []byte {
	t.Helper()
	bin := testtool.EndsleyBsdiff(t)
	op, np, pp := filepath.Join(dir, "old"), filepath.Join(dir, "new"), filepath.Join(dir, "patch")
	must(t, os.WriteFile(op, old, 0o644))
	must(t, os.WriteFile(np, new, 0o644))
	if out, err := exec.Command(bin, op, np, pp).CombinedOutput(); err != nil {
		t.Fatalf("Endsley bsdiff: %v: %s", err, out)
	}
	p, err := os.ReadFile(pp)
	must(t, err)
	return p
}

// applyEndsley checks that patch is an ENDSLEY/BSDIFF43 patch declaring
// len(new) bytes and that both Patch and the streaming Apply rebuild new
// from old exactly.
func applyEndsley(t *testing.T, old, new, patch []byte) {
	t.Helper()
	if f := Detect(patch); f != FormatBSDIFF43 {
		t.Fatalf("Endsley bsdiff wrote %v, want %v (first bytes %q)", f, FormatBSDIFF43, patch[:min(len(patch), 16)])
	}
	h, err := ReadHeader(bytes.NewReader(patch))
	must(t, err)
	if h.NewSize != int64(len(new)) {
		t.Fatalf("header declares new size %d, want %d", h.NewSize, len(new))
	}
	got, err := Patch(old, patch)
	must(t, err)
	if !bytes.Equal(got, new) {
		t.Fatalf("Patch misapplies Endsley's patch (len %d, want %d)", len(got), len(new))
	}
	var buf bytes.Buffer
	n, err := Apply(&buf, bytes.NewReader(old), int64(len(old)), bytes.NewReader(patch))
	must(t, err)
	if n != int64(len(new)) || !bytes.Equal(buf.Bytes(), new) {
		t.Fatalf("Apply misapplies Endsley's patch (wrote %d, want %d)", n, len(new))
	}
}

func TestInteropEndsleyGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	base := genData(r, 300_000)
	unrelated := make([]byte, 50_000)
	for i := range unrelated {
		unrelated[i] = byte(r.Uint32())
	}
	pairs := []struct {
		name     string
		old, new []byte
	}{
		{"mutated", base, mutate(r, base)},
		{"mutated twice", mutate(r, base), mutate(r, mutate(r, base))},
		{"empty old", nil, genData(r, 1000)},
		{"empty new", genData(r, 1000), nil},
		{"both empty", nil, nil},
		{"identical", base[:5000], base[:5000]},
		{"one byte", []byte{7}, []byte{8}},
		{"zeros", make([]byte, 70_000), append(make([]byte, 70_000), 1)},
		{"unrelated", base[:50_000], unrelated},
		{"shrunk", base, base[100_000:150_000]},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			applyEndsley(t, p.old, p.new, endsleyDiff(t, t.TempDir(), p.old, p.new))
		})
	}
}

// TestInteropEndsleyELF applies Endsley's patches between real executables,
// esbuild 0.27.0 and 0.27.4 (11 MB each), in both directions.
func TestInteropEndsleyELF(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: Endsley bsdiff takes ~10 s per direction on this pair")
	}
	files := testtool.Series(t, "elf-esbuild")
	var a, b string
	for _, f := range files {
		switch filepath.Base(f) {
		case "esbuild-0.27.0":
			a = f
		case "esbuild-0.27.4":
			b = f
		}
	}
	if a == "" || b == "" {
		testtool.Missing(t, "elf-esbuild 0.27.0 and 0.27.4 not in the corpus")
	}
	x, err := os.ReadFile(a)
	must(t, err)
	y, err := os.ReadFile(b)
	must(t, err)
	dir := t.TempDir()
	for _, d := range []struct {
		name     string
		old, new []byte
	}{{"0.27.0->0.27.4", x, y}, {"0.27.4->0.27.0", y, x}} {
		theirs := endsleyDiff(t, dir, d.old, d.new)
		applyEndsley(t, d.old, d.new, theirs)
		t.Logf("%s: Endsley bsdiff %d bytes (%.2f %% of %d)", d.name, len(theirs), 100*float64(len(theirs))/float64(len(d.new)), len(d.new))
	}
}
