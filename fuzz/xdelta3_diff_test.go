package fuzz

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// FuzzXdelta3Differential checks our codec against stock xdelta3 both
// ways on the same (source, target) pair: a patch xdelta3 writes (flags
// chosen by the fuzzer) must decode with our decoder to exactly the
// target, and a patch our encoder writes (level, secondary compression,
// checksum chosen by the fuzzer) must decode with `xdelta3 -d` to exactly
// the target.
func FuzzXdelta3Differential(f *testing.F) {
	x := testtool.Tool(f, "xdelta3")
	base := bytes.Repeat([]byte("differential fuzzing of VCDIFF against xdelta3; "), 60)
	f.Add(base, append(bytes.Clone(base[:700]), base[100:]...), uint8(0))
	f.Add([]byte{}, []byte("no source at all"), uint8(7))
	f.Add(base, []byte{}, uint8(19))
	f.Add(bytes.Repeat([]byte{0}, 5000), bytes.Repeat([]byte{0, 1}, 4000), uint8(42))
	f.Fuzz(func(t *testing.T, src, tgt []byte, mode uint8) {
		if len(src) > 256<<10 || len(tgt) > 256<<10 {
			return
		}
		dir := t.TempDir()
		sp, tp, pp := filepath.Join(dir, "src"), filepath.Join(dir, "tgt"), filepath.Join(dir, "patch")
		if err := os.WriteFile(sp, src, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tp, tgt, 0o644); err != nil {
			t.Fatal(err)
		}

		// xdelta3 encodes, we decode.
		level := []string{"-0", "-1", "-3", "-6", "-9"}[int(mode)%5]
		secondary := []string{"lzma", "djw", "none"}[int(mode/5)%3]
		args := []string{"-e", "-f", level, "-S", secondary}
		if mode&0x40 != 0 {
			args = append(args, "-n")
		}
		if mode&0x80 != 0 {
			args = append(args, "-W", "16384")
		}
		if len(src) > 0 {
			args = append(args, "-s", sp)
		}
		if out, err := exec.Command(x, append(args, tp, pp)...).CombinedOutput(); err != nil {
			t.Fatalf("xdelta3 %v: %v: %s", args, err, out)
		}
		patch, err := os.ReadFile(pp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := vcdiff.Decode(nil, patch, src)
		if err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("our decoder on xdelta3 %v: %d bytes (want %d), err %v", args, len(got), len(tgt), err)
		}

		// We encode, xdelta3 decodes.
		opts := []vcdiff.EncoderOption{vcdiff.WithLevel(int(mode) % 10), vcdiff.WithChecksum(mode&0x40 == 0)}
		ours, err := vcdiff.Encode(nil, src, tgt, opts...)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if sec := int(mode/10) % 3; sec != 0 {
			id := []int{0, vcdiff.SecondaryLZMA, vcdiff.SecondaryDJW}[sec]
			if ours, err = vcdiff.Recode(nil, ours, vcdiff.WithRecodeSecondary(id)); err != nil {
				t.Fatalf("Recode: %v", err)
			}
		}
		if err := os.WriteFile(pp, ours, 0o644); err != nil {
			t.Fatal(err)
		}
		dargs := []string{"-d", "-c"}
		if len(src) > 0 {
			dargs = append(dargs, "-s", sp)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(x, append(dargs, pp)...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || !bytes.Equal(out, tgt) {
			t.Fatalf("xdelta3 -d on our patch (mode %d): %d bytes (want %d), err %v: %s", mode, len(out), len(tgt), err, stderr.String())
		}
	})
}
