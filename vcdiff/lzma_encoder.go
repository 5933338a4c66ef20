package vcdiff

import (
	"math"
	"math/bits"
)

// lzmaEncoder writes one LZMA2 stream, section by section, as xdelta3's
// LZMA secondary compression frames it: each compress call appends whole
// chunks holding exactly the bytes given (a sync flush, no end marker),
// and the dictionary, probabilities, state and recent distances carry
// over to the next call.
//
// It has two modes. The fast one (newLZMAFastEncoder, lzma_fast.go)
// decides one symbol at a time. The other (newLZMAEncoder) chooses its
// symbols by a price-driven optimal parse, the method
// of liblzma's "normal" mode: over a stretch of positions it keeps, for
// every position, the cheapest known way to reach it (a literal, a short
// rep, a match at one of the four recent distances, or a match found by
// the binary-tree match finder), priced in 1/16 bits from the current
// probabilities, until every path meets at one position; it then encodes
// the cheapest path. On the sections of this package's patches that stores
// 4-12 % less than ulikunitz/xz's greedy Writer2, about as much as xz -9e,
// and about 5 % less than the fast mode (docs/BENCHMARKS.md).
type lzmaEncoder struct {
	lc, lp, pb uint
	dictCap    int
	depth      int // match-finder tree nodes visited per position
	nice       int // a match this long is taken without further parsing

	// History: buf holds the bytes matches may still reach (the last
	// dictCap at least, none from before the dictionary reset) and the
	// section being compressed; positions are indexes into buf.
	buf       []byte
	total     int64 // bytes encoded since the dictionary reset
	ins       int   // first position not yet in the match finder
	head2     []int32
	head3     []int32
	head4     []int32
	hash4Bits uint    // head4 has 2^hash4Bits slots
	son       []int32 // the match finder's tree: two children (position+1) per position of the ring
	ring      int

	// Fast mode (newLZMAFastEncoder): a greedy parse with one position of
	// lookahead over a hash-chain match finder; see lzma_fast.go.
	fast     bool
	chain    []int32 // per ring slot: the previous position+1 with the same 4-byte hash
	aheadPos int     // buf position whose matches are in ahead, or -1
	ahead    []lzmaMatch

	// Model.
	state uint32
	reps  [4]uint32
	lzmaModel
	needDictReset, needProps, needStateReset bool

	// Prices, refreshed every pricesEvery symbols.
	lenPrices, repLenPrices [1 << lzmaPosBitsMax][lzmaMaxLen + 1]uint32
	slotPrices              [lzmaLenToPos][64]uint32
	fullDistPrices          [lzmaLenToPos][lzmaFullDist]uint32
	alignPrices             [1 << lzmaAlignBits]uint32
	sincePrices             int

	// The chunk being written.
	rc        rangeEncoder
	chunkIn   int // uncompressed bytes in the chunk
	chunkFrom int // buf position of the chunk's first byte

	nodes   []optNode
	matches []lzmaMatch
	path    []optNode
}

const (
	lzmaMaxLen     = 273
	lzmaChunkIn    = 1 << 21 // largest uncompressed size of an LZMA2 chunk
	lzmaChunkOut   = 1 << 16 // largest compressed size of an LZMA2 chunk
	lzmaStoredMax  = 1 << 16 // largest stored chunk
	lzmaOptMax     = 1 << 12 // positions one optimal parse spans at most
	lzmaInfinity   = math.MaxUint32 >> 2
	lzmaSymbolMax  = 64 // range-coder bytes one symbol can add, with margin
	pricesEvery    = 512
	lzmaHash4Bits  = 18
	lzmaPriceShift = 4 // prices are in 1/16 bits
)

// Symbol kinds of the parse.
const (
	symLit = iota
	symShortRep
	symRep   // symRep+k: a match at the k-th recent distance
	symMatch = symRep + 4
)

type lzmaMatch struct {
	len  int
	dist uint32 // distance - 1, as LZMA codes it
}

