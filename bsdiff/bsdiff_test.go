package bsdiff

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"

	"pgregory.net/rapid"
)

var formats = []Format{FormatBSDIFF40, FormatBSDIFF43}

// mutate returns a deterministic "next version" of old: shifted blocks,
// small scattered edits (like relocated addresses), insertions, deletions.
func mutate(r *rand.Rand, old []byte) []byte {
	out := make([]byte, 0, len(old)+len(old)/8+16)
	for i := 0; i < len(old); {
		n := min(len(old)-i, 1+r.IntN(4096))
		blk := slices.Clone(old[i : i+n])
		for k := 0; k < len(blk)/64; k++ {
			blk[r.IntN(len(blk))] += byte(r.IntN(5))
		}
		switch r.IntN(8) {
		case 0: // insert fresh bytes
			ins := make([]byte, r.IntN(300))
			for j := range ins {
				ins[j] = byte(r.Uint32())
			}
			out = append(out, ins...)
			out = append(out, blk...)
		case 1: // delete
		default:
			out = append(out, blk...)
		}
		i += n
	}
	return out
}

// genData makes compressible, structured pseudo-random data.
func genData(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	words := [][]byte{[]byte("\x48\x8b\x05"), []byte("\xe8\x00\x00"), []byte("func "), []byte("\x00\x00\x00\x00"), []byte("return"), []byte("\xff\x15")}
	for i := 0; i < n; {
		if r.IntN(3) == 0 {
			b[i] = byte(r.Uint32())
			i++
			continue
		}
		i += copy(b[i:], words[r.IntN(len(words))])
	}
	return b
}

func roundTrip(t testing.TB, old, new []byte, f Format) []byte {
	t.Helper()
	p, err := Diff(old, new, WithFormat(f))
	if err != nil {
		t.Fatalf("Diff(%s): %v", f, err)
	}
	if got := Detect(p); got != f {
		t.Fatalf("Detect = %s, want %s", got, f)
	}
	got, err := Patch(old, p)
	if err != nil {
		t.Fatalf("Patch(%s): %v", f, err)
	}
	if !bytes.Equal(got, new) {
		t.Fatalf("Patch(%s) output differs (len %d, want %d)", f, len(got), len(new))
	}
	var buf bytes.Buffer
	n, err := Apply(&buf, bytes.NewReader(old), int64(len(old)), bytes.NewReader(p))
	if err != nil || n != int64(len(new)) || !bytes.Equal(buf.Bytes(), new) {
		t.Fatalf("Apply(%s): n=%d err=%v equal=%v", f, n, err, bytes.Equal(buf.Bytes(), new))
	}
	return p
}

func TestRoundTripEdgeCases(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	big := genData(r, 200_000)
	cases := []struct {
		name     string
		old, new []byte
	}{
		{"both empty", nil, nil},
		{"empty old", nil, []byte("hello, world")},
		{"empty new", []byte("hello, world"), nil},
		{"identical", big, big},
		{"one byte", []byte{1}, []byte{2}},
		{"zeros", make([]byte, 100_000), make([]byte, 100_001)},
		{"mutated", big, mutate(r, big)},
		{"unrelated", genData(r, 50_000), genData(r, 60_000)},
		{"repeated pattern", bytes.Repeat([]byte("abc"), 30_000), bytes.Repeat([]byte("abcd"), 20_000)},
	}
	for _, c := range cases {
		for _, f := range formats {
			t.Run(c.name+"/"+f.String(), func(t *testing.T) { roundTrip(t, c.old, c.new, f) })
		}
	}
}

func TestDeltaIsSmall(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	old := genData(r, 500_000)
	new := mutate(r, old)
	p := roundTrip(t, old, new, FormatBSDIFF40)
	// Most of new is approximately matched: the patch must be far below
	// new's own size (a compressor alone would not get near this).
	if len(p) > len(new)/5 {
		t.Fatalf("patch %d bytes for a %d-byte mostly-matching target", len(p), len(new))
	}
}

func TestRoundTripRapid(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		old := rapid.SliceOfN(rapid.ByteRange(0, 7), 0, 3000).Draw(rt, "old")
		var new []byte
		if rapid.Bool().Draw(rt, "derived") && len(old) > 0 {
			seed := rapid.Uint64().Draw(rt, "seed")
			new = mutate(rand.New(rand.NewPCG(seed, 0)), old)
		} else {
			new = rapid.SliceOfN(rapid.ByteRange(0, 7), 0, 3000).Draw(rt, "new")
		}
		f := rapid.SampledFrom(formats).Draw(rt, "format")
		p, err := Diff(old, new, WithFormat(f))
		if err != nil {
			rt.Fatalf("Diff: %v", err)
		}
		got, err := Patch(old, p)
		if err != nil {
			rt.Fatalf("Patch: %v", err)
		}
		if !bytes.Equal(got, new) {
			rt.Fatalf("round trip mismatch")
		}
	})
}

