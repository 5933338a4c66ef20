package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// TestSIGINTAbortsCleanly sends a real SIGINT to the deltaglider process in
// the middle of a recursive upload of real release archives: it must exit
// 130 with one line, and leave only complete, readable objects.
func TestSIGINTAbortsCleanly(t *testing.T) {
	files := testtool.Series(t, "gomod-x-net")
	h := newHarness(t, "fs")
	src := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, filepath.Base(f)), b, 0o644)
	}
	binDir(t)
	cmd := exec.Command("deltaglider", "--store-dir", h.storeDir, "--jobs", "2", "cp", "-r", src, h.url("x/"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var lines []string
	signalled := false
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if !signalled && strings.HasPrefix(sc.Text(), "upload: ") {
			// The reference is stored; the other uploads are under way.
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			signalled = true
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("want exit 130, got %v\nstdout %q\nstderr %q", err, lines, stderr.String())
	}
	checkErrLine(t, stderr.String(), "interrupted")
	if len(lines) >= len(files) {
		t.Fatalf("every upload finished before the signal: %q", lines)
	}
	// What is stored is whole: every object reads back and verifies. Each
	// upload reported as done is there (one that completed just as the
	// signal came may be there unreported), and the interrupted ones are not.
	r := h.ok("--json", "verify", "--all", h.url(""))
	if n := len(ofType(jsonLines(t, r.stdout), "verify")); n < len(lines) || n >= len(files) {
		t.Fatalf("%d objects stored, %d uploads reported:\n%v\n%q", n, len(lines), r, lines)
	}
	for _, k := range h.rawKeys(h.bucket) {
		if !strings.HasSuffix(k, delta.DeltaSuffix) && !strings.HasSuffix(k, delta.ReferenceName) {
			t.Fatalf("unexpected stored key %q", k)
		}
	}
	// No temporary file of an aborted write is left in the store directory.
	filepath.WalkDir(h.storeDir, func(p string, d os.DirEntry, err error) error {
		if rel, _ := filepath.Rel(h.storeDir, p); err == nil && !d.IsDir() && strings.Contains(rel, "tmp") {
			t.Errorf("left behind: %s", rel)
		}
		return nil
	})
}

// TestProgressBarOnlyOnTTY runs an upload under a pseudo-terminal (script
// from util-linux): the bar, with bytes, rate and ETA, is drawn there, and
// not with --no-progress or --quiet. (Without a terminal, every harness
// test already requires an empty stderr.)
func TestProgressBarOnlyOnTTY(t *testing.T) {
	scriptBin := testtool.Tool(t, "script")
	files := testtool.Series(t, "gomod-x-net")
	h := newHarness(t, "fs")
	src := t.TempDir()
	for _, f := range files[:2] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, filepath.Base(f)), b, 0o644)
	}
	binDir(t)
	t.Setenv("TERM", "xterm")
	// onTTYIn runs a command line on a terminal whose keyboard input is in.
	onTTYIn := func(in string, args string) (string, error) {
		t.Helper()
		line := "deltaglider --store-dir " + h.storeDir + " " + args
		cmd := exec.Command(scriptBin, "-qefc", line, "/dev/null")
		cmd.Stdin = strings.NewReader(in)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	onTTY := func(args string) string {
		t.Helper()
		out, err := onTTYIn("", args)
		if err != nil {
			t.Fatalf("%s: %v\n%s", args, err, out)
		}
		return out
	}
	out := onTTY("cp -r " + src + " " + h.url("a/"))
	// e.g. "upload  50% |███████        | (1.8/3.5 MiB, 2.2 MiB/s) [1s:1s]"
	if !regexp.MustCompile(`upload +\d+% \|.*\| \([0-9.]+ ?[KMG]?i?B?/[0-9.]+ [KMG]iB, [0-9.]+ [KMG]?i?B/s\) \[\d+s:\d+s\]`).MatchString(out) {
		t.Fatalf("no progress bar on a terminal:\n%q", out)
	}
	if !strings.Contains(out, "cp: 2 objects") {
		t.Fatalf("no summary:\n%q", out)
	}
	out = onTTY("cp -r --no-progress " + src + " " + h.url("b/"))
	if strings.Contains(out, "% |") || !strings.Contains(out, "cp: 2 objects") {
		t.Fatalf("--no-progress:\n%q", out)
	}
	out = onTTY("cp -r --quiet " + src + " " + h.url("c/"))
	if strings.TrimSpace(out) != "" {
		t.Fatalf("--quiet printed:\n%q", out)
	}
	// A single download knows its size: a bar with a total (and so an ETA).
	name := filepath.Base(files[1])
	out = onTTY("cp " + h.url("a/"+name) + " " + filepath.Join(t.TempDir(), name))
	if !regexp.MustCompile(`download +\d+% \|.*\| \([0-9.]+ ?[KMG]?i?B?/1\.8 MiB, `).MatchString(out) {
		t.Fatalf("download bar:\n%q", out)
	}
	// migrate asks on a terminal; "n" copies nothing, "y" goes ahead, with
	// a bar counting bytes.
	dst := h.newBucket()
	out, err := onTTYIn("n\n", "migrate "+h.url("a/")+" s3://"+dst+"/a/")
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != exitFailure ||
		!strings.Contains(out, "[y/N]") || !strings.Contains(out, "migration cancelled") || len(h.rawKeys(dst)) != 0 {
		t.Fatalf("migrate answered n: %v\n%q", err, out)
	}
	out, err = onTTYIn("y\n", "migrate "+h.url("a/")+" s3://"+dst+"/a/")
	if err != nil || !strings.Contains(out, "migrate: 2 objects") {
		t.Fatalf("migrate answered y: %v\n%q", err, out)
	}
	if !regexp.MustCompile(` migrate \([0-9.]+ [KMG]?i?B, [0-9.]+ [KMG]?i?B/s\)`).MatchString(out) || strings.Contains(out, "obj/s") {
		t.Fatalf("migrate bar is not a bytes bar:\n%q", out)
	}
	h.ok("-q", "verify", "--all", "s3://"+dst)
}

// TestSIGINTWhileReadingStdin: Ctrl-C during `cp - s3://...` whose input
// has stalled (a terminal, or a pipe whose writer waits) ends the upload at
// once, without waiting for more input or EOF, and stores nothing.
func TestSIGINTWhileReadingStdin(t *testing.T) {
	h := newHarness(t, "fs")
	binDir(t)
	cmd := exec.Command("deltaglider", "--store-dir", h.storeDir, "cp", "-", h.url("in/stdin.zip"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once this returns, the upload has read (nearly) all of it: a pipe
	// buffers 64 KiB at most.
	if _, err := stdin.Write(make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute): // a hang guard, not a timing assertion
		cmd.Process.Kill()
		<-done
		t.Fatal("still waiting for stdin after SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("want exit 130, got %v; stderr %q", err, stderr.String())
	}
	checkErrLine(t, stderr.String(), "interrupted")
	if keys := h.rawKeys(h.bucket); len(keys) != 0 {
		t.Fatalf("interrupted upload left %v", keys)
	}
}