type optNode struct {
	price uint32
	prev  int32  // position the symbol starts at
	kind  uint8  // symLit ...
	len   uint16 // symbol length
	dist  uint32 // symMatch: distance - 1
	state uint32
	reps  [4]uint32
}

// bitPrices[p>>lzmaPriceShift] is the price of a 0 bit coded with probability p.
var bitPrices = func() (t [2048 >> lzmaPriceShift]uint32) {
	for i := range t {
		p := (float64(i<<lzmaPriceShift) + float64(1<<lzmaPriceShift)/2) / 2048
		t[i] = uint32(math.Round(-math.Log2(p) * (1 << lzmaPriceShift)))
	}
	return t
}()

func bitPrice(p uint16, bit uint32) uint32 {
	if bit == 0 {
		return bitPrices[p>>lzmaPriceShift]
	}
	return bitPrices[(2048-p)>>lzmaPriceShift]
}

func treePrice(probs []uint16, nbits uint, sym uint32) uint32 {
	price := uint32(0)
	m := uint32(1)
	for i := int(nbits) - 1; i >= 0; i-- {
		b := sym >> uint(i) & 1
		price += bitPrice(probs[m], b)
		m = m<<1 | b
	}
	return price
}

func reverseTreePrice(probs []uint16, nbits uint, sym uint32) uint32 {
	price := uint32(0)
	m := uint32(1)
	for range nbits {
		b := sym & 1
		sym >>= 1
		price += bitPrice(probs[m], b)
		m = m<<1 | b
	}
	return price
}

// newLZMAEncoder returns an optimal-parse encoder for a new stream with
// the given dictionary size and literal/position settings.
func newLZMAEncoder(dictCap int, lc, lp, pb uint) *lzmaEncoder {
	e := newLZMAStream(dictCap, lc, lp, pb, lzmaHash4Bits)
	e.depth, e.nice = 48, 128
	e.son = make([]int32, 2*e.ring)
	e.nodes = make([]optNode, lzmaOptMax+lzmaMaxLen+2)
	return e
}

// newLZMAStream returns what both modes share: a new stream's model and
// the head tables, the 4-byte one with 2^hash4Bits slots.
func newLZMAStream(dictCap int, lc, lp, pb, hash4Bits uint) *lzmaEncoder {
	e := &lzmaEncoder{
		lc: lc, lp: lp, pb: pb, dictCap: dictCap,
		head2:     makeTable[int32](1 << 16),
		head3:     makeTable[int32](1 << 16),
		head4:     makeTable[int32](1 << hash4Bits),
		hash4Bits: hash4Bits,
		ring:      1 << bits.Len(uint(dictCap-1)),
		lzmaModel: lzmaModel{literal: make([]uint16, 0x300<<(lc+lp))},
		aheadPos:  -1,
	}
	e.needDictReset, e.needProps = true, true
	e.resetState()
	return e
}

// hash3 is the head3 slot of the 3 bytes at the bottom of v.
func hash3(v uint32) uint32 { return (v & 0xffffff * 0x9E3779B1) >> 16 }

// hash4 is the head4 slot of the 4 bytes v.
func (e *lzmaEncoder) hash4(v uint32) uint32 { return v * 0x9E3779B1 >> (32 - e.hash4Bits) }

func (e *lzmaEncoder) resetState() {
	e.state = 0
	e.reps = [4]uint32{}
	e.lzmaModel.reset(uint32(e.lc + e.lp))
	e.sincePrices = pricesEvery
}

