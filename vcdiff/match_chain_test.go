package vcdiff

import (
	"math/rand/v2"
	"testing"
)

// TestChainTag checks what makes the chain walk's tag filter lossless:
// the slot and tag depend only on the first tgtLen bytes, so a candidate
// whose tag differs cannot match; and a chain entry keeps every window
// position and tag intact.
func TestChainTag(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, level := range []int{1, 3, 6, 9} {
		p := &levelTable[level]
		var m matcher
		m.reset(p, nil, nil, make([]byte, MaxWindowSize))
		keep := uint64(1)<<(8*p.tgtLen) - 1
		for range 20000 {
			a := r.Uint64()
			b := a&keep | r.Uint64()&^keep // same first tgtLen bytes
			ha, ta := m.tgtHash(a)
			hb, tb := m.tgtHash(b)
			if ha != hb || ta != tb {
				t.Fatalf("level %d: %#x and %#x share their first %d bytes but hash to (%d, %d) and (%d, %d)",
					level, a, b, p.tgtLen, ha, ta, hb, tb)
			}
			if ha >= uint64(len(m.head)) || ta >= 1<<chainTagBits {
				t.Fatalf("level %d: slot %d of %d, tag %d", level, ha, len(m.head), ta)
			}
		}
		// Values sharing a slot mostly have different tags: the filter
		// spares most reads of colliding candidates.
		first := map[uint64]uint32{}
		same, pairs := 0, 0
		for range 1 << 18 {
			h, tag := m.tgtHash(r.Uint64())
			if t0, ok := first[h]; ok {
				pairs++
				if t0 == tag {
					same++
				}
			} else {
				first[h] = tag
			}
		}
		if pairs < 1000 || same*16 > pairs {
			t.Errorf("level %d: %d of %d colliding values have the first one's tag", level, same, pairs)
		}
	}
	for _, i := range []int{0, 1, 12345, MaxWindowSize - 1} {
		for _, tag := range []uint32{0, 1, 1<<chainTagBits - 1} {
			e := chainEntry(i, tag)
			if int(e&chainPos)-1 != i || e>>chainTagShift != tag || e == 0 {
				t.Errorf("chainEntry(%d, %d) = %#x", i, tag, e)
			}
		}
	}
}
