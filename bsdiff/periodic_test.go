package bsdiff

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// Periodic data makes the scan emit pure-seek triples (no diff, no extra
// bytes), once found by FuzzStoreRoundTrip as more than 64 in a row. They
// are folded into their predecessor, so the patch holds at most a leading
// one, our decoder and Debian's bspatch both apply it.
func TestPeriodicInputNoEmptyTriples(t *testing.T) {
	unit := []byte("PK\x03\x04 release archive contents 0123456789 ")
	old := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat(unit, 200)...)
	new := append(append(bytes.Clone(old[:4000]), "\x00\x01\x02\x03"...), old[4000:]...)
	new = append(new, bytes.Repeat(unit, 200)...)
	d, err := computeDelta(old, new)
	must(t, err)
	for i, c := range d.ctrls {
		if i > 0 && c.diffLen == 0 && c.extraLen == 0 {
			t.Fatalf("triple %d of %d is empty: %+v", i, len(d.ctrls), c)
		}
	}
	for _, f := range formats {
		p, err := Diff(old, new, WithFormat(f))
		must(t, err)
		got, err := Patch(old, p)
		if err != nil || !bytes.Equal(got, new) {
			t.Fatalf("%s: Patch: %v", f, err)
		}
	}
	bspatch := testtool.Tool(t, "bspatch")
	dir := t.TempDir()
	op, np, pp := filepath.Join(dir, "old"), filepath.Join(dir, "new"), filepath.Join(dir, "patch")
	p, err := Diff(old, new)
	must(t, err)
	must(t, os.WriteFile(op, old, 0o644))
	must(t, os.WriteFile(pp, p, 0o644))
	if out, err := exec.Command(bspatch, op, np, pp).CombinedOutput(); err != nil {
		t.Fatalf("bspatch: %v: %s", err, out)
	}
	if got, _ := os.ReadFile(np); !bytes.Equal(got, new) {
		t.Fatal("bspatch output differs")
	}
}
