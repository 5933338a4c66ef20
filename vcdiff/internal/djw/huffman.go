package djw

import "slices"

// Decoding tables. A primary table indexed by the next tableBits input bits
// resolves every code of up to tableBits bits; longer codes (rare: up to 20
// bits) are resolved canonically bit by bit from the per-length counts.
const (
	tableBits = 10
	tableSize = 1 << tableBits
	tableMask = tableSize - 1
)

type huffDecoder struct {
	// table entries are sym<<8 | length; length 0 means "not resolved by
	// the table" (a long code or an unused bit pattern).
	table  [tableSize]uint32
	count  [maxCodeLen + 1]uint16 // number of codes of each length
	sorted [alphabetSize]uint16   // symbols in canonical code order
}

// build prepares h for the canonical code with the given lengths (0 =
// symbol unused, each <= maxCodeLen). Over-subscribed length sets are
// rejected; incomplete ones are accepted and their unused codes fail when
// met in the input.
func (h *huffDecoder) build(lens []uint8) error {
	h.count = [maxCodeLen + 1]uint16{}
	for _, l := range lens {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return corrupt("over-subscribed Huffman code")
		}
	}
	var offs [maxCodeLen + 2]uint16
	for l := 1; l <= maxCodeLen; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for s, l := range lens {
		if l != 0 {
			h.sorted[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	h.table = [tableSize]uint32{}
	code, idx := uint32(0), 0
	for l := uint(1); l <= tableBits; l++ {
		for i := 0; i < int(h.count[l]); i++ {
			e := uint32(h.sorted[idx])<<8 | uint32(l)
			for j := reverse(code, l); j < tableSize; j += 1 << l {
				h.table[j] = e
			}
			idx++
			code++
		}
		code <<= 1
	}
	return nil
}

// slow decodes one code from the low bits of acc (at least maxCodeLen
// valid bits) by walking the canonical code lengths. ok is false for a bit
// pattern that is not a code.
func (h *huffDecoder) slow(acc uint64) (sym uint32, length uint, ok bool) {
	code, first, idx := 0, 0, 0
	for l := uint(1); l <= maxCodeLen; l++ {
		code |= int(acc>>(l-1)) & 1
		c := int(h.count[l])
		if code < first+c {
			return uint32(h.sorted[idx+code-first]), l, true
		}
		idx += c
		first = (first + c) << 1
		code <<= 1
	}
	return 0, 0, false
}

// decode reads one symbol.
func (h *huffDecoder) decode(r *bitReader) (uint32, error) {
	if r.n < maxCodeLen && !r.refill() {
		return 0, ErrTruncated
	}
	e := h.table[r.acc&tableMask]
	l := uint(e & 0xff)
	sym := e >> 8
	if l == 0 {
		var ok bool
		if sym, l, ok = h.slow(r.acc); !ok {
			return 0, corrupt("undefined Huffman code")
		}
	}
	r.acc >>= l
	r.n -= l
	return sym, nil
}

// buildLengths computes Huffman code lengths, none longer than maxLen, for
// the symbols with non-zero freq. The caller guarantees at least two such
// symbols and that maxLen is large enough for them (2^maxLen >= count).
// Lengths are limited the bzip2 way: when the tree is too deep, flatten
// the frequencies and rebuild.
func buildLengths(freq []uint32, lens []uint8, maxLen int) {
	type node struct {
		w      uint64
		parent int32
	}
	var keys [alphabetSize]uint64 // weight<<9 | symbol, sorted
	var nodes [2 * alphabetSize]node
	var wbuf [alphabetSize]uint64
	w := wbuf[:len(freq)]
	for i, f := range freq {
		w[i] = uint64(f)
	}
	for {
		// Leaves sorted by weight, ties by symbol (deterministic).
		ns := 0
		for s, f := range w {
			if f != 0 {
				keys[ns] = f<<9 | uint64(s)
				ns++
			}
		}
		slices.Sort(keys[:ns])
		var leaves [alphabetSize]int
		for i, k := range keys[:ns] {
			leaves[i] = int(k & 511)
		}
		if ns < 2 { // not expected from callers; a 1-bit code still decodes
			for i := range lens {
				lens[i] = 0
			}
			if ns == 1 {
				lens[leaves[0]] = 1
			}
			return
		}
		for i := range ns {
			nodes[i] = node{w: w[leaves[i]], parent: -1}
		}
		// Two-queue Huffman: leaves in order, internal nodes are created
		// in non-decreasing weight order.
		next := ns      // next internal node index
		li, qi := 0, ns // heads of the leaf and internal queues
		pick := func() int {
			if li < ns && (qi >= next || nodes[li].w <= nodes[qi].w) {
				li++
				return li - 1
			}
			qi++
			return qi - 1
		}
		for next < 2*ns-1 {
			a, b := pick(), pick()
			nodes[next] = node{w: nodes[a].w + nodes[b].w, parent: -1}
			nodes[a].parent = int32(next)
			nodes[b].parent = int32(next)
			next++
		}
		// Depths: the root is the last node; parents have higher indices.
		var depth [2 * alphabetSize]uint8
		deepest := 0
		for i := next - 2; i >= 0; i-- {
			depth[i] = depth[nodes[i].parent] + 1
			if i < ns && int(depth[i]) > deepest {
				deepest = int(depth[i])
			}
		}
		if deepest <= maxLen {
			for i := range lens {
				lens[i] = 0
			}
			for i := range ns {
				lens[leaves[i]] = depth[i]
			}
			return
		}
		for s := range w {
			if w[s] != 0 {
				w[s] = w[s]/2 + 1
			}
		}
	}
}

// canonicalCodes returns, for each symbol with a non-zero length, its
// canonical code bit-reversed (ready for LSB-first output).
func canonicalCodes(lens []uint8, rev []uint32) {
	var count [maxCodeLen + 1]uint32
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeLen + 1]uint32
	code := uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range lens {
		if l != 0 {
			rev[s] = reverse(next[l], uint(l))
			next[l]++
		}
	}
}
