package vcdiff

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// codeLike returns n bytes of repetitive, source-code-like text: every
// 8-byte string occurs many times, so the sparse source index alone often
// points a probe at the wrong occurrence.
func codeLike(r *rand.Rand, n int) []byte {
	words := make([]string, 300)
	for i := range words {
		w := make([]byte, 3+r.IntN(6))
		for j := range w {
			w[j] = 'a' + byte(r.IntN(26))
		}
		words[i] = string(w)
	}
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "    %s.%s(%s, %d);\n", words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(20))
	}
	return b.Bytes()[:n]
}

// deleteEvery returns src with 1-3 bytes deleted about every gap bytes.
func deleteEvery(r *rand.Rand, src []byte, gap int) []byte {
	var out []byte
	for i := 0; i < len(src); {
		k := min(len(src), i+gap/2+r.IntN(gap))
		out = append(out, src[i:k]...)
		i = k + 1 + r.IntN(3)
	}
	return out
}

// literals parses tgt against src with p and returns how many target bytes
// no instruction covers.
func literals(p *levelParams, src, tgt []byte) int {
	var idx sourceIndex
	if err := idx.build(src, p.srcStep, p.srcWays, p.srcLen); err != nil {
		panic(err)
	}
	var m matcher
	m.reset(p, src, &idx, tgt)
	m.parse()
	n := len(tgt)
	for _, o := range m.ops {
		n -= o.size()
	}
	return n
}

// TestLocalSearchAfterDeletions: when bytes are deleted between long equal
// stretches, the COPY resumes just past the deletion through the local
// search. Without it, in repetitive text, much more is left as ADDs.
func TestLocalSearchAfterDeletions(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	src := codeLike(r, 1<<20)
	tgt := deleteEvery(r, src, 200)
	for lvl := MinLevel; lvl <= BestLevel; lvl++ {
		p := levelTable[lvl]
		if p.local == 0 {
			continue
		}
		with := literals(&p, src, tgt)
		p.local = 0
		without := literals(&p, src, tgt)
		t.Logf("level %d: %d literal bytes with the local search, %d without", lvl, with, without)
		if with*2 > without {
			t.Errorf("level %d: %d literal bytes with the local search, %d without: expected less than half", lvl, with, without)
		}
		patch, err := Encode(nil, src, tgt, WithLevel(lvl))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(nil, patch, src)
		if err != nil || !bytes.Equal(got, tgt) {
			t.Fatalf("level %d: round trip failed: %v", lvl, err)
		}
	}
}

// sparseDrift returns n bytes made of random ADDs of 16-48 bytes, each
// followed by 6-10 bytes copied from src at a displacement that drifts by a
// few bytes from one copy to the next: what two versions of a deflate
// stream share where they happen to be in step.
func sparseDrift(r *rand.Rand, src []byte, n int) (tgt []byte, copied int) {
	d := 0
	for len(tgt) < n {
		for range 16 + r.IntN(33) {
			tgt = append(tgt, byte(r.Uint32()))
		}
		d += r.IntN(7) - 3
		l := 6 + r.IntN(5)
		at := len(tgt) + d
		if at < 0 || at+l > len(src) {
			break
		}
		tgt = append(tgt, src[at:at+l]...)
		copied += l
	}
	return tgt, copied
}

// TestLocalSearchInCompressedData: in a window of compressed-looking data
// the local search runs everywhere, after copies of any size, and finds
// short copies at drifting displacements that neither the sparse index
// nor the two recent displacements reach.
func TestLocalSearchInCompressedData(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	src := make([]byte, 1<<20)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	tgt, copied := sparseDrift(r, src, len(src)-4096)
	for lvl := MinLevel; lvl <= BestLevel; lvl++ {
		p := levelTable[lvl]
		if p.local == 0 {
			continue
		}
		lit := literals(&p, src, tgt)
		found := len(tgt) - lit
		t.Logf("level %d: %d of %d copyable bytes covered", lvl, found, copied)
		if found*2 < copied {
			t.Errorf("level %d: %d of %d copyable bytes covered: expected more than half", lvl, found, copied)
		}
	}
}
