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
