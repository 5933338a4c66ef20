package vcdiff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"pgregory.net/rapid"
)

// Test helpers of this file are prefixed rc so they do not depend on
// helpers other files of the package may change.

func rcRandom(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// rcText returns n bytes of log-like text.
func rcText(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 8))
	var b bytes.Buffer
	words := []string{"GET", "PUT", "object", "bucket", "delta", "window", "200", "404", "ms", "bytes"}
	for b.Len() < n {
		fmt.Fprintf(&b, "%06d %s /%s/%d %s %d\n", r.IntN(1000000), words[r.IntN(len(words))],
			words[r.IntN(len(words))], r.IntN(5000), words[r.IntN(len(words))], r.IntN(1<<20))
	}
	return b.Bytes()[:n]
}

// rcEdit returns src with scattered small edits.
func rcEdit(seed uint64, src []byte, edits int) []byte {
	r := rand.New(rand.NewPCG(seed, 9))
	b := bytes.Clone(src)
	for range edits {
		pos := r.IntN(len(b))
		switch r.IntN(3) {
		case 0:
			b = append(b[:pos], append(rcText(r.Uint64(), 1+r.IntN(200)), b[pos:]...)...)
		case 1:
			b = append(b[:pos], b[min(len(b), pos+1+r.IntN(300)):]...)
		default:
			copy(b[pos:], rcRandom(r.Uint64(), 1+r.IntN(8)))
		}
	}
	return b
}

// rcXdelta3 runs stock xdelta3 with args in dir and returns its stdout.
func rcXdelta3(t testing.TB, xd string, args ...string) []byte {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd := exec.Command(xd, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xdelta3 %v: %v: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes()
}

func rcWrite(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rcEncodeXD makes a patch with stock xdelta3 -e (srcPath may be "").
func rcEncodeXD(t testing.TB, xd, dir, srcPath, tgtPath string, flags ...string) []byte {
	t.Helper()
	args := append([]string{"-e", "-D", "-f", "-c", "-A="}, flags...)
	if srcPath != "" {
		args = append(args, "-s", srcPath)
	}
	return rcXdelta3(t, xd, append(args, tgtPath)...)
}

// rcCheck requires patch to decode to want with both stock xdelta3 -d and
// this package's Decode.
func rcCheck(t testing.TB, xd, dir string, patch []byte, srcPath string, src, want []byte) {
	t.Helper()
	got, err := Decode(nil, patch, src)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Decode: %d bytes, want %d: content differs", len(got), len(want))
	}
	pp := rcWrite(t, dir, "recoded.vcdiff", patch)
	args := []string{"-d", "-D", "-f", "-c"}
	if srcPath != "" {
		args = append(args, "-s", srcPath)
	}
	if got := rcXdelta3(t, xd, append(args, pp)...); !bytes.Equal(got, want) {
		t.Fatalf("xdelta3 -d: %d bytes, want %d: content differs", len(got), len(want))
	}
}

// recodeVariants are the output settings every interop test runs.
var recodeVariants = []struct {
	name string
	opts []RecodeOption
}{
	{"lzma1", []RecodeOption{WithRecodeLevel(1)}},
	{"lzma6", nil},
	{"lzma9", []RecodeOption{WithRecodeLevel(9)}},
	{"djw6", []RecodeOption{WithRecodeSecondary(SecondaryDJW)}},
	{"djw9", []RecodeOption{WithRecodeSecondary(SecondaryDJW), WithRecodeLevel(9)}},
	{"none", []RecodeOption{WithRecodeSecondary(SecondaryNone)}},
}

// compressedSections counts the windows' compressed sections.
func compressedSections(t testing.TB, patch []byte) (n, total int) {
	t.Helper()
	info, err := Inspect(bytes.NewReader(patch))
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	for _, w := range info.Windows {
		for _, s := range []SectionInfo{w.Data, w.Inst, w.Addr} {
			total++
			if s.Compressed {
				n++
			}
		}
	}
	return n, total
}

// TestRecodeInterop recodes multi-window patches from this package's
// encoder and from stock xdelta3 (plain, LZMA and DJW inputs) and checks
// every output with xdelta3 -d and Decode.
func TestRecodeInterop(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	dir := t.TempDir()
	src := append(rcText(1, 600<<10), rcRandom(2, 100<<10)...)
	tgt := rcEdit(3, src, 300)
	srcPath := rcWrite(t, dir, "src", src)
	tgtPath := rcWrite(t, dir, "tgt", tgt)

	inputs := map[string][]byte{}
	for _, ws := range []int{16 << 10, 100 << 10, DefaultWindowSize} {
		p, err := Encode(nil, src, tgt, WithWindowSize(ws))
		if err != nil {
			t.Fatal(err)
		}
		inputs[fmt.Sprintf("ours-W%d", ws)] = p
	}
	p, err := Encode(nil, nil, tgt, WithWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	inputs["ours-nosrc"] = p
	for name, flags := range map[string][]string{
		"xd-none-W16K": {"-S", "none", "-W", "16384"},
		"xd-lzma-W64K": {"-W", "65536"},
		"xd-djw-W64K":  {"-S", "djw", "-W", "65536"},
		"xd-9-none":    {"-9", "-S", "none"},
	} {
		inputs[name] = rcEncodeXD(t, xd, dir, srcPath, tgtPath, flags...)
	}
	for name, in := range inputs {
		s, sp := src, srcPath
		if name == "ours-nosrc" {
			s, sp = nil, ""
		}
		for _, v := range recodeVariants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				out, err := Recode(nil, in, v.opts...)
				if err != nil {
					t.Fatalf("Recode: %v", err)
				}
				rcCheck(t, xd, dir, out, sp, s, tgt)
				n, total := compressedSections(t, out)
				t.Logf("%d -> %d bytes, %d of %d sections compressed", len(in), len(out), n, total)
				if v.name != "none" && n == 0 {
					t.Fatalf("no section compressed")
				}
				if v.name == "none" && n != 0 {
					t.Fatalf("%d sections compressed with SecondaryNone", n)
				}
			})
		}
	}
}