func TestTooLarge(t *testing.T) {
	_, err := Diff(make([]byte, 100), make([]byte, 10), WithMaxInputSize(50))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("old over cap: err = %v, want ErrTooLarge", err)
	}
	_, err = Diff(make([]byte, 10), make([]byte, 100), WithMaxInputSize(50))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("new over cap: err = %v, want ErrTooLarge", err)
	}
	if _, err := Diff(nil, nil, WithMaxInputSize(0)); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("cap 0: err = %v, want ErrInvalidOption", err)
	}
	if _, err := Diff(nil, nil, WithFormat(Format(99))); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("bad format: err = %v, want ErrInvalidOption", err)
	}
}

func TestSignMagnitude(t *testing.T) {
	var b [8]byte
	for _, x := range []int64{0, 1, -1, 255, -256, 1 << 40, -(1 << 62), 1<<63 - 1, -(1<<63 - 1)} {
		putInt(b[:], x)
		if got := getInt(b[:]); got != x {
			t.Fatalf("getInt(putInt(%d)) = %d", x, got)
		}
	}
	putInt(b[:], -5)
	if b[7] != 0x80 || b[0] != 5 {
		t.Fatalf("-5 encoded as % x, want 05 00 .. 80", b)
	}
	if getInt([]byte{0, 0, 0, 0, 0, 0, 0, 0x80}) != 0 {
		t.Fatal("negative zero is not 0")
	}
}

func TestApplyPatchReaderError(t *testing.T) {
	old := []byte("the quick brown fox jumps over the lazy dog")
	new := []byte("the quick brown cat jumps over the lazy dog!")
	for _, f := range formats {
		p, err := Diff(old, new, WithFormat(f))
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("disk on fire")
		for cut := 0; cut < len(p); cut += 7 {
			r := io.MultiReader(bytes.NewReader(p[:cut]), &errReader{boom})
			_, err := Apply(io.Discard, bytes.NewReader(old), int64(len(old)), r)
			if !errors.Is(err, boom) {
				t.Fatalf("%s cut %d: err = %v, want the reader's error", f, cut, err)
			}
		}
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// Apply must not depend on how the patch reader splits its data, and must
// return the writer's error.
func TestApplyReaderShapesAndWriteErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	old := genData(r, 100_000)
	new := mutate(r, old)
	for _, f := range formats {
		p, err := Diff(old, new, WithFormat(f))
		if err != nil {
			t.Fatal(err)
		}
		for name, pr := range map[string]io.Reader{
			"onebyte": iotest.OneByteReader(bytes.NewReader(p)),
			"half":    iotest.HalfReader(bytes.NewReader(p)),
			"dataerr": iotest.DataErrReader(bytes.NewReader(p)),
		} {
			var buf bytes.Buffer
			if _, err := Apply(&buf, bytes.NewReader(old), int64(len(old)), pr); err != nil || !bytes.Equal(buf.Bytes(), new) {
				t.Fatalf("%s %s: err %v, equal %v", f, name, err, bytes.Equal(buf.Bytes(), new))
			}
		}
		boom := errors.New("write failed")
		for _, k := range []int{0, 1, 2} {
			w := &failingWriter{after: k, err: boom}
			if _, err := Apply(w, bytes.NewReader(old), int64(len(old)), bytes.NewReader(p)); !errors.Is(err, boom) {
				t.Fatalf("%s write %d failing: err = %v", f, k, err)
			}
		}
	}
}

type failingWriter struct {
	after int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after == 0 {
		return 0, w.err
	}
	w.after--
	return len(p), nil
}

// Large targets are scanned as two concurrent halves: round trip through
// the split, and the output must not depend on scheduling.
func TestSplitScanRoundTripDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	old := genData(r, splitMin+splitMin/4)
	new := mutate(r, old)
	if len(new) < splitMin {
		t.Fatalf("test target %d bytes does not reach the split size", len(new))
	}
	p := roundTrip(t, old, new, FormatBSDIFF40)
	p2, err := Diff(old, new)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p, p2) {
		t.Fatal("two encodings of the same input differ")
	}
	// Unrelated old: the halves mostly emit extra bytes.
	roundTrip(t, genData(r, 1000), new, FormatBSDIFF43)
	roundTrip(t, nil, new, FormatBSDIFF40)
}

func TestMatchLen(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 9))
	for range 20000 {
		n := r.IntN(5000)
		a := make([]byte, n)
		b := make([]byte, n+r.IntN(3))
		if cut := r.IntN(n + 1); cut < n {
			b[cut] = 1
		}
		want := 0
		for want < len(a) && want < len(b) && a[want] == b[want] {
			want++
		}
		if got := matchLen(a, b); got != want {
			t.Fatalf("len %d/%d: matchLen = %d, want %d", len(a), len(b), got, want)
		}
	}
}

// A long run of equal bytes is bsdiff's worst case (every scan position
// searches); it must stay a matter of a second, not minutes.
func TestZeroRunsRoundTrip(t *testing.T) {
	roundTrip(t, make([]byte, 100_000), make([]byte, 100_001), FormatBSDIFF40)
}