// compress appends to dst the LZMA2 chunks that hold raw, ending on a
// chunk boundary.
func (e *lzmaEncoder) compress(dst, raw []byte) []byte {
	if len(raw) == 0 {
		return dst
	}
	e.slide()
	from := len(e.buf)
	e.buf = append(e.buf, raw...)
	end := len(e.buf)
	e.startChunk(from)
	pos := from
	for pos < end {
		var path []optNode
		if e.fast {
			path = e.parseFast(pos, end)
		} else {
			if e.sincePrices >= pricesEvery {
				e.updatePrices()
			}
			path = e.parse(pos, end)
		}
		for i := range path {
			s := &path[i]
			if e.chunkIn+int(s.len) > lzmaChunkIn || e.rc.size()+lzmaSymbolMax > lzmaChunkOut {
				var reset bool
				dst, reset = e.endChunk(dst, pos)
				e.startChunk(pos)
				if reset {
					// The rest of the path was priced, and its recent
					// distances numbered, for the old state.
					break
				}
			}
			e.encode(s, pos)
			pos += int(s.len)
			e.chunkIn += int(s.len)
			e.total += int64(s.len)
		}
	}
	dst, _ = e.endChunk(dst, end)
	return dst
}

// slide drops the history matches can no longer reach. It moves buf by a
// multiple of the ring size, so that every position keeps its tree slot.
func (e *lzmaEncoder) slide() {
	shift := (len(e.buf) - e.dictCap) / e.ring * e.ring
	if len(e.buf) <= 2*e.dictCap || shift <= 0 {
		return
	}
	copy(e.buf, e.buf[shift:])
	e.buf = e.buf[:len(e.buf)-shift]
	e.ins -= shift
	e.chunkFrom -= shift
	e.aheadPos = -1
	sub := func(t []int32) {
		for i, v := range t {
			if int(v) > shift {
				t[i] = v - int32(shift)
			} else {
				t[i] = 0
			}
		}
	}
	sub(e.head2)
	sub(e.head3)
	sub(e.head4)
	sub(e.son)
	sub(e.chain)
}

// startChunk begins an LZMA chunk at buf position from.
func (e *lzmaEncoder) startChunk(from int) {
	e.rc.reset()
	e.chunkIn = 0
	e.chunkFrom = from
}

// endChunk finishes the chunk of the bytes up to buf position end and
// appends it to dst: as an LZMA chunk, or as stored chunks if that is not
// smaller (the next LZMA chunk then resets the state, since the decoder
// never saw these symbols; reset reports that).
func (e *lzmaEncoder) endChunk(dst []byte, end int) (_ []byte, reset bool) {
	if e.chunkIn == 0 {
		return dst, false
	}
	packed := e.rc.flush()
	raw := e.buf[e.chunkFrom:end]
	if len(packed) >= len(raw) || len(packed) > lzmaChunkOut {
		for len(raw) > 0 {
			k := min(len(raw), lzmaStoredMax)
			ctl := byte(2)
			if e.needDictReset {
				ctl = 1
				e.needDictReset = false
			}
			dst = append(dst, ctl, byte((k-1)>>8), byte(k-1))
			dst = append(dst, raw[:k]...)
			raw = raw[k:]
		}
		e.resetState()
		e.needStateReset = true
		e.chunkIn = 0
		return dst, true
	}
	u, p := e.chunkIn-1, len(packed)-1
	var ctl byte
	switch {
	case e.needDictReset:
		ctl = 3
	case e.needProps:
		ctl = 2
	case e.needStateReset:
		ctl = 1
	}
	dst = append(dst, 0x80|ctl<<5|byte(u>>16), byte(u>>8), byte(u), byte(p>>8), byte(p))
	if ctl >= 2 {
		dst = append(dst, byte((e.pb*5+e.lp)*9+e.lc))
	}
	e.needDictReset, e.needProps, e.needStateReset = false, false, false
	e.chunkIn = 0
	return append(dst, packed...), false
}

// litState is the state after a literal.
func litState(s uint32) uint32 {
	switch {
	case s < 4:
		return 0
	case s < 10:
		return s - 3
	}
	return s - 6
}

func matchState(s uint32) uint32 {
	if s < 7 {
		return 7
	}
	return 10
}

func repState(s uint32) uint32 {
	if s < 7 {
		return 8
	}
	return 11
}

func shortRepState(s uint32) uint32 {
	if s < 7 {
		return 9
	}
	return 11
}

func lenToPos(l int) int { return min(l-lzmaMatchMinLen, lzmaLenToPos-1) }

