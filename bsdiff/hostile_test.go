package bsdiff

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// checkClean fails the test unless err is one of the package's documented
// error kinds (never nil for bad input, never a panic).
func checkClean(t *testing.T, what string, err error) {
	t.Helper()
	var ce *CorruptInputError
	switch {
	case err == nil:
		t.Fatalf("%s: no error", what)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ce),
		errors.Is(err, ErrFormat), errors.Is(err, ErrLimit), errors.Is(err, ErrSourceTooShort):
	default:
		t.Fatalf("%s: unclassified error %T: %v", what, err, err)
	}
}

func hostilePair() (old, new []byte) {
	r := rand.New(rand.NewPCG(11, 12))
	old = genData(r, 20_000)
	return old, mutate(r, old)
}

// Every proper prefix of a valid patch must fail cleanly, through both the
// one-shot and the streaming decoder.
func TestEveryPrefixFails(t *testing.T) {
	old, new := hostilePair()
	for _, f := range formats {
		p, err := Diff(old, new, WithFormat(f))
		must(t, err)
		for n := 0; n < len(p); n++ {
			_, err := Patch(old, p[:n])
			checkClean(t, f.String()+" Patch prefix", err)
			if n > 8 && !errors.Is(err, io.ErrUnexpectedEOF) {
				// Past the magic, a prefix is a truncation, whatever
				// the decompressor thinks of the cut.
				var ce *CorruptInputError
				if !errors.As(err, &ce) {
					t.Fatalf("%s prefix %d: %v", f, n, err)
				}
			}
			_, err = Apply(io.Discard, bytes.NewReader(old), int64(len(old)), bytes.NewReader(p[:n]))
			checkClean(t, f.String()+" Apply prefix", err)
		}
	}
}

func TestBitFlips(t *testing.T) {
	old, new := hostilePair()
	r := rand.New(rand.NewPCG(13, 14))
	for _, f := range formats {
		p, err := Diff(old, new, WithFormat(f))
		must(t, err)
		for i := 0; i < 400; i++ {
			q := bytes.Clone(p)
			q[r.IntN(len(q))] ^= 1 << r.IntN(8)
			got, err := Patch(old, q, WithMaxNewSize(1<<20))
			if err == nil {
				// A flip in a seek's sign bit of a zero seek, or in
				// padding bits, can be harmless; the output must
				// then still be right or at least be of the declared
				// size (bzip2's CRC catches data flips).
				if len(got) == 0 && len(new) != 0 {
					t.Fatalf("%s flip %d: empty output without error", f, i)
				}
				continue
			}
			checkClean(t, f.String()+" bit flip", err)
		}
	}
}

// craft40 builds a BSDIFF40 patch from raw (uncompressed) stream contents.
func craft40(t *testing.T, newSize int64, ctrl, diff, extra []byte) []byte {
	t.Helper()
	o, _ := buildOptions(nil)
	var out bytes.Buffer
	out.Write(make([]byte, header40Len))
	lens := make([]int64, 3)
	for i, s := range [][]byte{ctrl, diff, extra} {
		start := out.Len()
		zw, err := newCompressor(&out, &o)
		must(t, err)
		_, err = zw.Write(s)
		must(t, err)
		must(t, zw.Close())
		lens[i] = int64(out.Len() - start)
	}
	b := out.Bytes()
	copy(b, magic40)
	putInt(b[8:], lens[0])
	putInt(b[16:], lens[1])
	putInt(b[24:], newSize)
	return b
}

func triples(v ...int64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		putInt(b[8*i:], x)
	}
	return b
}

