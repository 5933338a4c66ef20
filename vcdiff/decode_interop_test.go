package vcdiff

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// genRandom returns n deterministic pseudo-random bytes.
func genRandom(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8 && i+k < n; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// genStructured returns log-like text with long zero runs and repeated
// records, n bytes.
func genStructured(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	levels := []string{"INFO", "WARN", "DEBUG", "ERROR"}
	for b.Len() < n {
		switch r.IntN(20) {
		case 0:
			b.Write(make([]byte, 1000+r.IntN(20000)))
		case 1:
			rec := fmt.Sprintf("rec-%d;", r.IntN(100))
			b.WriteString(strings.Repeat(rec, 10+r.IntN(300)))
		default:
			fmt.Fprintf(&b, "2026-11-22T%02d:%02d:%02d %s request id=%08x path=/obj/%d bytes=%d\n",
				r.IntN(24), r.IntN(60), r.IntN(60), levels[r.IntN(4)], r.Uint32(), r.IntN(5000), r.IntN(1<<20))
		}
	}
	return b.Bytes()[:n]
}

// mutate returns an edited copy of src: random inserts, deletes, overwrites
// and a few block moves.
func mutate(seed uint64, src []byte, edits int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := bytes.Clone(src)
	for range edits {
		pos := r.IntN(len(b) + 1)
		switch r.IntN(4) {
		case 0:
			ins := genRandom(r.Uint64(), 1+r.IntN(500))
			b = append(b[:pos], append(ins, b[pos:]...)...)
		case 1:
			b = append(b[:pos], b[min(len(b), pos+1+r.IntN(2000)):]...)
		case 2:
			copy(b[pos:], genRandom(r.Uint64(), 1+r.IntN(100)))
		case 3: // move a block to the front region
			n := min(len(b)-pos, 1+r.IntN(50000))
			blk := bytes.Clone(b[pos : pos+n])
			b = append(b[:pos], b[pos+n:]...)
			at := r.IntN(len(b)/4 + 1)
			b = append(b[:at], append(blk, b[at:]...)...)
		}
	}
	return b
}

// xdeltaEncode runs the installed xdelta3 -e and returns the patch.
func xdeltaEncode(t testing.TB, xd, dir string, flags []string, srcPath, tgtPath string) []byte {
	t.Helper()
	out := filepath.Join(dir, "patch.vcdiff")
	args := append([]string{"-e", "-f"}, flags...)
	if srcPath != "" {
		args = append(args, "-s", srcPath)
	}
	args = append(args, tgtPath, out)
	cmd := exec.Command(xd, args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdelta3 %v: %v\n%s", args, err, msg)
	}
	p, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func writeTemp(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeFile decodes patch against the file at srcPath (streaming, file
// source) and compares with want.
func decodeAndCompare(t *testing.T, patch []byte, srcPath string, want []byte) {
	t.Helper()
	var d *Decoder
	var err error
	if srcPath == "" {
		d, err = NewDecoder(bytes.NewReader(patch), nil, 0)
	} else {
		f, ferr := os.Open(srcPath)
		if ferr != nil {
			t.Fatal(ferr)
		}
		defer f.Close()
		st, _ := f.Stat()
		d, err = NewDecoder(bytes.NewReader(patch), f, st.Size())
	}
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := d.WriteTo(h)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if n != int64(len(want)) || !bytes.Equal(h.Sum(nil), sha256Sum(want)) {
		t.Fatalf("decoded %d bytes, want %d: content differs", n, len(want))
	}
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestInteropXdelta3 encodes generated inputs with the installed xdelta3 at
// several flag sets and decodes them with this package.
func TestInteropXdelta3(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	dir := t.TempDir()
	randSrc := genRandom(1, 3<<20)
	randTgt := mutate(2, randSrc, 60)
	strSrc := genStructured(3, 4<<20)
	strTgt := mutate(4, strSrc, 40)
	inputs := map[string][2]string{
		"random":     {writeTemp(t, dir, "r.src", randSrc), writeTemp(t, dir, "r.tgt", randTgt)},
		"structured": {writeTemp(t, dir, "s.src", strSrc), writeTemp(t, dir, "s.tgt", strTgt)},
	}
	targets := map[string][]byte{"random": randTgt, "structured": strTgt}
	flagSets := []struct {
		name    string
		flags   string
		withSrc bool
	}{
		{"default", "", true},
		{"l9-W512K", "-9 -W 524288", true},
		{"none-W1M", "-S none -W 1048576", true},
		{"djw-W1M", "-S djw -W 1048576", true},
		{"djw9-W256K", "-S djw9 -W 262144", true},
		{"l0-nochecksum", "-0 -n", true},
		{"l1-Bsmall-W256K", "-1 -B 524288 -W 262144", true},
		{"I16-none", "-I 16 -S none -W 262144", true},
		{"W16K", "-W 16384", true},
		{"nosrc-W1M", "-W 1048576", false},
		{"nosrc-djw", "-S djw", false},
	}
	for _, in := range []string{"random", "structured"} {
		for _, fs := range flagSets {
			t.Run(in+"/"+fs.name, func(t *testing.T) {
				src := ""
				if fs.withSrc {
					src = inputs[in][0]
				}
				patch := xdeltaEncode(t, xd, dir, strings.Fields(fs.flags), src, inputs[in][1])
				decodeAndCompare(t, patch, src, targets[in])
			})
		}
	}
	// A 12 MB target without source: LZMA sections spanning many chunks
	// and two windows.
	t.Run("big-nosrc", func(t *testing.T) {
		tgt := append(genStructured(5, 6<<20), genRandom(6, 6<<20)...)
		p := writeTemp(t, dir, "big.tgt", tgt)
		patch := xdeltaEncode(t, xd, dir, nil, "", p)
		decodeAndCompare(t, patch, "", tgt)
	})
}

// TestInteropCorpus decodes xdelta3 patches between real release archives
// (DeltaGlider's scheme: first version -> later versions).
func TestInteropCorpus(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	files := testtool.Series(t, "gomod-x-net")
	if len(files) < 3 {
		testtool.Missing(t, "gomod-x-net has fewer than 3 versions")
	}
	dir := t.TempDir()
	pairs := [][2]string{{files[0], files[1]}, {files[0], files[len(files)-1]}, {files[1], files[2]}}
	for i, pr := range pairs {
		for _, flags := range []string{"-9", "", "-S djw -W 262144"} {
			t.Run(fmt.Sprintf("pair%d/%s", i, strings.ReplaceAll(flags, " ", "")), func(t *testing.T) {
				want, err := os.ReadFile(pr[1])
				if err != nil {
					t.Fatal(err)
				}
				patch := xdeltaEncode(t, xd, dir, strings.Fields(flags), pr[0], pr[1])
				decodeAndCompare(t, patch, pr[0], want)
			})
		}
	}
}
