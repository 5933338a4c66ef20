package djw

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// genInput returns deterministic test data of one kind.
func genInput(kind string, size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, 0, size+64)
	switch kind {
	case "text":
		words := []string{"the", "delta", "window", "source", "target", "copy", "add", "run",
			"huffman", "table", "sector", "of", "and", "a", "to", "in", "xdelta3", "section",
			"compress", "bytes", "\n", ", ", ". ", "func", "return", "if", "{", "}", "(", ")"}
		for len(b) < size {
			w := words[int(r.ExpFloat64()*6)%len(words)]
			b = append(b, w...)
			if r.IntN(3) != 0 {
				b = append(b, ' ')
			}
		}
	case "binary":
		for len(b) < size {
			// Records: small little-endian ints, a tag, a float-ish word.
			v := uint32(r.NormFloat64()*300 + 1000)
			b = append(b, byte(v), byte(v>>8), 0, 0, byte(r.IntN(8)), 0x7f, byte(r.IntN(256)), byte(r.IntN(4)))
		}
	case "runs":
		for len(b) < size {
			c := byte(r.IntN(6)) * 40
			n := 1 + r.IntN(200)
			for i := 0; i < n; i++ {
				b = append(b, c)
			}
		}
	case "random":
		for len(b) < size {
			b = append(b, byte(r.Uint32()))
		}
	case "skewed":
		// Few symbols with very skewed frequencies: forces long codes.
		for len(b) < size {
			k := 0
			for k < 30 && r.IntN(2) == 0 {
				k++
			}
			b = append(b, byte(k*7))
		}
	default:
		panic(kind)
	}
	return b[:size]
}

// mutate derives a target from a source: edits, insertions and deletions.
func mutate(src []byte, seed uint64, kind string) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]byte, 0, len(src)+len(src)/8)
	for i := 0; i < len(src); {
		n := 1 + r.IntN(2000)
		if i+n > len(src) {
			n = len(src) - i
		}
		out = append(out, src[i:i+n]...)
		i += n
		switch r.IntN(4) {
		case 0:
			out = append(out, genInput(kind, 1+r.IntN(300), r.Uint64())...)
		case 1:
			i += r.IntN(200)
		case 2:
			for j := 0; j < 1+r.IntN(20); j++ {
				out = append(out, byte(r.IntN(256)))
			}
		}
	}
	return out
}

type interopCase struct {
	name       string
	src, tgt   []byte
	extraFlags []string
}

func interopCases() []interopCase {
	var cs []interopCase
	for i, kind := range []string{"text", "binary", "runs", "random", "skewed"} {
		for j, size := range []int{3000, 70000} {
			seed := uint64(100*i + j)
			src := genInput(kind, size, seed)
			cs = append(cs, interopCase{name: fmt.Sprintf("%s/%d", kind, size), src: src, tgt: mutate(src, seed+1, kind)})
		}
		// Multi-window, and no source at all (large data sections).
		seed := uint64(100*i + 50)
		src := genInput(kind, 200000, seed)
		cs = append(cs, interopCase{name: fmt.Sprintf("%s/200000-W16384", kind), src: src,
			tgt: mutate(src, seed+1, kind), extraFlags: []string{"-W", "16384"}})
		cs = append(cs, interopCase{name: fmt.Sprintf("%s/nosource", kind),
			tgt: genInput(kind, 120000, seed+2)})
	}
	return cs
}

