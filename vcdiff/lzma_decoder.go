package vcdiff

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// lzma2Decoder is an LZMA2 chunk decoder written for xdelta3's secondary
// sections: the caller hands it one section's chunks at a time (already
// framed by walkLZMA2Chunks) and the dictionary, probabilities and match
// state carry over to the next section. Input is a byte slice, output goes
// to a caller buffer, and nothing is allocated per chunk, which makes it
// several times faster than a general io.Reader-based decoder. Written from
// the LZMA format description (range coder, literal/match/rep model).

const (
	lzmaStates      = 12
	lzmaPosBitsMax  = 4
	lzmaLenToPos    = 4
	lzmaEndPosModel = 14
	lzmaFullDist    = 128
	lzmaAlignBits   = 4
	lzmaMatchMinLen = 2
	lzmaProbInit    = 1024
	lzmaTopValue    = 1 << 24
)

type lzmaLenDecoder struct {
	choice, choice2 uint16
	low             [1 << lzmaPosBitsMax][8]uint16
	mid             [1 << lzmaPosBitsMax][8]uint16
	high            [256]uint16
}

func (l *lzmaLenDecoder) reset() {
	l.choice, l.choice2 = lzmaProbInit, lzmaProbInit
	for i := range l.low {
		for j := range l.low[i] {
			l.low[i][j] = lzmaProbInit
			l.mid[i][j] = lzmaProbInit
		}
	}
	for i := range l.high {
		l.high[i] = lzmaProbInit
	}
}

// rangeDec is the LZMA range decoder over one chunk's bytes.
type rangeDec struct {
	in    []byte
	i     int
	rng   uint32
	code  uint32
	short bool // ran past the end of in
}

func (r *rangeDec) init(in []byte) error {
	if len(in) < 5 || in[0] != 0 {
		return errors.New("LZMA chunk has a bad range coder header")
	}
	r.in, r.i, r.short = in, 5, false
	r.rng = 0xFFFFFFFF
	r.code = binary.BigEndian.Uint32(in[1:5])
	if r.code == r.rng {
		return errors.New("LZMA chunk has a bad range coder header")
	}
	return nil
}

// normalize refills the range when it drops below 2^24. bit and literal
// normalize before decoding (keeping bit small enough to inline); a chunk's
// last normalization is done by finish.
func (r *rangeDec) normalize() {
	if r.rng < lzmaTopValue {
		r.fill()
	}
}

//go:noinline
func (r *rangeDec) fill() {
	r.rng <<= 8
	var b byte
	if r.i < len(r.in) {
		b = r.in[r.i]
	} else {
		r.short = true
	}
	r.i++
	r.code = r.code<<8 | uint32(b)
}

func (r *rangeDec) finish() { r.normalize() }

func (r *rangeDec) bit(p *uint16) uint32 {
	if r.rng < lzmaTopValue {
		r.fill()
	}
	v := uint32(*p)
	bound := (r.rng >> 11) * v
	if r.code < bound {
		r.rng = bound
		*p = uint16(v + (2048-v)>>5)
		return 0
	}
	r.rng -= bound
	r.code -= bound
	*p = uint16(v - v>>5)
	return 1
}

// literal decodes a plain literal (8 bits through a 256-leaf tree) with the
// coder state in registers.
func (r *rangeDec) literal(probs *[0x300]uint16) byte {
	rng, code, in, i := r.rng, r.code, r.in, r.i
	sym := uint32(1)
	for sym < 0x100 {
		if rng < lzmaTopValue {
			rng <<= 8
			var b byte
			if i < len(in) {
				b = in[i]
			} else {
				r.short = true
			}
			i++
			code = code<<8 | uint32(b)
		}
		// Branchless: literal bits of poorly compressible data are
		// unpredictable, so a branch would mispredict half the time.
		p := &probs[sym&0xff]
		v := uint32(*p)
		bound := (rng >> 11) * v
		bit := uint32(1 - (uint64(code)-uint64(bound))>>63) // code >= bound
		m := -bit
		rng = bound&^m | (rng-bound)&m
		code -= bound & m
		p0 := v + (2048-v)>>5
		*p = uint16(p0 + (v-v>>5-p0)&m)
		sym = sym<<1 | bit
	}
	r.rng, r.code, r.i = rng, code, i
	return byte(sym)
}

