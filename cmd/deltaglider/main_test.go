package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// asCLI makes the test binary behave as the deltaglider binary (main, with
// its real signal handling and exit code) when it is started by a test.
const asCLI = "DELTAGLIDER_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// binDir returns a directory holding "deltaglider", a link to this test
// binary, for tests that start the CLI as a process (shells, signals,
// terminals). The environment it needs is set with t.Setenv.
func binDir(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(dir, "deltaglider")); err != nil {
		t.Fatal(err)
	}
	t.Setenv(asCLI, "1")
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// TestBashCompletionScript loads the script of `completion bash` into a
// real bash and asks it what it completes.
func TestBashCompletionScript(t *testing.T) {
	bash := testtool.Tool(t, "bash")
	binDir(t)
	files := t.TempDir()
	os.WriteFile(filepath.Join(files, "file-one.zip"), []byte("x"), 0o644)
	// Nothing may run for real while completing: the store stays empty.
	store := t.TempDir()
	t.Setenv("DG_STORE_DIR", store)
	script := `set -u
source <(deltaglider completion bash)
comp() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _deltaglider_complete; printf '%s\n' "${COMPREPLY[@]}"; echo "--- $*"; }
comp deltaglider mi
comp deltaglider cp --rec
comp deltaglider cp fi
comp deltaglider cp ''
comp deltaglider verify --
comp deltaglider mb s3://new-bucket --
comp deltaglider rm -- fi
`
	cmd := exec.Command(bash, "-c", script)
	cmd.Dir = files
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	got := map[string][]string{}
	var cur []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if q, ok := strings.CutPrefix(l, "--- "); ok {
			got[q] = cur
			cur = nil
			continue
		}
		if l != "" {
			cur = append(cur, l)
		}
	}
	want := map[string]string{
		"deltaglider mi":                    "migrate",
		"deltaglider cp --rec":              "--recursive",
		"deltaglider cp fi":                 "file-one.zip",
		"deltaglider cp ":                   "file-one.zip", // files, not a "help" subcommand
		"deltaglider rm -- fi":              "file-one.zip",
		"deltaglider mb s3://new-bucket --": "",
		"deltaglider verify --":             "",
	}
	for q, w := range want {
		g, ok := got[q]
		if !ok {
			t.Fatalf("no completion for %q in:\n%s", q, out)
		}
		if w != "" && strings.Join(g, " ") != w {
			t.Errorf("%q completes to %q, want %q", q, g, w)
		}
	}
	// "--" lists the long flags of the command (a literal "--" would end
	// urfave/cli's flag parsing and run the command instead).
	for _, q := range []string{"deltaglider verify --", "deltaglider mb s3://new-bucket --"} {
		g := strings.Join(got[q], " ")
		if !strings.Contains(g, "--store-dir") || !strings.Contains(g, "--json") || strings.Contains(g, " -r") {
			t.Errorf("%q completes to %q", q, g)
		}
	}
	if !strings.Contains(strings.Join(got["deltaglider verify --"], " "), "--all") {
		t.Errorf("verify flags: %q", got["deltaglider verify --"])
	}
	if ents, _ := os.ReadDir(store); len(ents) != 0 {
		t.Fatalf("completing ran a command: the store holds %v", ents)
	}
}

// TestOperandNamedHelp: no command has a "help" subcommand that would
// swallow an operand spelled help or h.
func TestOperandNamedHelp(t *testing.T) {
	h := newHarness(t, "fs")
	dir := t.TempDir()
	for _, n := range []string{"h", "help"} {
		os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644)
	}
	t.Chdir(dir)
	for _, n := range []string{"h", "help"} {
		r := h.ok("cp", n, h.url("x/"))
		if !strings.HasPrefix(r.stdout, "upload: "+n+" to "+h.url("x/"+n)) {
			t.Fatalf("%v", r)
		}
	}
	if r := h.ok("cp", "--help"); !strings.Contains(r.stdout, "deltaglider cp") {
		t.Fatalf("%v", r)
	}
}

// TestVersion: --version (and -v) print the build's version, toolchain and
// platform on stdout and exit 0.
func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		code, out, errOut := runCLI(t, nil, flag)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d, stderr %q", flag, code, errOut)
		}
		want := "deltaglider version "
		if !strings.HasPrefix(out, want) || !strings.Contains(out, runtime.Version()) || !strings.Contains(out, runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("%s printed %q, want %q, the Go version and the platform", flag, out, want+"...")
		}
	}
}
