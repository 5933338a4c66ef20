package djw

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

func hostileSamples() [][]byte {
	var out [][]byte
	for _, kind := range []string{"text", "binary", "runs", "skewed"} {
		src := genInput(kind, 3000, 42)
		out = append(out, src)
	}
	return out
}

// TestPrefixesFail: every strict prefix of a valid stream must fail (the
// last byte always carries bits of the last symbol) and never panic.
func TestPrefixesFail(t *testing.T) {
	for _, src := range hostileSamples() {
		for _, p := range []plan{{1, 0}, {4, 20}, {8, 5}} {
			enc := encodePlans(nil, src, []plan{p})
			for n := 0; n < len(enc); n++ {
				if _, err := Decode(enc[:n], len(src)); err == nil {
					t.Fatalf("plan %v: prefix %d of %d decoded without error", p, n, len(enc))
				}
			}
			// The full stream decodes; one extra byte is rejected.
			if _, err := Decode(enc, len(src)); err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(append(enc[:len(enc):len(enc)], 0), len(src)); !errors.Is(err, ErrTrailingData) {
				t.Fatalf("plan %v: trailing byte: got %v, want ErrTrailingData", p, err)
			}
		}
	}
}

func TestTruncatedIsUnexpectedEOF(t *testing.T) {
	src := genInput("text", 5000, 3)
	enc := Encode(nil, src, 6)
	_, err := Decode(enc[:len(enc)-1], len(src))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v, want ErrTruncated wrapping io.ErrUnexpectedEOF", err)
	}
}

func TestBadSizes(t *testing.T) {
	enc := Encode(nil, []byte("hello hello hello"), 6)
	for _, size := range []int{0, -1, 8*len(enc) + 8, math.MaxInt} {
		if _, err := Decode(enc, size); !errors.Is(err, ErrSize) {
			t.Errorf("size %d: got %v, want ErrSize", size, err)
		}
	}
	if _, err := Decode(nil, 1); !errors.Is(err, ErrTruncated) {
		t.Errorf("empty input: got %v, want ErrTruncated", err)
	}
}

// TestOversubscribed hand-builds a stream whose code-length code gives
// three symbols one-bit codes.
func TestOversubscribed(t *testing.T) {
	w := bitWriter{}
	w.writeBits(0, groupBits)   // one table
	w.writeBits(0, clCountBits) // 7 code-length-code lengths
	for _, l := range []uint32{1, 1, 1, 0, 0, 0, 0} {
		w.writeBits(l, clLenBits)
	}
	w.writeBits(0, 8)
	_, err := Decode(w.flush(), 1)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}

// TestGarbled flips bits and overwrites bytes of valid streams: decoding
// must return an error or exactly the requested size, never panic.
func TestGarbled(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, src := range hostileSamples() {
		for _, p := range []plan{{1, 0}, {5, 10}, {8, 160}} {
			enc := encodePlans(nil, src, []plan{p})
			for i := 0; i < 2000; i++ {
				bad := append([]byte(nil), enc...)
				switch i % 3 {
				case 0:
					bad[r.IntN(len(bad))] ^= 1 << r.IntN(8)
				case 1:
					bad[r.IntN(len(bad))] = byte(r.Uint32())
				case 2:
					j := r.IntN(len(bad))
					for k := j; k < len(bad) && k < j+8; k++ {
						bad[k] = byte(r.Uint32())
					}
				}
				size := len(src)
				if i%7 == 0 {
					size += r.IntN(64) - 32
				}
				out, err := Decode(bad, size)
				if err == nil && len(out) != size {
					t.Fatalf("decoded %d bytes, want %d", len(out), size)
				}
			}
		}
	}
}

func TestRandomInputNoPanic(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(64))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		size := 1 + r.IntN(8*len(b)+1)
		if out, err := Decode(b, size); err == nil && len(out) != size {
			t.Fatalf("decoded %d bytes, want %d", len(out), size)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	src := genInput("text", 20000, 9)
	enc := Encode(nil, src, 9)
	Decode(enc, len(src)) // warm the pool
	if a := testing.AllocsPerRun(50, func() { Decode(enc, len(src)) }); a > 1 {
		t.Errorf("Decode: %.1f allocations per run, want 1 (the output)", a)
	}
	buf := make([]byte, len(src))
	if a := testing.AllocsPerRun(50, func() { DecodeInto(buf, enc) }); a > 0 || !bytes.Equal(buf, src) {
		t.Errorf("DecodeInto: %.1f allocations per run, want 0", a)
	}
	dst := make([]byte, 0, 2*len(src))
	Encode(dst, src, 9)
	if a := testing.AllocsPerRun(50, func() { Encode(dst[:0], src, 9) }); a > 0 {
		t.Errorf("Encode into a large enough dst: %.1f allocations per run, want 0", a)
	}
}

func FuzzDJWDecode(f *testing.F) {
	for _, src := range hostileSamples() {
		for _, p := range []plan{{1, 0}, {3, 15}} {
			f.Add(encodePlans(nil, src[:500], []plan{p}), uint16(500))
		}
	}
	f.Add([]byte{0}, uint16(1))
	f.Fuzz(func(t *testing.T, b []byte, size uint16) {
		n := int(size)
		out, err := Decode(b, n)
		if err != nil {
			return
		}
		if len(out) != n {
			t.Fatalf("decoded %d bytes, want %d", len(out), n)
		}
		// Whatever decodes must survive our own round trip.
		got, err := Decode(Encode(nil, out, 9), n)
		if err != nil || !bytes.Equal(got, out) {
			t.Fatalf("re-encode round trip failed: %v", err)
		}
	})
}

// FuzzDJWRoundTrip: any input survives Encode then Decode at any level and
// with any forced table plan.
func FuzzDJWRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello"), uint8(9), uint8(0))
	f.Add(genInput("skewed", 2000, 1), uint8(6), uint8(0x3f))
	f.Fuzz(func(t *testing.T, src []byte, level, forced uint8) {
		if len(src) == 0 {
			return
		}
		var enc []byte
		if forced != 0 {
			p := plan{1 + int(forced&7), sectorUnit * (1 + int(forced>>3))}
			enc = encodePlans(nil, src, []plan{p})
		} else {
			enc = Encode(nil, src, int(level%10))
		}
		got, err := Decode(enc, len(src))
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
