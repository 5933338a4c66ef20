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
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// xdelta3Decode applies patch to src (nil: no source) with stock xdelta3 -d.
func xdelta3Decode(t testing.TB, patch, src []byte) []byte {
	t.Helper()
	out, err := runXdelta3(testtool.Tool(t, "xdelta3"), t.TempDir(), patch, src)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runXdelta3 runs the xdelta3 binary x to decode patch against src, using
// dir for the input files.
func runXdelta3(x, dir string, patch, src []byte) ([]byte, error) {
	pp := filepath.Join(dir, "patch")
	if err := os.WriteFile(pp, patch, 0o600); err != nil {
		return nil, err
	}
	args := []string{"-d", "-D", "-R", "-c"}
	if src != nil {
		sp := filepath.Join(dir, "src")
		if err := os.WriteFile(sp, src, 0o600); err != nil {
			return nil, err
		}
		args = append(args, "-s", sp)
	}
	args = append(args, pp)
	var out, stderr bytes.Buffer
	cmd := exec.Command(x, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("xdelta3 -d: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

func TestEncodeSmoke(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 1<<20)
	for i := range src {
		src[i] = byte(r.IntN(16)) + 'a'
	}
	tgt := append([]byte(nil), src[500000:]...)
	tgt = append(tgt, []byte("hello world, some new text here")...)
	tgt = append(tgt, src[:500000]...)
	tgt = append(tgt, bytes.Repeat([]byte{'z'}, 100)...)
	for _, lvl := range []int{0, 6, 9} {
		p, err := Encode(nil, src, tgt, WithLevel(lvl))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("level %d: patch %d bytes", lvl, len(p))
		if got := xdelta3Decode(t, p, src); !bytes.Equal(got, tgt) {
			t.Fatalf("level %d: xdelta3 decode mismatch", lvl)
		}
		got, err := Decode(nil, p, src)
		if err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("level %d: Decode: %v", lvl, err)
		}
	}
}

// testPair returns a deterministic source and a target derived from it by
// moves, insertions and mutations, both of about n bytes.
func testPair(n int) (src, tgt []byte) {
	src = randBytes(7, n, 64)
	r := rand.New(rand.NewPCG(9, 9))
	for len(tgt) < n {
		switch r.IntN(4) {
		case 0:
			tgt = append(tgt, randBytes(r.Uint64(), r.IntN(200), 256)...)
		default:
			a := r.IntN(len(src))
			tgt = append(tgt, src[a:min(len(src), a+r.IntN(20000))]...)
		}
	}
	return src, tgt
}

// chunkWriter feeds p to w in pieces of the given sizes (cycled).
func chunkWrite(t *testing.T, w io.Writer, p []byte, sizes []int) {
	t.Helper()
	for k := 0; len(p) > 0; k++ {
		n := min(len(p), sizes[k%len(sizes)])
		if m, err := w.Write(p[:n]); err != nil || m != n {
			t.Fatalf("Write = %d, %v", m, err)
		}
		p = p[n:]
	}
}

// TestEncodeDeterministic: the patch bytes do not depend on how the target
// is split across Write calls, on ReadFrom vs Write vs Encode, or on the
// number of workers.
func TestEncodeDeterministic(t *testing.T) {
	src, tgt := testPair(600_000)
	for _, c := range []struct {
		ws        int
		secondary int
	}{{DefaultWindowSize, SecondaryNone}, {1 << 16, SecondaryNone}, {100_000, SecondaryNone}, {1 << 16, SecondaryLZMA}} {
		ws := c.ws
		want, err := Encode(nil, src, tgt, WithWindowSize(ws), WithConcurrency(1), WithSecondaryHint(c.secondary))
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 2, 3, 8} {
			opts := []EncoderOption{WithWindowSize(ws), WithConcurrency(workers), WithSecondaryHint(c.secondary)}
			got, err := Encode(nil, src, tgt, opts...)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("window %d, %d workers: Encode differs from sequential (err %v)", ws, workers, err)
			}
			for _, sizes := range [][]int{{1 << 20}, {1, 7, 4096, 65537}, {99_999}} {
				var buf bytes.Buffer
				e, err := NewEncoder(&buf, bytes.NewReader(src), int64(len(src)), opts...)
				if err != nil {
					t.Fatal(err)
				}
				chunkWrite(t, e, tgt, sizes)
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Fatalf("window %d, %d workers, writes of %v: streaming output differs", ws, workers, sizes)
				}
				// Reset reuses the encoder; ReadFrom with a one-byte-at-a-time
				// reader must give the same bytes again.
				buf.Reset()
				if err := e.Reset(&buf, bytes.NewReader(src), int64(len(src))); err != nil {
					t.Fatal(err)
				}
				if _, err := e.ReadFrom(iotest.HalfReader(bytes.NewReader(tgt))); err != nil {
					t.Fatal(err)
				}
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Fatalf("window %d, %d workers: Reset+ReadFrom output differs", ws, workers)
				}
			}
			// A target-size hint, right or wrong, changes nothing.
			for _, hint := range []int64{int64(len(tgt)), 1, int64(len(tgt)) - 1, int64(ws) + 1, 3 * int64(len(tgt))} {
				var buf bytes.Buffer
				e, err := NewEncoder(&buf, bytes.NewReader(src), int64(len(src)), append(opts, WithTargetSize(hint))...)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.ReadFrom(bytes.NewReader(tgt)); err != nil {
					t.Fatal(err)
				}
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Fatalf("window %d, %d workers, target size hint %d: output differs", ws, workers, hint)
				}
			}
		}
	}
}

