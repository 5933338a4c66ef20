package bsdiff

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// Interop with the Debian bsdiff 4.3 tools (classic BSDIFF40 with bzip2
// streams): our patches applied by bspatch, theirs applied by us.
// ENDSLEY/BSDIFF43 patches of Endsley's own bsdiff are applied in
// interop_endsley_test.go; with no Endsley bspatch at hand, ours are
// checked through the Debian bspatch by re-framing
// (TestInteropBSDIFF43ViaDebian).

func debianPatch(t *testing.T, dir string, old, patch []byte) []byte {
	t.Helper()
	bspatch := testtool.Tool(t, "bspatch")
	op, pp, np := filepath.Join(dir, "old"), filepath.Join(dir, "patch"), filepath.Join(dir, "new")
	must(t, os.WriteFile(op, old, 0o644))
	must(t, os.WriteFile(pp, patch, 0o644))
	if out, err := exec.Command(bspatch, op, np, pp).CombinedOutput(); err != nil {
		t.Fatalf("bspatch: %v: %s", err, out)
	}
	got, err := os.ReadFile(np)
	must(t, err)
	return got
}

func debianDiff(t *testing.T, dir string, old, new []byte) []byte {
	t.Helper()
	bsdiff := testtool.Tool(t, "bsdiff")
	op, np, pp := filepath.Join(dir, "old"), filepath.Join(dir, "new"), filepath.Join(dir, "patch")
	must(t, os.WriteFile(op, old, 0o644))
	must(t, os.WriteFile(np, new, 0o644))
	if out, err := exec.Command(bsdiff, op, np, pp).CombinedOutput(); err != nil {
		t.Fatalf("bsdiff: %v: %s", err, out)
	}
	p, err := os.ReadFile(pp)
	must(t, err)
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestInteropDebianGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	base := genData(r, 300_000)
	pairs := []struct {
		name     string
		old, new []byte
	}{
		{"mutated", base, mutate(r, base)},
		{"empty old", nil, genData(r, 1000)},
		{"empty new", genData(r, 1000), nil},
		{"identical", base[:5000], base[:5000]},
		{"zeros", make([]byte, 70_000), append(make([]byte, 70_000), 1)},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			dir := t.TempDir()
			ours, err := Diff(p.old, p.new, WithFormat(FormatBSDIFF40))
			must(t, err)
			if got := debianPatch(t, dir, p.old, ours); !bytes.Equal(got, p.new) {
				t.Fatalf("bspatch applied our patch wrongly (len %d, want %d)", len(got), len(p.new))
			}
			if len(p.old) == 0 || len(p.new) == 0 {
				return // Debian bsdiff cannot mmap an empty file
			}
			theirs := debianDiff(t, dir, p.old, p.new)
			got, err := Patch(p.old, theirs)
			must(t, err)
			if !bytes.Equal(got, p.new) {
				t.Fatalf("we applied bsdiff's patch wrongly")
			}
		})
	}
}

// TestInteropDebianELF runs both directions on a real executable pair,
// esbuild 0.27.0 -> 0.27.4 (11 MB each).
func TestInteropDebianELF(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: Debian bsdiff takes ~20 s on this pair")
	}
	files := testtool.Series(t, "elf-esbuild")
	var oldPath, newPath string
	for _, f := range files {
		switch filepath.Base(f) {
		case "esbuild-0.27.0":
			oldPath = f
		case "esbuild-0.27.4":
			newPath = f
		}
	}
	if oldPath == "" || newPath == "" {
		testtool.Missing(t, "elf-esbuild 0.27.0 and 0.27.4 not in the corpus")
	}
	old, err := os.ReadFile(oldPath)
	must(t, err)
	new, err := os.ReadFile(newPath)
	must(t, err)
	dir := t.TempDir()

	ours, err := Diff(old, new)
	must(t, err)
	if got := debianPatch(t, dir, old, ours); !bytes.Equal(got, new) {
		t.Fatal("bspatch applied our ELF patch wrongly")
	}
	theirs := debianDiff(t, dir, old, new)
	got, err := Patch(old, theirs)
	must(t, err)
	if !bytes.Equal(got, new) {
		t.Fatal("we applied bsdiff's ELF patch wrongly")
	}
	t.Logf("esbuild 0.27.0->0.27.4: ours %d bytes, Debian bsdiff %d bytes (target %d)", len(ours), len(theirs), len(new))

	p43, err := Diff(old, new, WithFormat(FormatBSDIFF43))
	must(t, err)
	got, err = Patch(old, p43)
	must(t, err)
	if !bytes.Equal(got, new) {
		t.Fatal("BSDIFF43 round trip on the ELF pair failed")
	}
	t.Logf("BSDIFF43: %d bytes", len(p43))
}

