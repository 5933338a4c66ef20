package vcdiff

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// xdelta3Decode applies patch to src with stock xdelta3 -d.
func xdelta3Decode(t testing.TB, patch, src []byte) []byte {
	t.Helper()
	x := testtool.Tool(t, "xdelta3")
	dir := t.TempDir()
	pp := filepath.Join(dir, "patch")
	if err := os.WriteFile(pp, patch, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-d", "-c"}
	if src != nil {
		sp := filepath.Join(dir, "src")
		if err := os.WriteFile(sp, src, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-s", sp)
	}
	args = append(args, pp)
	var out, stderr bytes.Buffer
	cmd := exec.Command(x, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xdelta3 -d failed: %v: %s", err, stderr.String())
	}
	return out.Bytes()
}

func TestEncodeSmoke(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 1<<20)
	for i := range src {
		src[i] = byte(r.IntN(16)) + 'a'
	}
	tgt := append([]byte(nil), src[500000:]...)
	tgt = append(tgt, []byte("hello world, some new text here")...)
	tgt = append(tgt, src[:500000]...)
	tgt = append(tgt, bytes.Repeat([]byte{'z'}, 100)...)
	for _, lvl := range []int{0, 6, 9} {
		p, err := Encode(nil, src, tgt, WithLevel(lvl))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("level %d: patch %d bytes", lvl, len(p))
		if got := xdelta3Decode(t, p, src); !bytes.Equal(got, tgt) {
			t.Fatalf("level %d: xdelta3 decode mismatch", lvl)
		}
		got, err := Decode(nil, p, src)
		if err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("level %d: Decode: %v", lvl, err)
		}
	}
}
