package vcdiff

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBuild4MatchesSlots checks that the word-wise 4-way build gives the
// very table of the slot-by-slot one, on data with many repeated strings
// (the duplicate-tag rule decides most insertions) and with tag fields so
// narrow that tag 0, which an empty slot also has, is common.
func TestBuild4MatchesSlots(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 1<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	// Short words from a small vocabulary: the same 8-byte strings recur
	// thousands of times.
	var words bytes.Buffer
	for words.Len() < 1<<20 {
		words.WriteString([]string{"alpha ", "beta ", "gamma ", "delta\n", "(x)", "\x00\x00\x00\x00"}[rng.IntN(6)])
	}
	runs := bytes.Repeat([]byte{7}, 1<<18)
	for name, src := range map[string][]byte{"random": random, "words": words.Bytes(), "runs": runs} {
		for _, step := range []int{1, 2, 8} {
			for _, narrow := range []bool{false, true} {
				var a, b sourceIndex
				if err := a.build(src, step, 4, 8); err != nil {
					t.Fatal(err)
				}
				if narrow {
					// Leave 3 tag bits: one sample in eight has tag 0.
					a.kbits = 29
					a.kmask = 1<<29 - 1
					clear(a.table)
					a.build4(src, step)
				}
				b = a
				b.table = make([]uint32, len(a.table))
				b.buildSlots(src, step)
				if !slices.Equal(a.table, b.table) {
					t.Errorf("%s step %d narrow %v: build4 and buildSlots tables differ", name, step, narrow)
				}
				zeros := 0
				for _, e := range a.table {
					if e != 0 && e&^a.kmask == 0 {
						zeros++
					}
				}
				if narrow && name == "random" && zeros == 0 {
					t.Errorf("%s step %d: no entry with tag 0: the narrow case tests nothing", name, step)
				}
			}
		}
	}
}