func (r *rangeDec) direct(n uint32) uint32 {
	var res uint32
	for ; n > 0; n-- {
		r.normalize()
		r.rng >>= 1
		res <<= 1
		if r.code >= r.rng {
			r.code -= r.rng
			res |= 1
		}
	}
	return res
}

// matchedLiteral decodes a literal after a match: while its bits agree with
// the byte at distance rep0 (mb) the "matched" probabilities are used.
func (r *rangeDec) matchedLiteral(probs *[0x300]uint16, mb uint32) byte {
	rng, code, in, i := r.rng, r.code, r.in, r.i
	sym := uint32(1)
	offs := uint32(0x100)
	for sym < 0x100 {
		if rng < lzmaTopValue {
			rng <<= 8
			var b byte
			if i < len(in) {
				b = in[i]
			} else {
				r.short = true
			}
			i++
			code = code<<8 | uint32(b)
		}
		mb <<= 1
		matchBit := mb & offs
		p := &probs[(offs+matchBit+sym)%0x300]
		v := uint32(*p)
		bound := (rng >> 11) * v
		bit := uint32(1 - (uint64(code)-uint64(bound))>>63)
		m := -bit
		rng = bound&^m | (rng-bound)&m
		code -= bound & m
		p0 := v + (2048-v)>>5
		*p = uint16(p0 + (v-v>>5-p0)&m)
		sym = sym<<1 | bit
		offs &= matchBit&m | ^matchBit&^m
	}
	r.rng, r.code, r.i = rng, code, i
	return byte(sym)
}

// tree decodes an n-bit symbol with a bit tree rooted at probs[1].
func (r *rangeDec) tree(probs []uint16, n uint) uint32 {
	rng, code, in, i := r.rng, r.code, r.in, r.i
	m := uint32(1)
	for range n {
		if rng < lzmaTopValue {
			rng <<= 8
			var b byte
			if i < len(in) {
				b = in[i]
			} else {
				r.short = true
			}
			i++
			code = code<<8 | uint32(b)
		}
		p := &probs[m]
		v := uint32(*p)
		bound := (rng >> 11) * v
		bit := uint32(1 - (uint64(code)-uint64(bound))>>63)
		mask := -bit
		rng = bound&^mask | (rng-bound)&mask
		code -= bound & mask
		p0 := v + (2048-v)>>5
		*p = uint16(p0 + (v-v>>5-p0)&mask)
		m = m<<1 | bit
	}
	r.rng, r.code, r.i = rng, code, i
	return m - 1<<n
}

// reverseTree decodes an n-bit symbol LSB first; probs[base+m] with m >= 1.
func (r *rangeDec) reverseTree(probs []uint16, base int, n uint32) uint32 {
	m := 1
	var sym uint32
	for i := range n {
		b := r.bit(&probs[base+m])
		m = m<<1 | int(b)
		sym |= b << i
	}
	return sym
}

func (r *rangeDec) length(l *lzmaLenDecoder, posState uint32) uint32 {
	if r.bit(&l.choice) == 0 {
		return r.tree(l.low[posState][:], 3)
	}
	if r.bit(&l.choice2) == 0 {
		return 8 + r.tree(l.mid[posState][:], 3)
	}
	return 16 + r.tree(l.high[:], 8)
}

type lzma2Decoder struct {
	// Dictionary: a circular buffer; flushed marks how much of the current
	// pass has been copied to the output.
	dict    []byte
	pos     int
	flushed int
	total   uint64 // bytes decoded since the last dictionary reset
	out     []byte // output of the current section

	haveProps  bool
	lc, lp, pb uint32
	state      uint32
	rep        [4]uint32

	isMatch    [lzmaStates << lzmaPosBitsMax]uint16
	isRep      [lzmaStates]uint16
	isRepG0    [lzmaStates]uint16
	isRepG1    [lzmaStates]uint16
	isRepG2    [lzmaStates]uint16
	isRep0Long [lzmaStates << lzmaPosBitsMax]uint16
	posSlot    [lzmaLenToPos][64]uint16
	posSpecial [lzmaFullDist - lzmaEndPosModel]uint16
	align      [1 << lzmaAlignBits]uint16
	lenDec     lzmaLenDecoder
	repLenDec  lzmaLenDecoder
	literal    []uint16 // 0x300 << (lc+lp), at most 0x300 << 4

	rc rangeDec
}

func newLZMA2Decoder(dictSize int) *lzma2Decoder {
	return &lzma2Decoder{dict: make([]byte, dictSize), literal: make([]uint16, 0x300<<4)}
}