func distSlot(d uint32) uint32 {
	if d < 4 {
		return d
	}
	n := uint32(bits.Len32(d)) - 1
	return 2*n + (d>>(n-1))&1
}

// literalProbs returns the literal coder for a byte at buf position pos.
func (e *lzmaEncoder) literalProbs(pos int) []uint16 {
	sp := e.streamPos(pos)
	var prev uint32
	if sp > 0 {
		prev = uint32(e.buf[pos-1])
	}
	ls := uint32(uint64(sp)&(1<<e.lp-1))<<e.lc + prev>>(8-e.lc)
	return e.literal[0x300*ls : 0x300*ls+0x300]
}

// streamPos is the stream position (bytes since the dictionary reset) of
// buf position pos at or after the next byte to encode.
func (e *lzmaEncoder) streamPos(pos int) int64 {
	return e.total + int64(pos-e.encPos())
}

// encPos is the buf position of the next byte to encode.
func (e *lzmaEncoder) encPos() int { return e.chunkFrom + e.chunkIn }

func (e *lzmaEncoder) posState(pos int) uint32 {
	return uint32(e.streamPos(pos)) & (1<<e.pb - 1)
}

// literalBits returns the probability indexes, in a literal coder, of the
// eight bits of c, most significant first: plain, or matched against
// matchByte (after a match, until a bit differs from matchByte's).
func literalBits(matched bool, matchByte, c uint32) (idx [8]uint32) {
	m := uint32(1)
	offs := uint32(0)
	if matched {
		offs = 0x100
	}
	for i := range 8 {
		matchByte <<= 1
		x := matchByte & offs
		b := c >> uint(7-i) & 1
		idx[i] = offs + x + m
		m = m<<1 | b
		if b != 0 {
			offs &= x
		} else {
			offs &= ^x
		}
	}
	return idx
}

func literalPrice(probs []uint16, matched bool, matchByte, c uint32) uint32 {
	idx := literalBits(matched, matchByte, c)
	price := uint32(0)
	for i, k := range idx {
		price += bitPrice(probs[k], c>>uint(7-i)&1)
	}
	return price
}

func (e *lzmaEncoder) updatePrices() {
	e.sincePrices = 0
	for ps := range 1 << e.pb {
		lenCoderPrices(&e.lenDec, ps, e.lenPrices[ps][:])
		lenCoderPrices(&e.repLenDec, ps, e.repLenPrices[ps][:])
	}
	for lp := range lzmaLenToPos {
		for s := range 64 {
			p := treePrice(e.posSlot[lp][:], 6, uint32(s))
			if s >= lzmaEndPosModel {
				p += uint32(s>>1-1-lzmaAlignBits) << lzmaPriceShift
			}
			e.slotPrices[lp][s] = p
		}
		for d := range uint32(lzmaFullDist) {
			s := distSlot(d)
			p := e.slotPrices[lp][s]
			if s >= 4 {
				nd := s>>1 - 1
				base := (2 | s&1) << nd
				p += reverseTreePrice(e.posSpecial[base-s:], uint(nd), d-base)
			}
			e.fullDistPrices[lp][d] = p
		}
	}
	for i := range uint32(1 << lzmaAlignBits) {
		e.alignPrices[i] = reverseTreePrice(e.align[:], lzmaAlignBits, i)
	}
}

func lenCoderPrices(l *lzmaLenDecoder, ps int, out []uint32) {
	c0, c1 := bitPrice(l.choice, 0), bitPrice(l.choice, 1)
	c10, c11 := c1+bitPrice(l.choice2, 0), c1+bitPrice(l.choice2, 1)
	for n := lzmaMatchMinLen; n <= lzmaMaxLen; n++ {
		k := uint32(n - lzmaMatchMinLen)
		switch {
		case k < 8:
			out[n] = c0 + treePrice(l.low[ps][:], 3, k)
		case k < 16:
			out[n] = c10 + treePrice(l.mid[ps][:], 3, k-8)
		default:
			out[n] = c11 + treePrice(l.high[:], 8, k-16)
		}
	}
}

