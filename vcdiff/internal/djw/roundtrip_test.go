package djw

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

func TestRoundTripKinds(t *testing.T) {
	for _, kind := range []string{"text", "binary", "runs", "random", "skewed"} {
		for _, size := range []int{1, 2, 9, 100, 999, 5000, 33333, 150000} {
			src := genInput(kind, size, uint64(size))
			for _, level := range []int{0, 6, 7, 8, 9} {
				enc := Encode(nil, src, level)
				got, err := Decode(enc, len(src))
				if err != nil {
					t.Fatalf("%s/%d/level %d: %v", kind, size, level, err)
				}
				if !bytes.Equal(got, src) {
					t.Fatalf("%s/%d/level %d: round trip differs", kind, size, level)
				}
			}
		}
	}
}

func TestEncodeAppends(t *testing.T) {
	src := genInput("text", 4000, 1)
	prefix := []byte("prefix")
	out := Encode(append([]byte(nil), prefix...), src, 9)
	if !bytes.HasPrefix(out, prefix) {
		t.Fatal("Encode clobbered dst")
	}
	if !bytes.Equal(out[len(prefix):], Encode(nil, src, 9)) {
		t.Fatal("Encode output depends on dst")
	}
	if got := Encode(prefix, nil, 9); !bytes.Equal(got, prefix) {
		t.Fatal("Encode of empty input changed dst")
	}
}

// TestMultiTableCompresses checks that the multi-table levels actually pick
// several tables on mixed content and never do worse than one table at 8+.
func TestMultiTableCompresses(t *testing.T) {
	var src []byte
	for i := 0; i < 8; i++ {
		src = append(src, genInput([]string{"text", "binary", "skewed", "runs"}[i%4], 6000, uint64(i))...)
	}
	one := len(Encode(nil, src, 6))
	for _, level := range []int{7, 8, 9} {
		enc := Encode(nil, src, level)
		groups := int(reverse(uint32(enc[0]&7), 3)) + 1
		t.Logf("level %d: %d bytes, %d tables (one table: %d bytes, input %d)", level, len(enc), groups, one, len(src))
		if len(enc) > one {
			t.Errorf("level %d: %d bytes, worse than one table (%d)", level, len(enc), one)
		}
		if groups < 2 {
			t.Errorf("level %d: used %d table(s) on mixed content", level, groups)
		}
	}
}

func TestRapidRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b []byte
		if rapid.Bool().Draw(t, "generated") {
			// Larger inputs from the deterministic generators, possibly
			// with a restricted alphabet.
			kind := rapid.SampledFrom([]string{"text", "binary", "runs", "random", "skewed"}).Draw(t, "kind")
			b = genInput(kind, rapid.IntRange(1, 40000).Draw(t, "size"), rapid.Uint64().Draw(t, "seed"))
			if mask := byte(rapid.IntRange(0, 255).Draw(t, "mask")); mask != 0 {
				for i := range b {
					b[i] &= mask
				}
			}
		} else {
			// Small alphabets make long runs and skewed codes likely.
			alpha := rapid.IntRange(1, 256).Draw(t, "alphabet")
			for _, v := range rapid.SliceOfN(rapid.IntRange(0, alpha-1), 1, 5000).Draw(t, "src") {
				b = append(b, byte(v))
			}
		}
		var enc []byte
		if rapid.Bool().Draw(t, "forced") {
			p := plan{rapid.IntRange(1, maxGroups).Draw(t, "groups"), sectorUnit * rapid.IntRange(1, 32).Draw(t, "sector/5")}
			enc = encodePlans(nil, b, []plan{p})
		} else {
			enc = Encode(nil, b, rapid.IntRange(0, 9).Draw(t, "level"))
		}
		got, err := Decode(enc, len(b))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("round trip differs")
		}
	})
}

// TestLongCodes forces codes longer than the decoder's table (Fibonacci-like
// frequencies give a maximally deep Huffman tree, limited to 20 bits).
func TestLongCodes(t *testing.T) {
	var src []byte
	a, b := 1, 1
	for s := 0; s < 26; s++ {
		for i := 0; i < a; i++ {
			src = append(src, byte(s))
		}
		a, b = b, a+b
	}
	// Interleave so runs do not dominate.
	perm := make([]byte, len(src))
	for i := range src {
		perm[i] = src[int(int64(i)*7919%int64(len(src)))]
	}
	for _, level := range []int{6, 9} {
		enc := Encode(nil, perm, level)
		got, err := Decode(enc, len(perm))
		if err != nil || !bytes.Equal(got, perm) {
			t.Fatalf("level %d: err %v, equal %v", level, err, bytes.Equal(got, perm))
		}
	}
	var lens [alphabetSize]uint8
	var freq [alphabetSize]uint32
	for _, c := range perm {
		freq[c]++
	}
	buildLengths(freq[:], lens[:], maxCodeLen)
	maxl := 0
	for _, l := range lens {
		maxl = max(maxl, int(l))
	}
	if maxl <= tableBits || maxl > maxCodeLen {
		t.Fatalf("longest code %d bits, want %d < n <= %d (decoder slow path)", maxl, tableBits, maxCodeLen)
	}
}
