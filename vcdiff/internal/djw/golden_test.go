package djw

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

var update = flag.Bool("update", false, "regenerate testdata/golden from stock xdelta3")

// Golden vectors: DJW sections written by stock xdelta3 3.0.11 (-S djw6 and
// -S djw9, the latter with several code tables), stored as
// testdata/golden/<name>.djw (the section as in the patch: varint decoded
// size + DJW bytes) and <name>.raw (the same section from the -S none
// patch). They keep the decoder checked where xdelta3 is not installed.
func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	if *update {
		writeGolden(t, dir)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.djw"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no golden vectors in %s (run go test -run TestGolden -update)", dir)
	}
	multi := 0
	for _, name := range names {
		sect, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(strings.TrimSuffix(name, ".djw") + ".raw")
		if err != nil {
			t.Fatal(err)
		}
		size, body, err := splitSection(sect)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(body, size)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: decoded bytes differ", name)
		}
		if body[0]&7 != 0 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatal("no multi-table golden vector")
	}
}

func writeGolden(t *testing.T, dir string) {
	tool := testtool.Tool(t, "xdelta3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range old {
		os.Remove(f)
	}
	// Small no-source inputs keep the data sections large enough for
	// djw9's several tables while the files stay small.
	cases := []interopCase{
		{name: "text", tgt: genInput("text", 9000, 77)},
		{name: "binary", tgt: genInput("binary", 12000, 78)},
		{name: "skewed", src: genInput("skewed", 3000, 79), tgt: mutate(genInput("skewed", 3000, 79), 80, "skewed")},
	}
	for _, c := range cases {
		key := c.name
		tmp := t.TempDir()
		writeCase(t, tmp, c)
		plain, err := parseTestPatch(xdelta3Encode(t, tool, tmp, c, "none"))
		if err != nil {
			t.Fatal(err)
		}
		for _, level := range []int{6, 9} {
			p, err := parseTestPatch(xdelta3Encode(t, tool, tmp, c, fmt.Sprintf("djw%d", level)))
			if err != nil {
				t.Fatal(err)
			}
			for k, kname := range []string{"data", "inst", "addr"} {
				// The first compressed section of each kind.
				for wi, w := range p.windows {
					if w.delta&(1<<k) == 0 {
						continue
					}
					base := filepath.Join(dir, fmt.Sprintf("%s-djw%d-%s", strings.ReplaceAll(key, "/", "-"), level, kname))
					if err := os.WriteFile(base+".djw", w.sect[k], 0o644); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(base+".raw", plain.windows[wi].sect[k], 0o644); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
		}
	}
}
