package vcdiff

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

var update = flag.Bool("update", false, "regenerate testdata/golden with scripts/gen-golden.sh (needs xdelta3, python3)")

// goldenCase is one line of testdata/golden/MANIFEST.
type goldenCase struct {
	patch   string // file name
	pair    string // <pair>.src / <pair>.tgt
	withSrc bool
	flags   string
}

func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "golden", "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			t.Fatalf("bad MANIFEST line %q", sc.Text())
		}
		cases = append(cases, goldenCase{fields[0], fields[1], fields[2] == "1", strings.Join(fields[3:], " ")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("MANIFEST lists only %d patches", len(cases))
	}
	return cases
}

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenInputs returns patch, source (nil without source) and target.
func goldenInputs(t testing.TB, c goldenCase) (patch, src, tgt []byte) {
	patch = readGolden(t, c.patch)
	if c.withSrc {
		src = readGolden(t, c.pair+".src")
	}
	return patch, src, readGolden(t, c.pair+".tgt")
}

func TestGoldenUpdate(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/golden")
	}
	testtool.Tool(t, "xdelta3")
	testtool.Tool(t, "python3")
	cmd := exec.Command("bash", "../scripts/gen-golden.sh")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
}

// TestGolden decodes every patch stock xdelta3 wrote in testdata/golden and
// compares with the target byte for byte, through Decode, the streaming
// Read path with one-byte reads of a one-byte patch reader, and WriteTo.
func TestGolden(t *testing.T) {
	cases := loadGolden(t)
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.patch, ".vcdiff"), func(t *testing.T) {
			patch, src, tgt := goldenInputs(t, c)
			got, err := Decode(nil, patch, src)
			if err != nil {
				t.Fatalf("Decode (xdelta3 %s): %v", c.flags, err)
			}
			if !bytes.Equal(got, tgt) {
				t.Fatalf("Decode: got %d bytes, want %d (first diff at %d)", len(got), len(tgt), firstDiff(got, tgt))
			}

			d, err := NewDecoder(iotest.OneByteReader(bytes.NewReader(patch)), srcReaderAt(src), int64(len(src)))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			buf := make([]byte, 1)
			for {
				n, err := d.Read(buf)
				out.Write(buf[:n])
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if out.Len() > len(tgt) {
					t.Fatal("Read returned too many bytes")
				}
			}
			if !bytes.Equal(out.Bytes(), tgt) {
				t.Fatal("streaming Read output differs")
			}

			// Reset and WriteTo with a file-like source (exercises the cache).
			out.Reset()
			if err := d.Reset(bytes.NewReader(patch), srcReaderAt(src), int64(len(src))); err != nil {
				t.Fatal(err)
			}
			if _, err := d.WriteTo(&out); err != nil {
				t.Fatalf("WriteTo after Reset: %v", err)
			}
			if !bytes.Equal(out.Bytes(), tgt) {
				t.Fatal("WriteTo output differs")
			}
			h := d.Header()
			if h.Version != 0 {
				t.Errorf("version %d", h.Version)
			}
			checkGoldenHeader(t, c, h)
		})
	}
}

// checkGoldenHeader checks what the flags imply about the file header.
func checkGoldenHeader(t *testing.T, c goldenCase, h Header) {
	t.Helper()
	wantSec := SecondaryLZMA
	switch {
	case strings.Contains(c.flags, "-S none"):
		wantSec = SecondaryNone
	case strings.Contains(c.flags, "-S djw"):
		wantSec = SecondaryDJW
	}
	if h.Secondary != wantSec {
		t.Errorf("secondary %d, want %d", h.Secondary, wantSec)
	}
	app := string(h.AppHeader)
	switch {
	case strings.Contains(c.flags, "-A=custom/app/header"):
		if app != "custom/app/header" {
			t.Errorf("app header %q", app)
		}
	case strings.Contains(c.flags, "-A"):
		if h.AppHeader != nil {
			t.Errorf("app header %q, want none", app)
		}
	case c.withSrc:
		if want := c.pair + ".tgt//" + c.pair + ".src/"; app != want {
			t.Errorf("app header %q, want %q", app, want)
		}
	default:
		if want := c.pair + ".tgt/"; app != want {
			t.Errorf("app header %q, want %q", app, want)
		}
	}
}

