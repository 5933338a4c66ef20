package importrules

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/deltaglider-go/deltaglider"

// rules: a (non-test) import of a path with this prefix is allowed only
// in packages whose import path starts with one of the listed prefixes.
var rules = []struct {
	dep     string
	allowed []string
}{
	{"github.com/urfave/cli", []string{module + "/cmd/"}},
	{"github.com/aws/", []string{module + "/s3store"}},
	{"github.com/schollz/progressbar", []string{module + "/cmd/"}},
}

// goList runs `go list` over the whole module with CGO_ENABLED=0.
func goList(t *testing.T, format string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f", format, module+"/...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go not on PATH")
	}
	lines := goList(t, `{{.ImportPath}} {{join .Imports " "}}`)
	if len(lines) < 10 {
		t.Fatalf("go list saw only %d packages", len(lines))
	}
	for _, l := range lines {
		f := strings.Fields(l)
		pkg, imports := f[0], f[1:]
		for _, imp := range imports {
			for _, r := range rules {
				if !strings.HasPrefix(imp, r.dep) {
					continue
				}
				ok := false
				for _, a := range r.allowed {
					ok = ok || strings.HasPrefix(pkg, a)
				}
				if !ok {
					t.Errorf("%s imports %s (allowed only in %v)", pkg, imp, r.allowed)
				}
			}
		}
	}
}

// Every package of the module, and everything it depends on, builds with
// CGO_ENABLED=0: no package is left out of the build for want of cgo.
func TestNoCgo(t *testing.T) {
	for _, l := range goList(t, `{{.ImportPath}} {{len .CgoFiles}} {{if .Error}}ERROR:{{.Error}}{{end}}`) {
		f := strings.Fields(l)
		if len(f) > 2 {
			t.Errorf("with CGO_ENABLED=0: %s", l)
		} else if f[1] != "0" {
			t.Errorf("%s has cgo files", f[0])
		}
	}
}