// TestRecodeDroppedSection: an incompressible data section between
// compressible ones is stored raw, the LZMA stream restarts with a
// dictionary reset, and stock xdelta3 still decodes the patch.
func TestRecodeDroppedSection(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	dir := t.TempDir()
	const ws = 64 << 10
	var tgt []byte
	tgt = append(tgt, rcText(10, ws)...)
	tgt = append(tgt, rcRandom(11, ws)...)
	tgt = append(tgt, rcText(12, ws)...)
	tgt = append(tgt, rcRandom(13, ws)...)
	tgt = append(tgt, rcText(14, ws)...)
	plain, err := Encode(nil, nil, tgt, WithWindowSize(ws))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range recodeVariants[:5] {
		t.Run(v.name, func(t *testing.T) {
			out, err := Recode(nil, plain, v.opts...)
			if err != nil {
				t.Fatal(err)
			}
			info, err := Inspect(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			var pattern []bool
			for _, w := range info.Windows {
				pattern = append(pattern, w.Data.Compressed)
			}
			if fmt.Sprint(pattern) != "[true false true false true]" {
				t.Fatalf("data section compressed per window: %v", pattern)
			}
			rcCheck(t, xd, dir, out, "", nil, tgt)
		})
	}
}

// TestRecodeNeverLarger: no window grows, and recoding back to
// SecondaryNone restores the input byte for byte.
func TestRecodeNeverLarger(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		src := rapid.SliceOfN(rapid.Byte(), 0, 3000).Draw(t, "src")
		tgt := rapid.SliceOfN(rapid.ByteRange(0, byte(rapid.IntRange(1, 255).Draw(t, "alphabet"))), 0, 6000).Draw(t, "tgt")
		if rapid.Bool().Draw(t, "derived") && len(src) > 0 {
			tgt = append(tgt, src[rapid.IntRange(0, len(src)-1).Draw(t, "cut"):]...)
		}
		ws := rapid.IntRange(1, 8000).Draw(t, "window")
		sec := rapid.SampledFrom([]int{SecondaryLZMA, SecondaryDJW, SecondaryNone}).Draw(t, "secondary")
		level := rapid.IntRange(1, 9).Draw(t, "level")
		plain, err := Encode(nil, src, tgt, WithWindowSize(ws))
		if err != nil {
			t.Fatal(err)
		}
		out, err := Recode(nil, plain, WithRecodeSecondary(sec), WithRecodeLevel(level))
		if err != nil {
			t.Fatalf("Recode: %v", err)
		}
		got, err := Decode(nil, out, src)
		if err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("Decode of recoded patch: %v (equal %v)", err, bytes.Equal(got, tgt))
		}
		a, err1 := Inspect(bytes.NewReader(plain))
		b, err2 := Inspect(bytes.NewReader(out))
		if err1 != nil || err2 != nil || len(a.Windows) != len(b.Windows) {
			t.Fatalf("Inspect: %v %v", err1, err2)
		}
		for i := range a.Windows {
			if b.Windows[i].Size > a.Windows[i].Size {
				t.Fatalf("window %d grew from %d to %d bytes", i, a.Windows[i].Size, b.Windows[i].Size)
			}
		}
		back, err := Recode(nil, out, WithRecodeSecondary(SecondaryNone))
		if err != nil || !bytes.Equal(back, plain) {
			t.Fatalf("recode to none: %v (equal %v)", err, bytes.Equal(back, plain))
		}
	})
}