// srcReaderAt returns a file-like ReaderAt (not the in-memory fast path), or
// nil for no source.
func srcReaderAt(src []byte) io.ReaderAt {
	if src == nil {
		return nil
	}
	return bytes.NewReader(src)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestGoldenWrongSource: every golden patch with a checksum and source
// copies must fail with ErrChecksum (naming the window) when given a
// modified source, never return wrong bytes.
func TestGoldenWrongSource(t *testing.T) {
	caught := 0
	defer func() {
		if caught < 20 {
			t.Errorf("only %d patches detected the wrong source", caught)
		}
	}()
	for _, c := range loadGolden(t) {
		if !c.withSrc || strings.Contains(c.flags, "-n") || c.pair == "empty" {
			continue
		}
		patch, src, tgt := goldenInputs(t, c)
		bad := bytes.Clone(src)
		for i := 0; i < len(bad); i += 97 {
			bad[i] ^= 0x5a
		}
		got, err := Decode(nil, patch, bad)
		if err == nil {
			if !bytes.Equal(got, tgt) {
				t.Errorf("%s: wrong source gave wrong output without an error", c.patch)
			}
			continue // the patch did not copy any modified byte
		}
		caught++
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "window 0") {
			t.Errorf("%s: err = %v, want ErrChecksum naming window 0", c.patch, err)
		}
		// With verification off the same patch decodes to something.
		if _, err := Decode(nil, patch, bad, WithVerifyChecksum(false)); err != nil {
			t.Errorf("%s: without verification: %v", c.patch, err)
		}
	}
}

// TestGoldenPrefixes: every prefix of a golden patch either fails with an
// error (io.ErrUnexpectedEOF past the file header) or, when it ends exactly
// on a window boundary, yields the matching prefix of the target.
func TestGoldenPrefixes(t *testing.T) {
	for _, name := range []string{"tiny.default.vcdiff", "tiny.l1.vcdiff", "runs.w16k.vcdiff", "text.w16k.vcdiff", "text.w16k-nosrc.vcdiff"} {
		var c goldenCase
		for _, g := range loadGolden(t) {
			if g.patch == name {
				c = g
			}
		}
		patch, src, tgt := goldenInputs(t, c)
		info, err := Inspect(bytes.NewReader(patch))
		if err != nil {
			t.Fatal(err)
		}
		ends := map[int]int64{} // patch offset of a window end -> target bytes so far
		ends[int(info.HeaderSize)] = 0
		for _, w := range info.Windows {
			ends[int(w.Offset+w.Size)] = w.TargetOffset + int64(w.TargetLength)
		}
		step := 1
		if len(patch) > 3000 {
			step = 7
		}
		for n := 0; n < len(patch); n += step {
			got, err := Decode(nil, patch[:n], src)
			if tl, ok := ends[n]; ok {
				if err != nil || !bytes.Equal(got, tgt[:tl]) {
					t.Errorf("%s[:%d] (window boundary): err %v, %d bytes", name, n, err, len(got))
				}
				continue
			}
			if err == nil {
				t.Errorf("%s[:%d]: no error", name, n)
				continue
			}
			if n >= 5 && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s[:%d]: err = %v, want io.ErrUnexpectedEOF", name, n, err)
			}
		}
	}
}

// TestGoldenErrReader: a read error from the patch reader is returned as is.
func TestGoldenErrReader(t *testing.T) {
	patch := readGolden(t, "text.w16k.vcdiff")
	src := readGolden(t, "text.src")
	boom := errors.New("boom")
	for _, n := range []int{3, 10, 100, 700} {
		r := io.MultiReader(bytes.NewReader(patch[:n]), iotest.ErrReader(boom))
		d, err := NewDecoder(r, bytes.NewReader(src), int64(len(src)))
		if err == nil {
			_, err = io.Copy(io.Discard, d)
		}
		if !errors.Is(err, boom) {
			t.Errorf("after %d bytes: err = %v, want boom", n, err)
		}
	}
	// testing/iotest's reader checks (Read contract, split reads).
	d, err := NewDecoder(iotest.HalfReader(bytes.NewReader(patch)), bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	if err := iotest.TestReader(d, readGolden(t, "text.tgt")); err != nil {
		t.Fatal(err)
	}
}
