package vcdiff

// The fast mode of lzmaEncoder, for the recode levels below
// lzmaOptimalLevel. It writes the same kind of stream as the optimal parse
// (lzma_encoder.go) but decides one symbol at a time, in the manner of
// liblzma's fast mode: the longest match at a recent distance or found by a
// hash-chain match finder, taken at once when long, else weighed against
// the match one byte further on (a literal now if that one is better).
// Literal against short rep is decided by price, from the current
// probabilities; nothing else needs the price tables.

const (
	lzmaFastDepth = 12 // hash-chain candidates visited per position
	lzmaFastNice  = 64 // a match this long ends the search
	lzmaFastHash4 = 16 // log2 of the 4-byte hash's head table
)

// newLZMAFastEncoder returns a fast-mode encoder for a new stream.
func newLZMAFastEncoder(dictCap int, lc, lp, pb uint) *lzmaEncoder {
	e := newLZMAStream(dictCap, lc, lp, pb, lzmaFastHash4)
	e.depth, e.nice, e.fast = lzmaFastDepth, lzmaFastNice, true
	e.chain = make([]int32, e.ring)
	e.path = make([]optNode, 0, 1)
	return e
}

// insertFast enters buf position i (with four bytes after it) into the
// hash chains.
func (e *lzmaEncoder) insertFast(i int) {
	e.insertShort(i)
	h := e.hash4(load32(e.buf, i))
	e.chain[i&(e.ring-1)] = e.head4[h]
	e.head4[h] = int32(i + 1)
}

// findFast enters the positions up to pos into the match finder and lists
// the longest matches at pos ending by end, one per length gained,
// shortest distance first. The list is valid until the next call.
func (e *lzmaEncoder) findFast(pos, end int) []lzmaMatch {
	b := e.buf
	for ; e.ins < pos && e.ins+4 <= len(b); e.ins++ {
		e.insertFast(e.ins)
	}
	ms := e.matches[:0]
	maxLen := min(lzmaMaxLen, end-pos)
	if maxLen < 2 {
		e.matches = ms
		return ms
	}
	lo := e.lowest(pos)
	best := 1
	try := func(c int) bool {
		if c >= lo && c < pos && b[c+best] == b[pos+best] && b[c] == b[pos] {
			if n := matchLen(b[c:c+maxLen], b[pos:pos+maxLen]); n > best {
				best = n
				ms = append(ms, lzmaMatch{len: n, dist: uint32(pos - c - 1)})
			}
		}
		return best >= maxLen || best >= e.nice
	}
	if !try(int(e.head2[uint32(b[pos])|uint32(b[pos+1])<<8])-1) && pos+4 <= len(b) {
		v := load32(b, pos)
		if !try(int(e.head3[hash3(v)]) - 1) {
			h := e.hash4(v)
			for c, d := int(e.head4[h])-1, e.depth; d > 0 && c >= lo; d-- {
				if try(c) {
					break
				}
				next := int(e.chain[c&(e.ring-1)]) - 1
				if next >= c {
					break
				}
				c = next
			}
		}
	}
	if pos+4 <= len(b) && e.ins == pos {
		e.insertFast(pos)
		e.ins = pos + 1
	}
	e.matches = ms
	return ms
}

// fastMatches returns the matches at pos, from the lookahead when it was
// taken there.
func (e *lzmaEncoder) fastMatches(pos, end int) (int, uint32) {
	var ms []lzmaMatch
	if e.aheadPos == pos {
		ms = e.ahead
	} else {
		ms = e.findFast(pos, end)
	}
	e.aheadPos = -1
	if len(ms) == 0 {
		return 0, 0
	}
	// A match one byte shorter at a much shorter distance is cheaper.
	l, d := ms[len(ms)-1].len, ms[len(ms)-1].dist
	for k := len(ms) - 2; k >= 0 && ms[k].len+1 == l && farther(ms[k].dist, d); k-- {
		l, d = ms[k].len, ms[k].dist
	}
	if l == 2 && d >= 0x80 {
		return 0, 0 // a far 2-byte match costs more than two literals
	}
	return l, d
}