// With no BSDIFF43 reference tool at hand, the format's content is checked
// through the Debian tools by re-framing: our BSDIFF43 patch is unpacked
// and repacked as BSDIFF40 for Debian bspatch, and Debian bsdiff's patch is
// repacked as BSDIFF43 for our decoder. The framing itself (24-byte header,
// one bzip2 stream of triple/diff/extra in order) follows mendsley's
// bspatch.c.
func TestInteropBSDIFF43ViaDebian(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	old := genData(r, 200_000)
	new := mutate(r, old)
	dir := t.TempDir()

	p43, err := Diff(old, new, WithFormat(FormatBSDIFF43))
	must(t, err)
	newSize, ctrl, diff, extra := unpack43(t, p43)
	p40 := craft40(t, newSize, ctrl, diff, extra)
	if got := debianPatch(t, dir, old, p40); !bytes.Equal(got, new) {
		t.Fatal("bspatch disagrees with the content of our BSDIFF43 patch")
	}

	theirs := debianDiff(t, dir, old, new)
	newSize, ctrl, diff, extra = unpack40(t, theirs)
	got, err := Patch(old, pack43(t, newSize, ctrl, diff, extra))
	must(t, err)
	if !bytes.Equal(got, new) {
		t.Fatal("our BSDIFF43 decoder misapplies Debian bsdiff's delta")
	}
}

func decompressAll(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := newDecompressor(bytes.NewReader(b))
	must(t, err)
	out, err := io.ReadAll(zr)
	must(t, err)
	return out
}

func unpack40(t *testing.T, p []byte) (newSize int64, ctrl, diff, extra []byte) {
	t.Helper()
	cl, dl := getInt(p[8:]), getInt(p[16:])
	body := p[header40Len:]
	return getInt(p[24:]), decompressAll(t, body[:cl]), decompressAll(t, body[cl:cl+dl]), decompressAll(t, body[cl+dl:])
}

// unpack43 splits the interleaved stream into the three BSDIFF40 streams.
func unpack43(t *testing.T, p []byte) (newSize int64, ctrl, diff, extra []byte) {
	t.Helper()
	s := decompressAll(t, p[header43Len:])
	for len(s) > 0 {
		a, b := getInt(s[0:]), getInt(s[8:])
		ctrl = append(ctrl, s[:24]...)
		s = s[24:]
		diff = append(diff, s[:a]...)
		extra = append(extra, s[a:a+b]...)
		s = s[a+b:]
	}
	return getInt(p[16:]), ctrl, diff, extra
}

func pack43(t *testing.T, newSize int64, ctrl, diff, extra []byte) []byte {
	t.Helper()
	var s []byte
	for len(ctrl) > 0 {
		a, b := getInt(ctrl[0:]), getInt(ctrl[8:])
		s = append(s, ctrl[:24]...)
		s = append(s, diff[:a]...)
		s = append(s, extra[:b]...)
		ctrl, diff, extra = ctrl[24:], diff[a:], extra[b:]
	}
	o, _ := buildOptions(nil)
	var out bytes.Buffer
	out.WriteString(magic43)
	var n [8]byte
	putInt(n[:], newSize)
	out.Write(n[:])
	zw, err := newCompressor(&out, &o)
	must(t, err)
	_, err = zw.Write(s)
	must(t, err)
	must(t, zw.Close())
	return out.Bytes()
}