// xdelta3Encode runs stock xdelta3 -e with the given secondary setting.
func xdelta3Encode(t *testing.T, tool, dir string, c interopCase, secondary string) []byte {
	t.Helper()
	tgt := filepath.Join(dir, "tgt")
	out := filepath.Join(dir, "patch."+secondary)
	args := []string{"-e", "-f", "-A=", "-B", "524288", "-S", secondary}
	args = append(args, c.extraFlags...)
	if c.src != nil {
		args = append(args, "-s", filepath.Join(dir, "src"))
	}
	args = append(args, tgt, out)
	if msg, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("xdelta3 %v: %v\n%s", args, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeCase(t *testing.T, dir string, c interopCase) {
	t.Helper()
	if c.src != nil {
		if err := os.WriteFile(filepath.Join(dir, "src"), c.src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "tgt"), c.tgt, 0o644); err != nil {
		t.Fatal(err)
	}
}

type interopStats struct {
	sections, multi      int
	stockBytes, ourBytes [10]int
}

// checkStockDecode encodes c with stock xdelta3 -S djwN for each level and
// checks that Decode reproduces every compressed section byte for byte,
// taking the same patch made with -S none as the reference (the matcher
// does not depend on the secondary compressor).
func checkStockDecode(t *testing.T, tool string, c interopCase, levels []int, st *interopStats) {
	dir := t.TempDir()
	writeCase(t, dir, c)
	plain, err := parseTestPatch(xdelta3Encode(t, tool, dir, c, "none"))
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range levels {
		sec := fmt.Sprintf("djw%d", level)
		p, err := parseTestPatch(xdelta3Encode(t, tool, dir, c, sec))
		if err != nil {
			t.Fatalf("%s: %v", sec, err)
		}
		if p.secID != 1 || len(p.windows) != len(plain.windows) {
			t.Fatalf("%s: secondary id %d, %d windows (plain %d)", sec, p.secID, len(p.windows), len(plain.windows))
		}
		for wi, w := range p.windows {
			for k := 0; k < 3; k++ {
				want := plain.windows[wi].sect[k]
				if w.delta&(1<<k) == 0 {
					if !bytes.Equal(w.sect[k], want) {
						t.Fatalf("%s window %d section %d: raw section differs from -S none", sec, wi, k)
					}
					continue
				}
				size, body, err := splitSection(w.sect[k])
				if err != nil {
					t.Fatal(err)
				}
				got, err := Decode(body, size)
				if err != nil {
					t.Fatalf("%s window %d section %d (%d bytes -> %d): %v", sec, wi, k, len(body), size, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s window %d section %d: decoded bytes differ", sec, wi, k)
				}
				st.sections++
				st.stockBytes[level] += len(body)
				st.ourBytes[level] += len(Encode(nil, want, level))
				if body[0]&7 != 0 {
					st.multi++
				}
			}
		}
	}
}

type encodeVariant struct {
	name string
	enc  func(src []byte) []byte
}

var encodeVariants = []encodeVariant{
	{"level0", func(b []byte) []byte { return Encode(nil, b, 0) }},
	{"level7", func(b []byte) []byte { return Encode(nil, b, 7) }},
	{"level9", func(b []byte) []byte { return Encode(nil, b, 9) }},
	// Forced multi-table plans, whatever they cost.
	{"8x5", func(b []byte) []byte { return encodePlans(nil, b, []plan{{8, 5}}) }},
	{"3x160", func(b []byte) []byte { return encodePlans(nil, b, []plan{{3, 160}}) }},
}

// checkStockApply re-encodes every non-empty section of a -S none patch of
// c with each variant, splices the results in (delta bits set, secondary ID
// 1) and checks that stock xdelta3 -d reproduces the target byte for byte.
func checkStockApply(t *testing.T, tool string, c interopCase, variants []encodeVariant, st *interopStats) {
	dir := t.TempDir()
	writeCase(t, dir, c)
	plain, err := parseTestPatch(xdelta3Encode(t, tool, dir, c, "none"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range variants {
		p := *plain
		p.hdrInd |= 1
		p.secID = 1
		p.windows = append([]testWindow(nil), plain.windows...)
		for wi := range p.windows {
			w := &p.windows[wi]
			for k := 0; k < 3; k++ {
				raw := w.sect[k]
				if len(raw) == 0 {
					continue
				}
				enc := v.enc(raw)
				got, err := Decode(enc, len(raw))
				if err != nil || !bytes.Equal(got, raw) {
					t.Fatalf("%s window %d section %d: own round trip failed: %v", v.name, wi, k, err)
				}
				if enc[0]&7 != 0 {
					st.multi++
				}
				w.sect[k] = append(appendVarintTest(nil, uint64(len(raw))), enc...)
				w.delta |= 1 << k
				st.sections++
			}
		}
		patch := filepath.Join(dir, "spliced-"+v.name)
		if err := os.WriteFile(patch, p.bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out-"+v.name)
		args := []string{"-d", "-f"}
		if c.src != nil {
			args = append(args, "-s", filepath.Join(dir, "src"))
		}
		args = append(args, patch, out)
		if msg, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: xdelta3 %v: %v\n%s", v.name, args, err, msg)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.tgt) {
			t.Fatalf("%s: xdelta3 -d output differs from the target", v.name)
		}
	}
}

func (st *interopStats) report(t *testing.T, minSections, minMulti int) {
	t.Helper()
	t.Logf("%d DJW sections checked (%d with several code tables)", st.sections, st.multi)
	for level := range st.stockBytes {
		if st.stockBytes[level] != 0 {
			t.Logf("djw%d: stock xdelta3 %d bytes, Encode on the same sections %d bytes", level, st.stockBytes[level], st.ourBytes[level])
		}
	}
	if !t.Failed() && (st.sections < minSections || st.multi < minMulti) {
		t.Fatalf("too few DJW sections exercised: %d (%d multi-table)", st.sections, st.multi)
	}
}

var allLevels = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}

// TestInteropDecode: Decode reads what stock xdelta3 -S djw0..djw9 writes.
func TestInteropDecode(t *testing.T) {
	tool := testtool.Tool(t, "xdelta3")
	var st interopStats
	for _, c := range interopCases() {
		t.Run(c.name, func(t *testing.T) { checkStockDecode(t, tool, c, allLevels, &st) })
	}
	st.report(t, 100, 10)
}

// TestInteropEncode: stock xdelta3 -d applies patches whose sections were
// compressed by Encode.
func TestInteropEncode(t *testing.T) {
	tool := testtool.Tool(t, "xdelta3")
	var st interopStats
	for _, c := range interopCases() {
		t.Run(c.name, func(t *testing.T) { checkStockApply(t, tool, c, encodeVariants, &st) })
	}
	st.report(t, 100, 10)
}

// TestInteropCorpus runs both checks on real files from the public corpus
// (default 8 MiB windows, so sections are large and multi-table coding is
// used at djw7..9). Inputs are capped at 4 MiB to keep the test short.
func TestInteropCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus interop is slow; skipped with -short")
	}
	tool := testtool.Tool(t, "xdelta3")
	const limit = 4 << 20
	var st interopStats
	for _, series := range []string{"gomod-x-net", "elf-esbuild"} {
		files := testtool.Series(t, series)
		if len(files) < 2 {
			testtool.Missing(t, "corpus series "+series+" has fewer than two files")
		}
		read := func(p string) []byte {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b := make([]byte, limit)
			n, _ := io.ReadFull(f, b)
			return b[:n]
		}
		c := interopCase{name: series, src: read(files[0]), tgt: read(files[1])}
		t.Run(series, func(t *testing.T) {
			checkStockDecode(t, tool, c, []int{6, 7, 9}, &st)
			checkStockApply(t, tool, c, encodeVariants[1:3], &st)
		})
	}
	st.report(t, 6, 2)
}
