package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// encodeInputs writes a source and an edited target into dir.
func encodeInputs(t *testing.T, dir string) (srcPath, tgtPath string, src, tgt []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	src = make([]byte, 200_000)
	for i := range src {
		src[i] = byte(r.IntN(32))
	}
	tgt = append(append(append([]byte(nil), src[100_000:]...), "inserted text"...), src[:90_000]...)
	srcPath, tgtPath = filepath.Join(dir, "src.bin"), filepath.Join(dir, "tgt.bin")
	if err := os.WriteFile(srcPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tgtPath, tgt, 0o644); err != nil {
		t.Fatal(err)
	}
	return srcPath, tgtPath, src, tgt
}

func TestEncodeCommandFiles(t *testing.T) {
	dir := t.TempDir()
	srcPath, tgtPath, src, tgt := encodeInputs(t, dir)
	for _, levelArgs := range [][]string{nil, {"-0"}, {"-9"}, {"--level", "3"}} {
		patch := filepath.Join(dir, "p"+strings.Join(levelArgs, ""))
		args := append(append([]string{"encode"}, levelArgs...), "-s", srcPath, tgtPath, patch)
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != 0 || stdout != "" || stderr != "" {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
		p, err := os.ReadFile(patch)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) > 1000 {
			t.Errorf("%v: %d-byte patch for a moved-blocks target", levelArgs, len(p))
		}
		got, err := vcdiff.Decode(nil, p, src)
		if err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("%v: Decode: %v", levelArgs, err)
		}
		// Stock xdelta3 applies it too.
		x := testtool.Tool(t, "xdelta3")
		out, err := exec.Command(x, "-d", "-c", "-s", srcPath, patch).Output()
		if err != nil || !bytes.Equal(out, tgt) {
			t.Fatalf("%v: xdelta3 -d: %v", levelArgs, err)
		}
	}
	// The same patch through stdin/stdout ('-' and omitted arguments).
	want, _ := os.ReadFile(filepath.Join(dir, "p"))
	code, stdout, stderr := runCLI(t, tgt, "encode", "-s", srcPath)
	if code != 0 || stdout != string(want) {
		t.Fatalf("stdin->stdout: exit %d, %d bytes, stderr %q", code, len(stdout), stderr)
	}
	code, stdout, _ = runCLI(t, tgt, "encode", "-s", srcPath, "-", "-")
	if code != 0 || stdout != string(want) {
		t.Fatalf("'-' '-': exit %d, %d bytes", code, len(stdout))
	}
}

func TestEncodeCommandNoSource(t *testing.T) {
	tgt := bytes.Repeat([]byte("plain compression without a source. "), 1000)
	code, stdout, stderr := runCLI(t, tgt, "encode")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if len(stdout) > len(tgt)/10 {
		t.Errorf("patch %d bytes for %d repetitive bytes", len(stdout), len(tgt))
	}
	got, err := vcdiff.Decode(nil, []byte(stdout), nil)
	if err != nil || !bytes.Equal(got, tgt) {
		t.Fatalf("Decode: %v", err)
	}
}

// TestEncodeCommandFailures: errors are one line with the right exit code
// and leave no output file (not even a temporary one) behind.
func TestEncodeCommandFailures(t *testing.T) {
	dir := t.TempDir()
	srcPath, tgtPath, _, _ := encodeInputs(t, dir)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "patch")
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"encode", "-s", filepath.Join(dir, "missing"), tgtPath, out}, 1, "no such file"},
		{[]string{"encode", "-s", srcPath, filepath.Join(dir, "missing"), out}, 1, "no such file"},
		{[]string{"encode", "-s", dir, tgtPath, out}, 1, "not a regular file"},
		{[]string{"encode", "-s", srcPath, "--level", "12", tgtPath, out}, 1, "invalid option"},
		{[]string{"encode", "-s", srcPath, "--window", "0", tgtPath, out}, 1, "invalid option"},
		{[]string{"encode", "-1", "-9", tgtPath, out}, 2, "one level"},
		{[]string{"encode", "a", "b", "c"}, 2, "too many arguments"},
		{[]string{"encode", "-s", srcPath, tgtPath, filepath.Join(dir, "nodir", "p")}, 1, "no such file"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.msg)
		}
		if ents := dirEntries(t, outDir); len(ents) != 0 {
			t.Fatalf("%v left %v behind", c.args, ents)
		}
	}
	// An existing PATCH is kept unless --force.
	if err := os.WriteFile(out, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, nil, "encode", "-s", srcPath, tgtPath, out); code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("existing output: exit %d, %q", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep" {
		t.Fatal("existing output was modified")
	}
	if code, _, stderr := runCLI(t, nil, "encode", "-f", "-s", srcPath, tgtPath, out); code != 0 {
		t.Fatalf("--force: exit %d, %q", code, stderr)
	}
	if ents := dirEntries(t, outDir); len(ents) != 1 {
		t.Fatalf("after --force: %v", ents)
	}
}