func (e *lzmaEncoder) distPrice(d uint32, l int) uint32 {
	lp := lenToPos(l)
	if d < lzmaFullDist {
		return e.fullDistPrices[lp][d]
	}
	return e.slotPrices[lp][distSlot(d)] + e.alignPrices[d&(1<<lzmaAlignBits-1)]
}

// The match finder is a binary tree over the last ring positions (the
// "bt4" of LZMA encoders): each position is a node whose two children hold
// the earlier positions, among those with the same 4-byte hash, whose
// following bytes sort before and after its own. Inserting a position walks
// down from the most recent one with its hash, splitting the tree around
// the new string (which becomes the root), and on the way meets the
// earlier strings sharing the longest prefixes with it. head2 and head3
// add the latest position of each 2-byte value and 3-byte hash, for short
// matches at short distances.

// insertTo enters the positions before pos into the match finder, those
// with four bytes after them in buf.
func (e *lzmaEncoder) insertTo(pos int) {
	b := e.buf
	for ; e.ins < pos && e.ins+4 <= len(b); e.ins++ {
		i := e.ins
		e.insertShort(i)
		e.matches = e.treeWalk(i, e.lowest(i), min(lzmaMaxLen, len(b)-i), lzmaMaxLen, e.matches[:0])
	}
}

// lowest is the first buf position a match at pos may start at.
func (e *lzmaEncoder) lowest(pos int) int {
	return max(0, pos-e.dictCap, pos-int(min(e.streamPos(pos), int64(pos))))
}

func (e *lzmaEncoder) insertShort(i int) {
	v := load32(e.buf, i)
	e.head2[v&0xffff] = int32(i + 1)
	e.head3[hash3(v)] = int32(i + 1)
}

// treeWalk inserts position pos (with at least four bytes after it) into
// the tree, comparing at most lim bytes, and appends to ms each earlier
// string met that shares more than best bytes with it, longest last.
func (e *lzmaEncoder) treeWalk(pos, lo, lim, best int, ms []lzmaMatch) []lzmaMatch {
	b := e.buf
	mask := e.ring - 1
	h := e.hash4(load32(b, pos))
	cur := int(e.head4[h]) - 1
	e.head4[h] = int32(pos + 1)
	// Where the next smaller and the next larger string met go, and how
	// many bytes all strings in the smaller and the larger subtree still
	// to be walked share with pos's.
	less, more := 2*(pos&mask), 2*(pos&mask)+1
	nLess, nMore := 0, 0
	for d := e.depth; ; d-- {
		if cur < lo || cur >= pos || d == 0 {
			e.son[less], e.son[more] = 0, 0
			return ms
		}
		node := 2 * (cur & mask)
		n := min(nLess, nMore)
		n += matchLen(b[cur+n:cur+lim], b[pos+n:pos+lim])
		if n > best {
			// The prefix the tree vouches for is exact only if every
			// string was entered comparing as many bytes as now (not so
			// near the end of a section, before the next one arrives):
			// what is reported is measured afresh.
			if v := matchLen(b[cur:cur+lim], b[pos:pos+lim]); v > best {
				best = v
				ms = append(ms, lzmaMatch{len: v, dist: uint32(pos - cur - 1)})
			}
		}
		if n == lim {
			// Equal as far as compared: pos takes cur's place.
			e.son[less], e.son[more] = e.son[node], e.son[node+1]
			return ms
		}
		if b[cur+n] < b[pos+n] {
			e.son[less] = int32(cur + 1)
			less, nLess = node+1, n
			cur = int(e.son[node+1]) - 1
		} else {
			e.son[more] = int32(cur + 1)
			more, nMore = node, n
			cur = int(e.son[node]) - 1
		}
	}
}

