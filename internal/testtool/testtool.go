// Package testtool holds helpers shared by the project's tests: locating
// external tools used as interop oracles (xdelta3, bsdiff, ...) and the
// public benchmark corpus, with the project's skip policy.
//
// Policy: a test that needs an external tool or the corpus may skip on a
// developer machine that lacks it, but must fail when the environment
// variable DELTAGLIDER_REQUIRE_TOOLS=1 is set (as `make test` and CI do).
package testtool

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Required reports whether missing tools must fail tests instead of
// skipping them.
func Required() bool { return os.Getenv("DELTAGLIDER_REQUIRE_TOOLS") == "1" }

// Missing skips the test, or fails it when tools are required, with why.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (DELTAGLIDER_REQUIRE_TOOLS=1, so this is a failure)", why)
	}
	t.Skipf("%s (set DELTAGLIDER_REQUIRE_TOOLS=1 to make this a failure)", why)
}

// Tool returns the path of an executable on PATH, or skips/fails.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not found on PATH")
	}
	return p
}

// CorpusDir returns the directory of the public corpus built by
// ../shared/corpus/fetch-corpus.sh (or the subset scripts/fetch-test-corpus.sh
// fetches): $DELTAGLIDER_CORPUS, else ~/.cache/deltaglider-corpus.
func CorpusDir() string {
	if d := os.Getenv("DELTAGLIDER_CORPUS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "deltaglider-corpus")
}

// Series returns the files of one corpus series in version order (as listed
// in the corpus manifest), or skips/fails when the series is not present.
func Series(t testing.TB, series string) []string {
	t.Helper()
	files, err := SeriesFiles(series)
	if err != nil || len(files) == 0 {
		Missing(t, "corpus series "+series+" not found in "+CorpusDir()+" (run scripts/fetch-test-corpus.sh)")
	}
	return files
}

// SeriesFiles lists the files of a series in manifest order.
func SeriesFiles(series string) ([]string, error) {
	dir := CorpusDir()
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 || cols[0] != series {
			continue
		}
		p := filepath.Join(dir, cols[2])
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out, sc.Err()
}

// EndsleyBsdiffVersion is the node-bsdiff npm package whose
// src/bsdiff/bsdiff.c (Matthew Endsley's bsdiff, with its command-line
// main) scripts/test.sh builds into the tools cache as the reference
// ENDSLEY/BSDIFF43 writer.
const EndsleyBsdiffVersion = "0.1.9"

// ToolsDir is where scripts/test.sh builds test oracles that no package
// manager installs: ${XDG_CACHE_HOME:-~/.cache}/deltaglider-tools.
func ToolsDir() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "deltaglider-tools")
}

// EndsleyBsdiff returns the path of Endsley's bsdiff executable (writes
// ENDSLEY/BSDIFF43 patches: `bsdiff old new patch`): $DELTAGLIDER_ENDSLEY_BSDIFF,
// else the binary scripts/test.sh builds under ToolsDir. It skips the test,
// or fails it under DELTAGLIDER_REQUIRE_TOOLS=1, when neither is an
// executable file.
func EndsleyBsdiff(t testing.TB) string {
	t.Helper()
	p := os.Getenv("DELTAGLIDER_ENDSLEY_BSDIFF")
	if p == "" {
		p = filepath.Join(ToolsDir(), "node-bsdiff-"+EndsleyBsdiffVersion, "bsdiff")
	}
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		Missing(t, "Endsley bsdiff (ENDSLEY/BSDIFF43 writer) not found at "+p+
			" (set DELTAGLIDER_ENDSLEY_BSDIFF, or run scripts/test.sh, which builds it from npm node-bsdiff@"+
			EndsleyBsdiffVersion+")")
	}
	return p
}
