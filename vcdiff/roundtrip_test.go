package vcdiff

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"

	"pgregory.net/rapid"
)

// randBytes returns n deterministic pseudo-random bytes over an alphabet of
// the given size (small alphabets give repetitive, compressible data).
func randBytes(seed uint64, n, alphabet int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(alphabet))
	}
	return b
}

// genPair draws a (source, target) pair made by structured edits: kept,
// moved and duplicated source ranges, insertions, deletions, runs, small
// mutations, plus the corner cases (empty, tiny, source-only, target-only).
func genPair(t *rapid.T) (src, tgt []byte) {
	alphabet := rapid.SampledFrom([]int{2, 4, 16, 256}).Draw(t, "alphabet")
	src = randBytes(rapid.Uint64().Draw(t, "srcSeed"), rapid.IntRange(0, 40000).Draw(t, "srcLen"), alphabet)
	switch rapid.IntRange(0, 9).Draw(t, "shape") {
	case 0: // empty target
		return src, nil
	case 1: // identical (source-only)
		return src, append([]byte(nil), src...)
	case 2: // no source (target-only)
		return nil, randBytes(rapid.Uint64().Draw(t, "tgtSeed"), rapid.IntRange(0, 20000).Draw(t, "tgtLen"), alphabet)
	case 3: // tiny
		return src[:min(len(src), rapid.IntRange(0, 16).Draw(t, "tinySrc"))],
			randBytes(rapid.Uint64().Draw(t, "tinySeed"), rapid.IntRange(0, 16).Draw(t, "tinyLen"), alphabet)
	}
	pieces := rapid.IntRange(0, 12).Draw(t, "pieces")
	for k := 0; k < pieces; k++ {
		switch rapid.IntRange(0, 5).Draw(t, "edit") {
		case 0: // keep/move a source range (ranges skipped in between are deletions)
			if len(src) > 0 {
				a := rapid.IntRange(0, len(src)-1).Draw(t, "a")
				l := rapid.IntRange(0, len(src)-a).Draw(t, "l")
				tgt = append(tgt, src[a:a+l]...)
			}
		case 1: // insert new bytes
			tgt = append(tgt, randBytes(rapid.Uint64().Draw(t, "insSeed"), rapid.IntRange(0, 3000).Draw(t, "insLen"), alphabet)...)
		case 2: // run
			tgt = append(tgt, bytes.Repeat([]byte{rapid.Byte().Draw(t, "runByte")}, rapid.IntRange(1, 5000).Draw(t, "runLen"))...)
		case 3: // duplicate part of the target built so far
			if len(tgt) > 0 {
				a := rapid.IntRange(0, len(tgt)-1).Draw(t, "da")
				l := rapid.IntRange(0, len(tgt)-a).Draw(t, "dl")
				tgt = append(tgt, tgt[a:a+l]...)
			}
		case 4: // mutated source range
			if len(src) > 0 {
				a := rapid.IntRange(0, len(src)-1).Draw(t, "ma")
				l := rapid.IntRange(0, min(len(src)-a, 8000)).Draw(t, "ml")
				seg := append([]byte(nil), src[a:a+l]...)
				r := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "mutSeed"), 1))
				for range rapid.IntRange(0, 20).Draw(t, "flips") {
					if len(seg) > 0 {
						seg[r.IntN(len(seg))] ^= byte(1 + r.IntN(255))
					}
				}
				tgt = append(tgt, seg...)
			}
		case 5: // the whole source
			tgt = append(tgt, src...)
		}
	}
	return src, tgt
}

// TestRoundTripProperty encodes structured edits at every level, window
// size and worker count, and decodes the patch with vcdiff.Decode and with
// stock xdelta3 -d.
func TestRoundTripProperty(t *testing.T) {
	xd := ""
	if !testing.Short() {
		xd = testtool.Tool(t, "xdelta3")
	}
	dir := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		src, tgt := genPair(rt)
		level := rapid.IntRange(MinLevel, BestLevel).Draw(rt, "level")
		ws := rapid.SampledFrom([]int{DefaultWindowSize, 1 << 12, 1000, 1 << 16}).Draw(rt, "window")
		workers := rapid.IntRange(1, 3).Draw(rt, "workers")
		ck := rapid.Bool().Draw(rt, "checksum")
		hint := rapid.SampledFrom([]int{SecondaryNone, SecondaryDJW, SecondaryLZMA}).Draw(rt, "secondary hint")
		p, err := Encode(nil, src, tgt, WithLevel(level), WithWindowSize(ws), WithConcurrency(workers), WithChecksum(ck), WithSecondaryHint(hint))
		if err != nil {
			rt.Fatalf("Encode: %v", err)
		}
		got, err := Decode(nil, p, src)
		if err != nil {
			rt.Fatalf("Decode: %v", err)
		}
		if !bytes.Equal(got, tgt) {
			rt.Fatalf("Decode: got %d bytes, want %d (first difference at %d)", len(got), len(tgt), diffAt(got, tgt))
		}
		if xd != "" {
			got, err := runXdelta3(xd, dir, p, src)
			if err != nil {
				rt.Fatal(err)
			}
			if !bytes.Equal(got, tgt) {
				rt.Fatalf("xdelta3 -d: got %d bytes, want %d (first difference at %d)", len(got), len(tgt), diffAt(got, tgt))
			}
		}
	})
}

func diffAt(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