// TestRecoderSplitWrites: the output does not depend on how the input is
// split across Write calls.
func TestRecoderSplitWrites(t *testing.T) {
	src := rcText(20, 200<<10)
	tgt := rcEdit(21, src, 100)
	plain, err := Encode(nil, src, tgt, WithWindowSize(20<<10))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Recode(nil, plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{1, 7, 4096, 70000} {
		var out bytes.Buffer
		r, err := NewRecoder(&out)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(plain); i += step {
			if _, err := r.Write(plain[i:min(i+step, len(plain))]); err != nil {
				t.Fatalf("step %d: Write: %v", step, err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatalf("step %d: Close: %v", step, err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("step %d: output differs from Recode", step)
		}
		// Reset reuses the Recoder for another patch.
		out.Reset()
		r.Reset(&out)
		if _, err := io.Copy(r, bytes.NewReader(plain)); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil || !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("after Reset: %v", err)
		}
	}
}

// TestRecodeBadInput: truncations and garbage fail cleanly.
func TestRecodeBadInput(t *testing.T) {
	src := rcText(30, 50<<10)
	tgt := rcEdit(31, src, 30)
	plain, err := Encode(nil, src, tgt, WithWindowSize(8<<10))
	if err != nil {
		t.Fatal(err)
	}
	lz, err := Recode(nil, plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{plain, lz} {
		info, err := Inspect(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		ends := map[int]bool{}
		for _, w := range info.Windows {
			ends[int(w.Offset+w.Size)] = true
		}
		for n := 0; n < len(in); n += 1 + n/16 {
			if ends[n] {
				continue // a patch with fewer windows
			}
			if _, err := Recode(nil, in[:n]); err == nil {
				t.Fatalf("prefix of %d of %d bytes: no error", n, len(in))
			}
		}
	}
	if _, err := Recode(nil, []byte("not a patch at all")); !errors.Is(err, ErrFormat) {
		t.Fatalf("garbage: %v, want ErrFormat", err)
	}
	if _, err := Recode(nil, nil); !errors.Is(err, ErrFormat) {
		t.Fatalf("empty: %v, want ErrFormat", err)
	}
	if _, err := NewRecoder(io.Discard, WithRecodeSecondary(SecondaryFGK)); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("FGK option: %v", err)
	}
	if _, err := NewRecoder(io.Discard, WithRecodeLevel(10)); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("level 10: %v", err)
	}
	// A flipped byte inside a compressed section is reported as corruption.
	bad := bytes.Clone(lz)
	bad[len(bad)/2] ^= 0x55
	if _, err := Recode(nil, bad, WithRecodeSecondary(SecondaryNone)); err == nil {
		if _, derr := Decode(nil, bad, src); derr == nil {
			t.Log("flip landed in a harmless place")
		}
	}
	// Use after Close.
	r, _ := NewRecoder(io.Discard)
	r.Write(plain)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Write(plain); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

// TestRecodeCorpus: on real release pairs (DeltaGlider scheme: first
// version against later ones), recoding xdelta3 -S none patches is no
// larger than stock xdelta3's own LZMA output at the best recode level
// (level 6 was 0.05 % larger on x/net zips, whose instruction sections
// liblzma compresses better than ulikunitz/xz), and our encoder's patches
// recode to files xdelta3 -d decodes.
func TestRecodeCorpus(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	series := []string{"gomod-x-net", "elf-esbuild"}
	if os.Getenv("LONG") == "1" {
		series = append(series, "sql-dump", "npm-typescript-tar")
	}
	dir := t.TempDir()
	for _, s := range series {
		files := testtool.Series(t, s)
		if len(files) < 2 {
			testtool.Missing(t, s+" has fewer than 2 versions")
		}
		for _, tp := range []string{files[len(files)-1]} {
			t.Run(s+"/"+filepath.Base(tp), func(t *testing.T) {
				src, err := os.ReadFile(files[0])
				if err != nil {
					t.Fatal(err)
				}
				tgt, err := os.ReadFile(tp)
				if err != nil {
					t.Fatal(err)
				}
				for _, lvl := range []string{"-9"} {
					none := rcEncodeXD(t, xd, dir, files[0], tp, lvl, "-S", "none")
					stock := rcEncodeXD(t, xd, dir, files[0], tp, lvl)
					rec, err := Recode(nil, none, WithRecodeLevel(BestRecodeLevel))
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("xdelta3 %s: -S none %d, stock LZMA %d, recoded LZMA %d bytes", lvl, len(none), len(stock), len(rec))
					if len(rec) > len(stock) {
						t.Errorf("xdelta3 %s: recoded %d bytes > stock LZMA %d", lvl, len(rec), len(stock))
					}
					rcCheck(t, xd, dir, rec, files[0], src, tgt)
				}
				ours, err := Encode(nil, src, tgt)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range recodeVariants[1:4] {
					rec, err := Recode(nil, ours, v.opts...)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("ours %d -> %s %d bytes", len(ours), v.name, len(rec))
					rcCheck(t, xd, dir, rec, files[0], src, tgt)
				}
			})
		}
	}
}

// hintRatio encodes tgt against src at the default level without and with
// WithSecondaryHint(SecondaryLZMA), recodes both with LZMA, has our decoder
// and stock xdelta3 apply every plain and recoded patch, and returns the
// hinted LZMA patch's size over the unhinted one's.
func hintRatio(t *testing.T, xd, dir, srcPath string, src, tgt []byte) float64 {
	t.Helper()
	sizes := map[bool]int{}
	for _, hint := range []bool{false, true} {
		opts := []EncoderOption{}
		if hint {
			opts = append(opts, WithSecondaryHint(SecondaryLZMA))
		}
		plain, err := Encode(nil, src, tgt, opts...)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := Recode(nil, plain, WithRecodeSecondary(SecondaryLZMA))
		if err != nil {
			t.Fatal(err)
		}
		rcCheck(t, xd, dir, plain, srcPath, src, tgt)
		rcCheck(t, xd, dir, rec, srcPath, src, tgt)
		sizes[hint] = len(rec)
		t.Logf("hint %v: target %d bytes, plain patch %d, LZMA %d", hint, len(tgt), len(plain), len(rec))
	}
	return float64(sizes[true]) / float64(sizes[false])
}

// firstLastPair reads the first and the last version of a corpus series
// (the DeltaGlider scheme's widest pair), or skips/fails when the series
// is missing; srcPath is the first version's path.
func firstLastPair(t testing.TB, series string) (srcPath string, src, tgt []byte) {
	t.Helper()
	files := testtool.Series(t, series)
	if len(files) < 2 {
		testtool.Missing(t, series+" has fewer than 2 versions")
	}
	src, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	tgt, err = os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	return files[0], src, tgt
}

// TestSecondaryHintCorpus: a patch encoded for LZMA (WithSecondaryHint)
// and then recoded with LZMA is much smaller on an executable, whose code
// moved by a few bytes everywhere, than the same encode without the hint
// (HERE-mode addresses repeat while the alignment holds), and about the
// same on Go module zips; every patch, plain and recoded, decodes with our
// decoder and with stock xdelta3 -d.
func TestSecondaryHintCorpus(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	dir := t.TempDir()
	for _, c := range []struct {
		series string
		most   float64 // hinted / plain LZMA bytes at most
	}{{"elf-esbuild", 0.92}, {"gomod-x-net", 1.002}} {
		t.Run(c.series, func(t *testing.T) {
			srcPath, src, tgt := firstLastPair(t, c.series)
			if r := hintRatio(t, xd, dir, srcPath, src, tgt); r > c.most {
				t.Errorf("LZMA patch encoded with the hint is %.3f x the one without (want at most %.3f)", r, c.most)
			}
		})
	}
}

// sqlLikePair returns a text source of INSERT lines and a target with
// about one line in twenty rewritten, some inserted and some dropped: low
// byte entropy, many short matches.
func sqlLikePair(lines int) ([]byte, []byte) {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
	r := uint64(12345)
	next := func() uint64 { r ^= r << 13; r ^= r >> 7; r ^= r << 17; return r }
	line := func(i int) string {
		return fmt.Sprintf("INSERT INTO orders VALUES (%d, '%s %s', %d.%02d, '2026-%02d-%02d', %d);\n", i,
			words[next()%10], words[next()%10], next()%100000, next()%100, 1+next()%12, 1+next()%28, next()%7)
	}
	var src, tgt bytes.Buffer
	for i := range lines {
		l := line(i)
		src.WriteString(l)
		switch next() % 20 {
		case 0:
			tgt.WriteString(line(i))
		case 1:
			tgt.WriteString(l)
			tgt.WriteString(line(lines + i))
		case 2:
		default:
			tgt.WriteString(l)
		}
	}
	return src.Bytes(), tgt.Bytes()
}

// TestSecondaryHintText: on text the hint raises the value a COPY must
// have (LZMA stores short stretches of text better as ADD bytes), and the
// LZMA patch comes out smaller than without the hint; stock xdelta3 -d
// and our decoder apply both.
func TestSecondaryHintText(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	dir := t.TempDir()
	src, tgt := sqlLikePair(60_000)
	srcPath := filepath.Join(dir, "src.sql")
	if err := os.WriteFile(srcPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := hintRatio(t, xd, dir, srcPath, src, tgt); r > 0.97 {
		t.Errorf("text: LZMA patch with the hint is %.3f x the one without, want at most 0.97", r)
	}
}