// watchReader calls watch before each Read.
type watchReader struct {
	r     io.Reader
	watch func()
}

func (w *watchReader) Read(p []byte) (int, error) {
	w.watch()
	return w.r.Read(p)
}

// TestEncodeTargetSizeHint: with the target's size known, a window buffer
// is allocated once at its final size instead of grown by copying.
func TestEncodeTargetSizeHint(t *testing.T) {
	src, tgt := testPair(3_000_000)
	for _, hint := range []int64{0, int64(len(tgt))} {
		e, err := NewEncoder(io.Discard, bytes.NewReader(src), int64(len(src)), WithConcurrency(1), WithTargetSize(hint))
		if err != nil {
			t.Fatal(err)
		}
		var grows int
		for off := 0; off < len(tgt); off += 64 << 10 {
			before := cap(e.buf)
			if _, err := e.Write(tgt[off:min(off+64<<10, len(tgt))]); err != nil {
				t.Fatal(err)
			}
			if cap(e.buf) != before {
				grows++
			}
		}
		if hint > 0 && (grows != 1 || cap(e.buf) != len(tgt)) {
			t.Errorf("size known: buffer allocated %d times, capacity %d for %d bytes", grows, cap(e.buf), len(tgt))
		}
		if hint == 0 && grows < 3 {
			t.Errorf("size unknown: buffer allocated %d times; the test no longer tells the cases apart", grows)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// ReadFrom too, up to and including the read that sees the end.
	for _, n := range []int{len(tgt), 1 << 20} {
		e, err := NewEncoder(io.Discard, bytes.NewReader(src), int64(len(src)), WithConcurrency(1), WithTargetSize(int64(n)))
		if err != nil {
			t.Fatal(err)
		}
		caps := map[int]bool{}
		r := &watchReader{r: bytes.NewReader(tgt[:n]), watch: func() { caps[cap(e.buf)] = true }}
		if _, err := e.ReadFrom(r); err != nil {
			t.Fatal(err)
		}
		r.watch()
		delete(caps, 0)
		if len(caps) != 1 || !caps[n] {
			t.Errorf("ReadFrom of %d bytes, size known: buffer capacities %v", n, caps)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewEncoder(io.Discard, nil, 0, WithTargetSize(-1)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("negative target size: err %v, want ErrInvalidOption", err)
	}
}

// TestWindowBuffersGrowGeometrically encodes a window of many instructions
// (a changed byte every 48 bytes): its op list and sections must be sized
// in a few steps, not grown by append a quarter at a time (which allocates
// and copies several times their final size), and a second window reuses
// them.
func TestWindowBuffersGrowGeometrically(t *testing.T) {
	src := randBytes(3, 4<<20, 256)
	tgt := bytes.Clone(src)
	for i := 40; i < len(tgt); i += 48 {
		tgt[i]++
	}
	p := &levelTable[DefaultLevel]
	var idx sourceIndex
	if err := idx.build(src, p.srcStep, p.srcWays, p.srcLen); err != nil {
		t.Fatal(err)
	}
	var w windowEncoder
	var out []byte
	for round := range 2 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out = w.encode(out[:0], p, src, &idx, tgt, true, nil)
		runtime.ReadMemStats(&after)
		n := after.Mallocs - before.Mallocs
		if len(w.m.ops) < 80000 {
			t.Fatalf("%d instructions: the test no longer makes many", len(w.m.ops))
		}
		t.Logf("round %d: %d instructions, %d allocations, %d bytes", round, len(w.m.ops), n, after.TotalAlloc-before.TotalAlloc)
		if round == 0 && n > 24 {
			t.Errorf("first window: %d allocations", n)
		}
		if round == 1 && n > 2 {
			t.Errorf("second window: %d allocations, want the buffers reused", n)
		}
	}
}

// TestEncodeInteropXdelta3 runs stock xdelta3 -d on patches covering the
// encoder's output features: multi-window targets, target-only (no source),
// empty targets, no checksum, an application header, every level.
func TestEncodeInteropXdelta3(t *testing.T) {
	testtool.Tool(t, "xdelta3")
	src, tgt := testPair(1 << 20)
	cases := []struct {
		name     string
		src, tgt []byte
		opts     []EncoderOption
	}{
		{"multiwindow", src, tgt, []EncoderOption{WithWindowSize(1 << 16)}},
		{"multiwindow-odd", src, tgt, []EncoderOption{WithWindowSize(99_991), WithLevel(9)}},
		{"target-only", nil, tgt, nil},
		{"target-only-multiwindow", nil, tgt, []EncoderOption{WithWindowSize(1 << 17), WithLevel(1)}},
		{"empty-target", src, nil, nil},
		{"empty-both", nil, nil, nil},
		{"no-checksum", src, tgt, []EncoderOption{WithChecksum(false)}},
		{"appheader", src, tgt, []EncoderOption{WithAppHeader([]byte("tgt//src/"))}},
		{"identical", src, src, nil},
		{"max-window", src, append(append([]byte(nil), tgt...), tgt...), []EncoderOption{WithWindowSize(MaxWindowSize)}},
	}
	for l := MinLevel; l <= BestLevel; l++ {
		cases = append(cases, struct {
			name     string
			src, tgt []byte
			opts     []EncoderOption
		}{fmt.Sprintf("level-%d", l), src, tgt, []EncoderOption{WithLevel(l), WithWindowSize(300_000)}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Encode(nil, c.src, c.tgt, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := xdelta3Decode(t, p, c.src); !bytes.Equal(got, c.tgt) {
				t.Fatalf("xdelta3 -d: got %d bytes, want %d (first difference at %d)", len(got), len(c.tgt), diffAt(got, c.tgt))
			}
			got, err := Decode(nil, p, c.src)
			if err != nil || !bytes.Equal(got, c.tgt) {
				t.Fatalf("Decode: err %v, equal %v", err, bytes.Equal(got, c.tgt))
			}
		})
	}
}

// TestEncodeCorpusInterop encodes real corpus pairs (each version against
// the first, the DeltaGlider scheme) and checks stock xdelta3 -d and
// vcdiff.Decode restore them, and that the patches are small.
func TestEncodeCorpusInterop(t *testing.T) {
	for _, series := range []string{"gomod-x-net", "gomod-aws-s3", "elf-esbuild"} {
		t.Run(series, func(t *testing.T) {
			files := testtool.Series(t, series)
			if testing.Short() && len(files) > 2 {
				files = []string{files[0], files[len(files)-1]}
			}
			src, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files[1:] {
				tgt, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				p, err := Encode(nil, src, tgt)
				if err != nil {
					t.Fatal(err)
				}
				if got := xdelta3Decode(t, p, src); !bytes.Equal(got, tgt) {
					t.Fatalf("%s: xdelta3 -d output differs", filepath.Base(f))
				}
				if got, err := Decode(nil, p, src); err != nil || !bytes.Equal(got, tgt) {
					t.Fatalf("%s: Decode: %v", filepath.Base(f), err)
				}
				// Real versions share most bytes: the patch must be far
				// smaller than the target.
				if len(p) > len(tgt)/2 {
					t.Errorf("%s: patch %d bytes for a %d-byte target", filepath.Base(f), len(p), len(tgt))
				}
				t.Logf("%s: %d -> %d bytes", filepath.Base(f), len(tgt), len(p))
			}
		})
	}
}

// TestEncodeSwappedHalves: content that moved across the whole source is
// still found (no source horizon): a target made of the source's two halves
// swapped takes a few instructions per window.
func TestEncodeSwappedHalves(t *testing.T) {
	n := 24 << 20
	if testing.Short() {
		n = 4 << 20
	}
	src := randBytes(42, n, 256)
	tgt := append(append([]byte(nil), src[n/2:]...), src[:n/2]...)
	p, err := Encode(nil, src, tgt)
	if err != nil {
		t.Fatal(err)
	}
	windows := (n + DefaultWindowSize - 1) / DefaultWindowSize
	if len(p) > 64*windows {
		t.Fatalf("patch is %d bytes for %d windows of swapped halves", len(p), windows)
	}
	got, err := Decode(nil, p, src)
	if err != nil || !bytes.Equal(got, tgt) {
		t.Fatalf("Decode: %v", err)
	}
	t.Logf("%d-byte swapped halves: %d-byte patch", n, len(p))
}

func TestEncoderOptionsValidated(t *testing.T) {
	bad := map[string]EncoderOption{
		"level -1":       WithLevel(-1),
		"level 10":       WithLevel(10),
		"window 0":       WithWindowSize(0),
		"window 16M+1":   WithWindowSize(MaxWindowSize + 1),
		"concurrency":    WithConcurrency(-1),
		"huge appheader": WithAppHeader(make([]byte, maxAppHeader+1)),
		"secondary FGK":  WithSecondaryHint(SecondaryFGK),
		"secondary 3":    WithSecondaryHint(3),
	}
	for name, o := range bad {
		if _, err := NewEncoder(io.Discard, nil, 0, o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: NewEncoder error %v, want ErrInvalidOption", name, err)
		}
		if _, err := Encode(nil, nil, []byte("x"), o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: Encode error %v, want ErrInvalidOption", name, err)
		}
	}
	if _, err := NewEncoder(io.Discard, bytes.NewReader(nil), -1); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("negative source size: %v", err)
	}
}

// TestEncoderErrors: a short source, a failing writer and use after Close
// give errors, not panics, and errors are sticky.
func TestEncoderErrors(t *testing.T) {
	src, tgt := testPair(300_000)
	if _, err := NewEncoder(io.Discard, bytes.NewReader(src[:10]), int64(len(src))); !errors.Is(err, ErrSourceTooShort) {
		t.Errorf("short source: %v", err)
	}
	boom := errors.New("boom")
	for _, workers := range []int{1, 2} {
		for failAt := 0; failAt < 3; failAt++ {
			w := &failingWriter{failAt: failAt, err: boom}
			e, err := NewEncoder(w, bytes.NewReader(src), int64(len(src)), WithWindowSize(50_000), WithConcurrency(workers))
			if err != nil {
				t.Fatal(err)
			}
			_, werr := e.Write(tgt)
			cerr := e.Close()
			if !errors.Is(werr, boom) && !errors.Is(cerr, boom) {
				t.Errorf("%d workers, write %d fails: Write %v, Close %v", workers, failAt, werr, cerr)
			}
			if _, err := e.Write([]byte("x")); err == nil {
				t.Errorf("Write after failed Close succeeded")
			}
		}
	}
	e, err := NewEncoder(io.Discard, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

type failingWriter struct {
	n, failAt int
	err       error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n > w.failAt {
		return 0, w.err
	}
	return len(p), nil
}

// TestEncodeEmptyTarget: an empty target still gives one window (stock
// xdelta3 -d rejects a patch without windows), as in xdelta3's own output.
func TestEncodeEmptyTarget(t *testing.T) {
	p, err := Encode(nil, []byte("some source"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xd6, 0xc3, 0xc4, 0, 0, winAdler, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	if !bytes.Equal(p, want) {
		t.Fatalf("empty target patch % x, want % x", p, want)
	}
}
