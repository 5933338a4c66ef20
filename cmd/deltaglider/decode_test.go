package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goldenDir = "../../vcdiff/testdata/golden"

func golden(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(goldenDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCLI runs the app in-process and returns exit code, stdout, stderr.
func runCLI(t *testing.T, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"deltaglider"}, args...), bytes.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestDecodeToFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")
	want, _ := os.ReadFile(golden(t, "text.tgt"))
	code, stdout, stderr := runCLI(t, nil, "decode", "-s", golden(t, "text.src"), golden(t, "text.w16k.vcdiff"), out)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("output differs (%d bytes, %v)", len(got), err)
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Fatalf("directory holds %v, want only out.bin", names)
	}
	// OUT exists: refused without --force, replaced with it.
	code, _, stderr = runCLI(t, nil, "decode", "-s", golden(t, "text.src"), golden(t, "text.default.vcdiff"), out)
	if code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("existing OUT: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "decode", "--force", "-s", golden(t, "text.src"), golden(t, "text.default.vcdiff"), out)
	if code != 0 {
		t.Fatalf("--force: exit %d, stderr %q", code, stderr)
	}
}

func TestDecodeStdio(t *testing.T) {
	patch, _ := os.ReadFile(golden(t, "runs.nosrc.vcdiff"))
	want, _ := os.ReadFile(golden(t, "runs.tgt"))
	for _, args := range [][]string{{"decode"}, {"decode", "-"}, {"decode", "-", "-"}} {
		code, stdout, stderr := runCLI(t, patch, args...)
		if code != 0 || stderr != "" || stdout != string(want) {
			t.Fatalf("%v: exit %d, %d bytes out, stderr %q", args, code, len(stdout), stderr)
		}
	}
}

func TestDecodeFailures(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")
	// A wrong source: checksum error naming the window, no OUT, no temp file.
	bad := filepath.Join(dir, "bad.src")
	src, _ := os.ReadFile(golden(t, "text.src"))
	src[100] ^= 1
	if err := os.WriteFile(bad, src, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"wrong-source", []string{"decode", "-s", bad, golden(t, "text.w16k.vcdiff"), out}, 1, "checksum mismatch"},
		{"missing-source", []string{"decode", golden(t, "text.default.vcdiff"), out}, 1, "needs a source"},
		{"no-such-patch", []string{"decode", "-s", bad, filepath.Join(dir, "nope"), out}, 1, "no such file"},
		{"not-a-patch", []string{"decode", "-s", bad, bad, out}, 1, "not a VCDIFF patch"},
		{"truncated", []string{"decode", "-s", golden(t, "text.src"), truncated(t, dir), out}, 1, "unexpected EOF"},
		{"too-many-args", []string{"decode", golden(t, "text.default.vcdiff"), out, "extra"}, 2, "too many arguments"},
		{"bad-flag", []string{"decode", "--nope", golden(t, "text.default.vcdiff")}, 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, stderr)
			}
			if !strings.HasPrefix(stderr, "deltaglider: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.stderr) {
				t.Fatalf("stderr %q: want one line containing %q", stderr, c.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("OUT was created")
			}
			for _, n := range dirEntries(t, dir) {
				if strings.Contains(n, ".decode-") {
					t.Fatalf("temporary file %s left behind", n)
				}
			}
		})
	}
	// --no-verify decodes the wrong source anyway (like xdelta3 -d -n).
	code, _, stderr := runCLI(t, nil, "decode", "-n", "-s", bad, golden(t, "text.w16k.vcdiff"), out)
	if code != 0 {
		t.Fatalf("--no-verify: exit %d, %q", code, stderr)
	}
}

func truncated(t *testing.T, dir string) string {
	p, _ := os.ReadFile(golden(t, "text.w16k.vcdiff"))
	name := filepath.Join(dir, "trunc.vcdiff")
	if err := os.WriteFile(name, p[:len(p)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}