// findMatches enters buf position pos into the match finder (and any
// before it not yet entered) and lists the longest matches there ending
// by end, one per length gained, shortest distance first.
func (e *lzmaEncoder) findMatches(pos, end int) []lzmaMatch {
	e.insertTo(pos)
	ms := e.matches[:0]
	b := e.buf
	maxLen := min(lzmaMaxLen, end-pos)
	if maxLen < 2 {
		return ms
	}
	lo := e.lowest(pos)
	best := 1
	short := func(c int) {
		if c >= lo && c < pos && b[c] == b[pos] && b[c+1] == b[pos+1] {
			if n := matchLen(b[c:c+maxLen], b[pos:pos+maxLen]); n > best {
				best = n
				ms = append(ms, lzmaMatch{len: n, dist: uint32(pos - c - 1)})
			}
		}
	}
	short(int(e.head2[uint32(b[pos])|uint32(b[pos+1])<<8]) - 1)
	if pos+4 <= len(b) {
		v := load32(b, pos)
		short(int(e.head3[hash3(v)]) - 1)
		e.insertShort(pos)
		ms = e.treeWalk(pos, lo, maxLen, best, ms)
		e.ins = pos + 1
	}
	e.matches = ms
	return ms
}

// parse returns the cheapest symbols for the bytes from buf position pos,
// up to a position where every path considered meets.
func (e *lzmaEncoder) parse(pos, end int) []optNode {
	nodes := e.nodes
	b := e.buf
	nodes[0] = optNode{price: 0, state: e.state, reps: e.reps}
	lenEnd := 0
	// reach makes node j and those before it candidates of the parse.
	reach := func(j int) {
		for lenEnd < j {
			lenEnd++
			nodes[lenEnd].price = lzmaInfinity
		}
	}
	stop := 0
	for cur := 0; ; cur++ {
		if cur > 0 && cur >= lenEnd || cur >= lzmaOptMax || pos+cur >= end {
			stop = cur
			break
		}
		n := &nodes[cur]
		if cur > 0 {
			// The node's state and recent distances follow from the
			// symbol that reaches it.
			pn := &nodes[n.prev]
			n.state, n.reps = pn.state, pn.reps
			switch k := n.kind; {
			case k == symLit:
				n.state = litState(n.state)
			case k == symShortRep:
				n.state = shortRepState(n.state)
			case k < symMatch:
				r := int(k - symRep)
				d := n.reps[r]
				copy(n.reps[1:r+1], n.reps[:r])
				n.reps[0] = d
				n.state = repState(n.state)
			default:
				n.reps = [4]uint32{n.dist, n.reps[0], n.reps[1], n.reps[2]}
				n.state = matchState(n.state)
			}
		}
		p := pos + cur
		avail := min(lzmaMaxLen, end-p)
		ms := e.findMatches(p, end)
		if len(ms) > 0 && ms[len(ms)-1].len >= e.nice {
			m := ms[len(ms)-1]
			stop = cur + m.len
			nodes[stop] = optNode{prev: int32(cur), kind: symMatch, len: uint16(m.len), dist: m.dist}
			break
		}
		st := n.state
		ps := e.posState(p)
		// The prices below are relative to the stream as it will be once
		// the path to cur is encoded; the probabilities are those of now.
		isM := e.isMatch[st<<lzmaPosBitsMax+ps]
		base := n.price
		// Literal.
		{
			probs := e.literalProbs(p)
			var mb uint32
			matched := st >= 7
			if matched {
				mb = uint32(b[p-int(n.reps[0])-1])
			}
			price := base + bitPrice(isM, 0) + literalPrice(probs, matched, mb, uint32(b[p]))
			reach(cur + 1)
			if x := &nodes[cur+1]; price < x.price {
				*x = optNode{price: price, prev: int32(cur), kind: symLit, len: 1}
			}
		}
		matchBase := base + bitPrice(isM, 1)
		repBase := matchBase + bitPrice(e.isRep[st], 1)
		lo := e.lowest(p)
		// Short rep.
		if d := int(n.reps[0]) + 1; p-d >= lo && b[p-d] == b[p] {
			price := repBase + bitPrice(e.isRepG0[st], 0) + bitPrice(e.isRep0Long[st<<lzmaPosBitsMax+ps], 0)
			if x := &nodes[cur+1]; price < x.price {
				*x = optNode{price: price, prev: int32(cur), kind: symShortRep, len: 1}
			}
		}
		// Matches at the recent distances.
		for r := range 4 {
			d := int(n.reps[r]) + 1
			if p-d < lo || avail < 2 || b[p-d] != b[p] || b[p-d+1] != b[p+1] {
				continue
			}
			l := matchLen(b[p-d:p-d+avail], b[p:p+avail])
			var price uint32
			if r == 0 {
				price = repBase + bitPrice(e.isRepG0[st], 0) + bitPrice(e.isRep0Long[st<<lzmaPosBitsMax+ps], 1)
			} else {
				price = repBase + bitPrice(e.isRepG0[st], 1)
				if r == 1 {
					price += bitPrice(e.isRepG1[st], 0)
				} else {
					price += bitPrice(e.isRepG1[st], 1) + bitPrice(e.isRepG2[st], uint32(r-2))
				}
			}
			reach(cur + l)
			for k := l; k >= 2; k-- {
				pr := price + e.repLenPrices[ps][k]
				if x := &nodes[cur+k]; pr < x.price {
					*x = optNode{price: pr, prev: int32(cur), kind: uint8(symRep + r), len: uint16(k)}
				}
			}
		}
		// Matches found by the search.
		if len(ms) > 0 {
			normal := matchBase + bitPrice(e.isRep[st], 0)
			reach(cur + ms[len(ms)-1].len)
			k := 2
			for _, m := range ms {
				for ; k <= m.len; k++ {
					pr := normal + e.lenPrices[ps][k] + e.distPrice(m.dist, k)
					if x := &nodes[cur+k]; pr < x.price {
						*x = optNode{price: pr, prev: int32(cur), kind: symMatch, len: uint16(k), dist: m.dist}
					}
				}
			}
		}
	}
	// Walk back from stop.
	path := e.path[:0]
	for at := stop; at > 0; at = int(nodes[at].prev) {
		path = append(path, nodes[at])
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	e.path = path
	return path
}

// encode writes symbol s for the bytes at buf position pos and updates
// the model as the decoder will.
func (e *lzmaEncoder) encode(s *optNode, pos int) {
	rc := &e.rc
	st := e.state
	ps := e.posState(pos)
	b := e.buf
	e.sincePrices++
	if s.kind == symLit {
		rc.bit(&e.isMatch[st<<lzmaPosBitsMax+ps], 0)
		probs := e.literalProbs(pos)
		c := uint32(b[pos])
		var mb uint32
		if st >= 7 {
			mb = uint32(b[pos-int(e.reps[0])-1])
		}
		for i, k := range literalBits(st >= 7, mb, c) {
			rc.bit(&probs[k], c>>uint(7-i)&1)
		}
		e.state = litState(st)
		return
	}
	rc.bit(&e.isMatch[st<<lzmaPosBitsMax+ps], 1)
	switch {
	case s.kind == symMatch:
		rc.bit(&e.isRep[st], 0)
		e.encodeLen(&e.lenDec, int(s.len), ps)
		lp := lenToPos(int(s.len))
		d := s.dist
		slot := distSlot(d)
		rc.tree(e.posSlot[lp][:], 6, slot)
		if slot >= 4 {
			nd := slot>>1 - 1
			base := (2 | slot&1) << nd
			if slot < lzmaEndPosModel {
				rc.reverseTree(e.posSpecial[base-slot:], uint(nd), d-base)
			} else {
				rc.direct((d-base)>>lzmaAlignBits, uint(nd-lzmaAlignBits))
				rc.reverseTree(e.align[:], lzmaAlignBits, (d-base)&(1<<lzmaAlignBits-1))
			}
		}
		e.reps = [4]uint32{d, e.reps[0], e.reps[1], e.reps[2]}
		e.state = matchState(st)
	case s.kind == symShortRep:
		rc.bit(&e.isRep[st], 1)
		rc.bit(&e.isRepG0[st], 0)
		rc.bit(&e.isRep0Long[st<<lzmaPosBitsMax+ps], 0)
		e.state = shortRepState(st)
	default:
		r := int(s.kind - symRep)
		rc.bit(&e.isRep[st], 1)
		if r == 0 {
			rc.bit(&e.isRepG0[st], 0)
			rc.bit(&e.isRep0Long[st<<lzmaPosBitsMax+ps], 1)
		} else {
			rc.bit(&e.isRepG0[st], 1)
			if r == 1 {
				rc.bit(&e.isRepG1[st], 0)
			} else {
				rc.bit(&e.isRepG1[st], 1)
				rc.bit(&e.isRepG2[st], uint32(r-2))
			}
			d := e.reps[r]
			copy(e.reps[1:r+1], e.reps[:r])
			e.reps[0] = d
		}
		e.encodeLen(&e.repLenDec, int(s.len), ps)
		e.state = repState(st)
	}
}

func (e *lzmaEncoder) encodeLen(l *lzmaLenDecoder, n int, ps uint32) {
	rc := &e.rc
	k := uint32(n - lzmaMatchMinLen)
	switch {
	case k < 8:
		rc.bit(&l.choice, 0)
		rc.tree(l.low[ps][:], 3, k)
	case k < 16:
		rc.bit(&l.choice, 1)
		rc.bit(&l.choice2, 0)
		rc.tree(l.mid[ps][:], 3, k-8)
	default:
		rc.bit(&l.choice, 1)
		rc.bit(&l.choice2, 1)
		rc.tree(l.high[:], 8, k-16)
	}
}

// rangeEncoder is LZMA's range coder, writing one chunk's bytes.
type rangeEncoder struct {
	low       uint64
	rng       uint32
	cache     byte
	cacheSize int
	out       []byte
}

func (r *rangeEncoder) reset() {
	r.low, r.rng, r.cache, r.cacheSize = 0, 0xFFFFFFFF, 0, 1
	r.out = r.out[:0]
}

// size bounds the chunk's compressed size if it ended now.
func (r *rangeEncoder) size() int { return len(r.out) + r.cacheSize + 5 }

func (r *rangeEncoder) shiftLow() {
	if uint32(r.low) < 0xFF000000 || r.low >= 1<<32 {
		carry := byte(r.low >> 32)
		c := r.cache
		for {
			r.out = append(r.out, c+carry)
			c = 0xFF
			r.cacheSize--
			if r.cacheSize == 0 {
				break
			}
		}
		r.cache = byte(r.low >> 24)
	}
	r.cacheSize++
	r.low = (r.low & 0x00FFFFFF) << 8
}

func (r *rangeEncoder) bit(p *uint16, b uint32) {
	v := uint32(*p)
	bound := (r.rng >> 11) * v
	if b == 0 {
		r.rng = bound
		*p = uint16(v + (2048-v)>>5)
	} else {
		r.low += uint64(bound)
		r.rng -= bound
		*p = uint16(v - v>>5)
	}
	for r.rng < lzmaTopValue {
		r.rng <<= 8
		r.shiftLow()
	}
}

func (r *rangeEncoder) direct(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		r.rng >>= 1
		if v>>uint(i)&1 != 0 {
			r.low += uint64(r.rng)
		}
		for r.rng < lzmaTopValue {
			r.rng <<= 8
			r.shiftLow()
		}
	}
}

func (r *rangeEncoder) tree(probs []uint16, nbits uint, sym uint32) {
	m := uint32(1)
	for i := int(nbits) - 1; i >= 0; i-- {
		b := sym >> uint(i) & 1
		r.bit(&probs[m], b)
		m = m<<1 | b
	}
}

func (r *rangeEncoder) reverseTree(probs []uint16, nbits uint, sym uint32) {
	m := uint32(1)
	for range nbits {
		b := sym & 1
		sym >>= 1
		r.bit(&probs[m], b)
		m = m<<1 | b
	}
}

// flush ends the chunk's range coding and returns its bytes.
func (r *rangeEncoder) flush() []byte {
	for range 5 {
		r.shiftLow()
	}
	return r.out
}