// farther reports whether distance big is so much larger than small that
// a match one byte longer at big does not pay for it.
func farther(small, big uint32) bool { return big>>7 > small }

// parseFast returns the next symbol at buf position pos.
func (e *lzmaEncoder) parseFast(pos, end int) []optNode {
	lo := e.lowest(pos)
	repLen, repIdx := e.longestRep(pos, min(lzmaMaxLen, end-pos))
	if repLen >= e.nice {
		e.aheadPos = -1
		return e.symbol(uint8(symRep+repIdx), repLen, 0)
	}
	mainLen, mainDist := e.fastMatches(pos, end)
	if mainLen >= e.nice {
		return e.symbol(symMatch, mainLen, mainDist)
	}
	if repLen >= 2 && (repLen+1 >= mainLen ||
		repLen+2 >= mainLen && mainDist >= 1<<9 ||
		repLen+3 >= mainLen && mainDist >= 1<<15) {
		return e.symbol(uint8(symRep+repIdx), repLen, 0)
	}
	if mainLen < 2 {
		return e.literalOrShortRep(pos, lo)
	}
	// One position of lookahead: a literal now if the match starting at
	// the next byte is better.
	if pos+1 < end {
		e.ahead = append(e.ahead[:0], e.findFast(pos+1, end)...)
		e.aheadPos = pos + 1
		if k := len(e.ahead); k > 0 {
			nl, nd := e.ahead[k-1].len, e.ahead[k-1].dist
			if nl >= mainLen && nd < mainDist ||
				nl == mainLen+1 && !farther(mainDist, nd) ||
				nl > mainLen+1 ||
				nl+1 >= mainLen && mainLen >= 3 && farther(nd, mainDist) {
				return e.literalOrShortRep(pos, lo)
			}
		}
		// Or if a recent distance matches almost as far from there.
		if p, lim := pos+1, max(mainLen-1, 2); end-p >= 2 {
			if n, _ := e.longestRep(p, min(lim, end-p)); n >= lim {
				return e.literalOrShortRep(pos, lo)
			}
		}
	}
	return e.symbol(symMatch, mainLen, mainDist)
}

// longestRep returns the longest match, of at most n bytes, at buf
// position p at one of the recent distances, and which one (0, 0 if none
// reaches two bytes).
func (e *lzmaEncoder) longestRep(p, n int) (length, idx int) {
	if n < 2 {
		return 0, 0
	}
	b, lo := e.buf, e.lowest(p)
	for r := range 4 {
		c := p - int(e.reps[r]) - 1
		if c < lo || b[c] != b[p] || b[c+1] != b[p+1] {
			continue
		}
		if l := matchLen(b[c:c+n], b[p:p+n]); l > length {
			length, idx = l, r
		}
	}
	return length, idx
}

// literalOrShortRep returns a literal or, when the byte at the last
// distance equals it and that is cheaper, a short rep.
func (e *lzmaEncoder) literalOrShortRep(pos, lo int) []optNode {
	b := e.buf
	c := pos - int(e.reps[0]) - 1
	if c >= lo && b[c] == b[pos] {
		st, ps := e.state, e.posState(pos)
		var mb uint32
		if st >= 7 {
			mb = uint32(b[c])
		}
		lit := bitPrice(e.isMatch[st<<lzmaPosBitsMax+ps], 0) + literalPrice(e.literalProbs(pos), st >= 7, mb, uint32(b[pos]))
		rep := bitPrice(e.isMatch[st<<lzmaPosBitsMax+ps], 1) + bitPrice(e.isRep[st], 1) +
			bitPrice(e.isRepG0[st], 0) + bitPrice(e.isRep0Long[st<<lzmaPosBitsMax+ps], 0)
		if rep < lit {
			return e.symbol(symShortRep, 1, 0)
		}
	}
	return e.symbol(symLit, 1, 0)
}

func (e *lzmaEncoder) symbol(kind uint8, n int, dist uint32) []optNode {
	e.path = append(e.path[:0], optNode{kind: kind, len: uint16(n), dist: dist})
	return e.path
}