func TestHostileControls(t *testing.T) {
	old := []byte("0123456789abcdef")
	cases := []struct {
		name    string
		newSize int64
		ctrl    []byte
		diff    []byte
		extra   []byte
		want    error // nil: any CorruptInputError
	}{
		{"negative diff length", 4, triples(-1, 0, 0), nil, nil, nil},
		{"negative extra length", 4, triples(0, -4, 0), nil, nil, nil},
		{"diff past new size", 4, triples(5, 0, 0), make([]byte, 5), nil, nil},
		{"extra past new size", 4, triples(0, 5, 0), nil, make([]byte, 5), nil},
		{"diff past old end", 20, triples(20, 0, 0), make([]byte, 20), nil, ErrSourceTooShort},
		{"seek before start", 8, triples(2, 0, -3, 6, 0, 0), make([]byte, 8), nil, nil},
		{"seek past end", 8, triples(2, 0, 15, 6, 0, 0), make([]byte, 8), nil, nil},
		{"huge seek", 8, triples(2, 0, 1<<62, 6, 0, 0), make([]byte, 8), nil, nil},
		{"huge lengths", 8, triples(1<<62, 1<<62, 0), nil, nil, nil},
		{"empty triples forever", 8, bytes.Repeat(triples(0, 0, 0), 1100), nil, nil, nil},
		{"control stream short", 8, triples(2, 0), nil, nil, io.ErrUnexpectedEOF},
		{"diff stream short", 8, triples(8, 0, 0), make([]byte, 3), nil, io.ErrUnexpectedEOF},
		{"extra stream short", 8, triples(0, 8, 0), nil, make([]byte, 3), io.ErrUnexpectedEOF},
		{"leftover diff data", 2, triples(2, 0, 0), make([]byte, 4), nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := craft40(t, c.newSize, c.ctrl, c.diff, c.extra)
			_, err := Patch(old, p)
			checkClean(t, c.name, err)
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var ce *CorruptInputError
			if c.want == nil && !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *CorruptInputError", err)
			}
			_, err2 := Apply(io.Discard, bytes.NewReader(old), int64(len(old)), bytes.NewReader(p))
			if (err2 == nil) || err2.Error() != err.Error() {
				t.Fatalf("Apply and Patch disagree: %v vs %v", err2, err)
			}
		})
	}
	// A well-formed crafted patch works, so the failures above are the
	// checks and not the crafting.
	p := craft40(t, 6, triples(2, 2, 3, 2, 0, 0), []byte{1, 1, 0, 0}, []byte("xy"))
	got, err := Patch(old, p)
	must(t, err)
	if string(got) != "12xy56" {
		t.Fatalf("crafted patch gave %q", got)
	}
}

func TestHugeDeclaredSizes(t *testing.T) {
	old := []byte("old")
	// New size over the default cap: ErrLimit before any allocation.
	h := make([]byte, header40Len)
	copy(h, magic40)
	putInt(h[24:], 1<<62)
	if _, err := Patch(old, h); !errors.Is(err, ErrLimit) {
		t.Fatalf("err = %v, want ErrLimit", err)
	}
	h43 := make([]byte, header43Len)
	copy(h43, magic43)
	putInt(h43[16:], 1<<62)
	if _, err := Patch(old, h43); !errors.Is(err, ErrLimit) {
		t.Fatalf("BSDIFF43: err = %v, want ErrLimit", err)
	}
	// Within the cap but absurd for a 32-byte patch; stream lengths huge
	// too. Must fail as truncation, quickly and without allocating it.
	putInt(h[8:], 1<<60)
	putInt(h[16:], 1<<60)
	putInt(h[24:], 1<<30)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := Apply(io.Discard, bytes.NewReader(old), 3, bytes.NewReader(h)); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
		}
	})
	if allocs > 50 {
		t.Fatalf("%v allocations for a hostile header", allocs)
	}
	// Negative sizes.
	putInt(h[24:], -1)
	if _, err := Patch(old, h); err == nil {
		t.Fatal("negative new size accepted")
	}
	putInt(h[24:], 0)
	putInt(h[8:], -1)
	if _, err := Patch(old, h); err == nil {
		t.Fatal("negative control length accepted")
	}
	if _, err := Patch(old, []byte("NOTAPATCH and more bytes here....")); !errors.Is(err, ErrFormat) {
		t.Fatalf("bad magic: err = %v, want ErrFormat", err)
	}
}

func TestWrongOldFile(t *testing.T) {
	old, new := hostilePair()
	p, err := Diff(old, new)
	must(t, err)
	_, err = Patch(old[:len(old)/2], p)
	if !errors.Is(err, ErrSourceTooShort) {
		t.Fatalf("short old: err = %v, want ErrSourceTooShort", err)
	}
}