func (d *lzma2Decoder) resetDict() {
	d.pos, d.flushed, d.total = 0, 0, 0
}

func (d *lzma2Decoder) resetState() {
	d.state = 0
	d.rep = [4]uint32{}
	fill16 := func(p []uint16) {
		for i := range p {
			p[i] = lzmaProbInit
		}
	}
	fill16(d.isMatch[:])
	fill16(d.isRep[:])
	fill16(d.isRepG0[:])
	fill16(d.isRepG1[:])
	fill16(d.isRepG2[:])
	fill16(d.isRep0Long[:])
	for i := range d.posSlot {
		fill16(d.posSlot[i][:])
	}
	fill16(d.posSpecial[:])
	fill16(d.align[:])
	fill16(d.literal[:0x300<<(d.lc+d.lp)])
	d.lenDec.reset()
	d.repLenDec.reset()
}

func (d *lzma2Decoder) setProps(p byte) error {
	if p >= 9*5*5 {
		return fmt.Errorf("LZMA properties byte 0x%02x is invalid", p)
	}
	lc, lp, pb := uint32(p%9), uint32(p/9%5), uint32(p/45)
	if lc+lp > 4 {
		return fmt.Errorf("LZMA2 properties lc=%d lp=%d exceed lc+lp=4", lc, lp)
	}
	d.lc, d.lp, d.pb = lc, lp, pb
	d.haveProps = true
	return nil
}

// flush copies the dictionary bytes written since the last flush to out.
func (d *lzma2Decoder) flush() {
	d.out = append(d.out, d.dict[d.flushed:d.pos]...)
	d.flushed = d.pos
	if d.pos == len(d.dict) {
		d.pos, d.flushed = 0, 0
	}
}

func (d *lzma2Decoder) putByte(b byte) {
	d.dict[d.pos] = b
	d.pos++
	d.total++
	if d.pos == len(d.dict) {
		d.flush()
	}
}

// decodeSection decodes the chunks of one section (validated by
// walkLZMA2Chunks) and appends the bytes to out[:0].
func (d *lzma2Decoder) decodeSection(b []byte, out []byte) ([]byte, error) {
	d.out = out[:0]
	defer func() { d.out = nil }()
	for i := 0; i < len(b); {
		c := b[i]
		if c == 1 || c == 2 {
			n := int(binary.BigEndian.Uint16(b[i+1:])) + 1
			if c == 1 {
				d.flush()
				d.resetDict()
			}
			for _, x := range b[i+3 : i+3+n] {
				d.putByte(x)
			}
			i += 3 + n
			continue
		}
		usize := (int(c&0x1F)<<16 | int(binary.BigEndian.Uint16(b[i+1:]))) + 1
		csize := int(binary.BigEndian.Uint16(b[i+3:])) + 1
		h := 5
		reset := (c >> 5) & 3
		if reset == 3 {
			d.flush()
			d.resetDict()
		}
		if reset >= 2 {
			h = 6
			if err := d.setProps(b[i+5]); err != nil {
				return d.out, err
			}
		} else if !d.haveProps {
			return d.out, errors.New("LZMA chunk before any properties")
		}
		if reset >= 1 {
			d.resetState()
		}
		in := b[i+h : i+h+csize]
		if err := d.rc.init(in); err != nil {
			return d.out, err
		}
		if err := d.decodeChunk(usize); err != nil {
			return d.out, err
		}
		d.rc.finish()
		if d.rc.short || d.rc.i != len(in) {
			return d.out, fmt.Errorf("LZMA chunk used %d of its %d bytes", d.rc.i, len(in))
		}
		i += h + csize
	}
	d.flush()
	return d.out, nil
}

