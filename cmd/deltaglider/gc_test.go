package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

func TestSmallJob(t *testing.T) {
	none := func(string) string { return "" }
	for _, c := range []struct {
		n    int64
		env  func(string) string
		want bool
	}{
		{0, none, true},
		{smallJobInput, none, true},
		{smallJobInput + 1, none, false},
		{-1, none, false},
		{1 << 20, func(k string) string { return map[string]string{"GOGC": "100"}[k] }, false},
		{1 << 20, func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] }, false},
	} {
		if got := smallJob(c.n, c.env); got != c.want {
			t.Errorf("smallJob(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

// TestSmallEncodeSkipsGC runs the CLI as a process with the runtime's GC
// trace on: a small encode runs no collection cycle, and the same encode
// with GOGC set (the user's choice wins) runs the usual ones. The patches
// are identical.
func TestSmallEncodeSkipsGC(t *testing.T) {
	binDir(t)
	dir := t.TempDir()
	src, tgt := filepath.Join(dir, "src"), filepath.Join(dir, "tgt")
	// 6 MiB each: the heap passes the runtime's 4 MB starting goal.
	a := make([]byte, 6<<20)
	for i := range a {
		a[i] = byte(i*7 + i>>9)
	}
	b := append([]byte("a new header"), a...)
	os.WriteFile(src, a, 0o644)
	os.WriteFile(tgt, b, 0o644)
	cycle := regexp.MustCompile(`(?m)^gc \d+ @`)
	var patches [][]byte
	for _, gogc := range []string{"", "100"} {
		cmd := exec.Command("deltaglider", "encode", "--concurrency", "1", "-s", src, tgt, "-")
		cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
		if gogc != "" {
			cmd.Env = append(cmd.Env, "GOGC="+gogc)
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("GOGC=%q: %v\n%s", gogc, err, stderr.String())
		}
		n := len(cycle.FindAllIndex(stderr.Bytes(), -1))
		if gogc == "" && n != 0 {
			t.Errorf("small encode ran %d GC cycles, want 0:\n%s", n, stderr.String())
		}
		if gogc != "" && n == 0 {
			t.Errorf("encode with GOGC=%s ran no GC cycle", gogc)
		}
		patches = append(patches, stdout.Bytes())
	}
	if !bytes.Equal(patches[0], patches[1]) {
		t.Error("the patch depends on the GC setting")
	}
	// bsdiff, whose working set is about ten times its inputs, keeps the
	// runtime's pacing.
	cmd := exec.Command("deltaglider", "encode", "--codec", "bsdiff", "-s", src, tgt, "-")
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bsdiff: %v\n%s", err, stderr.String())
	}
	if len(cycle.FindAllIndex(stderr.Bytes(), -1)) == 0 {
		t.Error("bsdiff encode ran no GC cycle")
	}
}