// decodeChunk decodes exactly n bytes from the range coder.
func (d *lzma2Decoder) decodeChunk(n int) error {
	rc := &d.rc
	pbMask := uint32(1)<<d.pb - 1
	lpMask := uint32(1)<<d.lp - 1
	dictLen := uint64(len(d.dict))
	end := d.total + uint64(n)
	for d.total < end {
		if rc.short {
			return errors.New("LZMA chunk is truncated")
		}
		posState := uint32(d.total) & pbMask
		st := d.state
		if rc.bit(&d.isMatch[st<<lzmaPosBitsMax+posState]) == 0 {
			// Literal.
			var prev uint32
			if d.total > 0 {
				prev = uint32(d.dict[d.back(1)])
			}
			ls := (uint32(d.total)&lpMask)<<d.lc + prev>>(8-d.lc)
			probs := (*[0x300]uint16)(d.literal[0x300*ls : 0x300*ls+0x300])
			if st < 7 {
				d.putByte(rc.literal(probs))
			} else {
				if uint64(d.rep[0]) >= d.total {
					return errors.New("LZMA match distance beyond the data")
				}
				mb := uint32(d.dict[d.back(int(d.rep[0])+1)])
				d.putByte(rc.matchedLiteral(probs, mb))
			}
			switch {
			case st < 4:
				d.state = 0
			case st < 10:
				d.state = st - 3
			default:
				d.state = st - 6
			}
			continue
		}
		var length uint32
		if rc.bit(&d.isRep[st]) == 0 {
			// Simple match.
			d.rep[3], d.rep[2], d.rep[1] = d.rep[2], d.rep[1], d.rep[0]
			length = rc.length(&d.lenDec, posState)
			if st < 7 {
				d.state = 7
			} else {
				d.state = 10
			}
			d.rep[0] = d.distance(length)
			if d.rep[0] == 0xFFFFFFFF {
				return errors.New("LZMA end marker inside an LZMA2 chunk")
			}
		} else {
			if rc.bit(&d.isRepG0[st]) == 0 {
				if rc.bit(&d.isRep0Long[st<<lzmaPosBitsMax+posState]) == 0 {
					// Short rep: one byte at distance rep0.
					if uint64(d.rep[0]) >= d.total {
						return errors.New("LZMA match distance beyond the data")
					}
					if st < 7 {
						d.state = 9
					} else {
						d.state = 11
					}
					d.putByte(d.dict[d.back(int(d.rep[0])+1)])
					continue
				}
			} else {
				var dist uint32
				if rc.bit(&d.isRepG1[st]) == 0 {
					dist = d.rep[1]
				} else {
					if rc.bit(&d.isRepG2[st]) == 0 {
						dist = d.rep[2]
					} else {
						dist = d.rep[3]
						d.rep[3] = d.rep[2]
					}
					d.rep[2] = d.rep[1]
				}
				d.rep[1] = d.rep[0]
				d.rep[0] = dist
			}
			length = rc.length(&d.repLenDec, posState)
			if st < 7 {
				d.state = 8
			} else {
				d.state = 11
			}
		}
		dist := uint64(d.rep[0]) + 1
		if dist > d.total || dist > dictLen {
			return errors.New("LZMA match distance beyond the data")
		}
		l := uint64(length) + lzmaMatchMinLen
		if l > end-d.total {
			return errors.New("LZMA match runs past the chunk's declared size")
		}
		d.copyMatch(int(dist), int(l))
	}
	return nil
}

// back returns the dictionary index dist bytes behind the write position.
func (d *lzma2Decoder) back(dist int) int {
	i := d.pos - dist
	if i < 0 {
		i += len(d.dict)
	}
	return i
}

// copyMatch appends n bytes copied from dist bytes back (dist may be < n:
// the copy then repeats the last dist bytes).
func (d *lzma2Decoder) copyMatch(dist, n int) {
	for n > 0 {
		src := d.back(dist)
		// Largest run that wraps neither the source nor the destination and
		// does not read bytes written by this same step.
		k := min(n, len(d.dict)-d.pos, len(d.dict)-src)
		if src < d.pos {
			k = min(k, d.pos-src)
		}
		copy(d.dict[d.pos:d.pos+k], d.dict[src:src+k])
		d.pos += k
		d.total += uint64(k)
		n -= k
		if d.pos == len(d.dict) {
			d.flush()
		}
	}
}

// distance decodes a match distance (rep0) for a match of the given length
// code.
func (d *lzma2Decoder) distance(length uint32) uint32 {
	rc := &d.rc
	lenState := min(length, lzmaLenToPos-1)
	slot := rc.tree(d.posSlot[lenState][:], 6)
	if slot < 4 {
		return slot
	}
	nd := slot>>1 - 1
	dist := (2 | slot&1) << nd
	if slot < lzmaEndPosModel {
		return dist + rc.reverseTree(d.posSpecial[:], int(dist)-int(slot)-1, nd)
	}
	dist += rc.direct(nd-lzmaAlignBits) << lzmaAlignBits
	return dist + rc.reverseTree(d.align[:], 0, lzmaAlignBits)
}
