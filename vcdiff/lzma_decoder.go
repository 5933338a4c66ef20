package vcdiff

import (
	"encoding/binary"
	"errors"
	"fmt"
)

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

// The range decoder's state (range, code, input position) is kept in local
// variables of the decoding loop and passed by value to the helpers below,
// so it stays in registers: through a pointer every bit would be a load and
// a store on the critical path. Reading past the end of a chunk's input
// yields zero bytes but still advances the position, which the caller
// checks.

// rcNormalize refills the range when it drops below 2^24.
func rcNormalize(rng, code uint32, in []byte, ip int) (uint32, uint32, int) {
	if rng < lzmaTopValue {
		var b byte
		if ip < len(in) {
			b = in[ip]
		}
		return rng << 8, code<<8 | uint32(b), ip + 1
	}
	return rng, code, ip
}

// rcZero returns all ones when the next bit is 0 (code < bound), else 0.
func rcZero(code, bound uint32) uint32 {
	return uint32(int64(uint64(code)-uint64(bound)) >> 63)
}

// rcAdapt returns how much a probability v moves down after a bit (z from
// rcZero): -((2048-v)>>5) after a 0, v>>5 after a 1. With an arithmetic
// shift, -floor((2048-v)/32) = floor((v-2048+31)/32).
func rcAdapt(v, z uint32) uint32 {
	return uint32(int32(v-2017&z) >> 5)
}

// rcBit decodes one bit with probability *p; the caller normalizes first.
func rcBit(rng, code uint32, p *uint16) (uint32, uint32, uint32) {
	v := uint32(*p)
	bound := (rng >> 11) * v
	z := rcZero(code, bound)
	*p = uint16(v - rcAdapt(v, z))
	return bound + (rng-bound-bound)&^z, code - bound&^z, z + 1
}

// rcTree decodes an n-bit symbol with a bit tree rooted at probs[1],
// branch-free (tree bits of poorly compressible data are unpredictable).
func rcTree(rng, code uint32, in []byte, ip int, probs []uint16, n uint) (uint32, uint32, int, uint32) {
	m := uint32(1)
	v := uint32(probs[1])
	for range n {
		if rng < lzmaTopValue {
			var b byte
			if ip < len(in) {
				b = in[ip]
			}
			rng, code, ip = rng<<8, code<<8|uint32(b), ip+1
		}
		bound := (rng >> 11) * v
		z := rcZero(code, bound)
		// Load both children early, as in rcLiteral; past the last
		// level the index is clamped (the value is unused).
		k := min(int(m<<1), len(probs)-2)
		c0, c1 := uint32(probs[k]), uint32(probs[k+1])
		probs[m] = uint16(v - rcAdapt(v, z))
		rng = bound + (rng-bound-bound)&^z
		code -= bound &^ z
		m = m<<1 + 1 + z
		v = c1 + (c0-c1)&z
	}
	return rng, code, ip, m - 1<<n
}

// rcReverseTree decodes an n-bit symbol LSB first from probs[m], m >= 1.
func rcReverseTree(rng, code uint32, in []byte, ip int, probs []uint16, n uint32) (uint32, uint32, int, uint32) {
	m := uint32(1)
	var sym uint32
	for i := range n {
		if rng < lzmaTopValue {
			var b byte
			if ip < len(in) {
				b = in[ip]
			}
			rng, code, ip = rng<<8, code<<8|uint32(b), ip+1
		}
		p := &probs[m]
		v := uint32(*p)
		bound := (rng >> 11) * v
		z := rcZero(code, bound)
		rng = bound + (rng-bound-bound)&^z
		code -= bound &^ z
		*p = uint16(v - rcAdapt(v, z))
		bit := z + 1
		m = m<<1 | bit
		sym |= bit << i
	}
	return rng, code, ip, sym
}

// rcDirect decodes n bits with fixed probability 1/2.
func rcDirect(rng, code uint32, in []byte, ip int, n uint32) (uint32, uint32, int, uint32) {
	var res uint32
	for ; n > 0; n-- {
		if rng < lzmaTopValue {
			var b byte
			if ip < len(in) {
				b = in[ip]
			}
			rng, code, ip = rng<<8, code<<8|uint32(b), ip+1
		}
		rng >>= 1
		code -= rng
		t := -(code >> 31) // all ones when code was < rng
		code += rng & t
		res = res<<1 + t + 1
	}
	return rng, code, ip, res
}

// rcLiteral decodes a plain literal (8 bits through a 256-leaf tree).
func rcLiteral(rng, code uint32, in []byte, ip int, probs *[0x400]uint16) (uint32, uint32, int, byte) {
	sym := uint32(1)
	v := uint32(probs[1])
	for sym < 0x100 {
		if rng < lzmaTopValue {
			var b byte
			if ip < len(in) {
				b = in[ip]
			}
			rng, code, ip = rng<<8, code<<8|uint32(b), ip+1
		}
		// Branchless: literal bits of poorly compressible data are
		// unpredictable, so a branch would mispredict half the time. Both
		// children's probabilities are loaded before the bit is known,
		// taking the load off the bit-to-bit dependency chain.
		bound := (rng >> 11) * v
		z := rcZero(code, bound)
		c0 := uint32(probs[(sym<<1)&0x3ff])
		c1 := uint32(probs[(sym<<1+1)&0x3ff])
		probs[sym&0x3ff] = uint16(v - rcAdapt(v, z))
		rng = bound + (rng-bound-bound)&^z
		code -= bound &^ z
		sym = sym<<1 + 1 + z
		v = c1 + (c0-c1)&z
	}
	return rng, code, ip, byte(sym)
}

// rcMatchedLiteral decodes a literal after a match: while its bits agree
// with the byte at distance rep0 (mb) the "matched" probabilities are used.
func rcMatchedLiteral(rng, code uint32, in []byte, ip int, probs *[0x400]uint16, mb uint32) (uint32, uint32, int, byte) {
	sym := uint32(1)
	offs := uint32(0x100)
	mb <<= 1
	matchBit := mb & offs
	v := uint32(probs[(offs+matchBit+sym)&0x3ff])
	for sym < 0x100 {
		if rng < lzmaTopValue {
			var b byte
			if ip < len(in) {
				b = in[ip]
			}
			rng, code, ip = rng<<8, code<<8|uint32(b), ip+1
		}
		bound := (rng >> 11) * v
		z := rcZero(code, bound)
		// The next probability for either outcome, as in rcLiteral.
		nmb := mb << 1
		offs0 := offs &^ matchBit
		offs1 := offs & matchBit
		mb0, mb1 := nmb&offs0, nmb&offs1
		c0 := uint32(probs[(offs0+mb0+sym<<1)&0x3ff])
		c1 := uint32(probs[(offs1+mb1+sym<<1+1)&0x3ff])
		probs[(offs+matchBit+sym)&0x3ff] = uint16(v - rcAdapt(v, z))
		rng = bound + (rng-bound-bound)&^z
		code -= bound &^ z
		sym = sym<<1 + 1 + z
		offs = offs1 + (offs0-offs1)&z
		matchBit = mb1 + (mb0-mb1)&z
		mb = nmb
		v = c1 + (c0-c1)&z
	}
	return rng, code, ip, byte(sym)
}

// rcLength decodes a match length code (0..271).
func rcLength(rng, code uint32, in []byte, ip int, l *lzmaLenDecoder, posState uint32) (uint32, uint32, int, uint32) {
	var b, n uint32
	rng, code, ip = rcNormalize(rng, code, in, ip)
	rng, code, b = rcBit(rng, code, &l.choice)
	if b == 0 {
		return rcTree(rng, code, in, ip, l.low[posState&(1<<lzmaPosBitsMax-1)][:], 3)
	}
	rng, code, ip = rcNormalize(rng, code, in, ip)
	rng, code, b = rcBit(rng, code, &l.choice2)
	if b == 0 {
		rng, code, ip, n = rcTree(rng, code, in, ip, l.mid[posState&(1<<lzmaPosBitsMax-1)][:], 3)
		return rng, code, ip, 8 + n
	}
	rng, code, ip, n = rcTree(rng, code, in, ip, l.high[:], 8)
	return rng, code, ip, 16 + n
}

// lzma2Decoder decodes the LZMA2 chunks of xdelta3's secondary sections:
// the caller hands it one section's chunks at a time (already framed by
// walkLZMA2Chunks) and the dictionary, probabilities and match state carry
// over to the next section. Output goes straight into buf, a flat buffer
// holding the last dictionary's worth of earlier sections followed by the
// current section, so matches need no wrap-around and the decoded section is
// returned without another copy. Nothing is allocated once buf has grown to
// the largest section. Written from the LZMA format description (range
// coder, literal/match/rep model).
type lzma2Decoder struct {
	dictSize int
	buf      []byte // bufs[cur]
	bufs     [2][]byte
	cur      int
	pos      int // write position in buf
	base     int // buf index of the last dictionary reset (negative once slid out)

	haveProps  bool
	lc, lp, pb uint32
	state      uint32
	rep        [4]uint32

	lzmaModel
}

// lzmaModel holds LZMA's adaptive probabilities, as the decoder and the
// encoder (lzmaEncoder) both keep them.
type lzmaModel struct {
	// The per-state tables have 16 rows, not 12, so that indexing with
	// state&15 needs no bounds check (state is always < 12).
	isMatch    [16 << lzmaPosBitsMax]uint16
	isRep      [16]uint16
	isRepG0    [16]uint16
	isRepG1    [16]uint16
	isRepG2    [16]uint16
	isRep0Long [16 << lzmaPosBitsMax]uint16
	posSlot    [lzmaLenToPos][64]uint16
	posSpecial [1 + lzmaFullDist - lzmaEndPosModel]uint16 // shifted by one: see decodeChunk
	align      [1 << lzmaAlignBits]uint16
	lenDec     lzmaLenDecoder
	repLenDec  lzmaLenDecoder
	literal    []uint16 // 0x300 << (lc+lp), at most 0x300 << 4, and 0x100 of slack
}

// reset sets every probability to its initial value, with lc+lp literal
// context bits.
func (m *lzmaModel) reset(lclp uint32) {
	fill16(m.isMatch[:])
	fill16(m.isRep[:])
	fill16(m.isRepG0[:])
	fill16(m.isRepG1[:])
	fill16(m.isRepG2[:])
	fill16(m.isRep0Long[:])
	for i := range m.posSlot {
		fill16(m.posSlot[i][:])
	}
	fill16(m.posSpecial[:])
	fill16(m.align[:])
	fill16(m.literal[:0x300<<lclp])
	m.lenDec.reset()
	m.repLenDec.reset()
}

func newLZMA2Decoder(dictSize int) *lzma2Decoder {
	return &lzma2Decoder{dictSize: dictSize, lzmaModel: lzmaModel{literal: make([]uint16, 0x300<<4+0x100)}}
}

// resetDict forgets all history (a new stream).
func (d *lzma2Decoder) resetDict() {
	d.pos, d.base = 0, 0
}

// fill16 sets every probability of p to its initial value.
func fill16(p []uint16) {
	for i := range p {
		p[i] = lzmaProbInit
	}
}

func (d *lzma2Decoder) resetState() {
	d.state = 0
	d.rep = [4]uint32{}
	d.lzmaModel.reset(d.lc + d.lp)
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

// reserve makes room for n more bytes at d.pos. limit is where the current
// section ends if its chunks hold what they declare: growth is geometric
// but never past it, and it follows the chunks actually decoded, so a
// hostile size declaration costs at most one chunk (2 MiB) ahead of real
// output.
func (d *lzma2Decoder) reserve(n, limit int) {
	need := d.pos + n
	if need <= len(d.buf) {
		return
	}
	c := max(need, min(2*len(d.buf), limit))
	nb := make([]byte, c)
	copy(nb, d.buf[:d.pos])
	d.buf = nb
	d.bufs[d.cur] = nb
}

// decodeSection decodes the chunks of one section (validated by
// walkLZMA2Chunks to hold n bytes) and returns them. The slice stays valid
// until the call after next.
func (d *lzma2Decoder) decodeSection(b []byte, n int) ([]byte, error) {
	// Sections are decoded alternately into two buffers, so the previous
	// section stays valid while this one is decoded (the decoder pipelines
	// windows). The last dictionary's worth of history moves to the front
	// of the other buffer.
	keep := min(d.dictSize, d.pos-d.base, d.pos)
	shift := d.pos - keep
	old := d.buf[shift:d.pos]
	d.bufs[d.cur] = d.buf
	d.cur ^= 1
	d.buf = d.bufs[d.cur]
	if len(d.buf) < keep {
		d.buf = make([]byte, keep)
		d.bufs[d.cur] = d.buf
	}
	copy(d.buf, old)
	d.pos = keep
	d.base -= shift
	start := d.pos
	limit := start + n
	for i := 0; i < len(b); {
		c := b[i]
		if c == 1 || c == 2 {
			k := int(binary.BigEndian.Uint16(b[i+1:])) + 1
			if c == 1 {
				d.base = d.pos
			}
			d.reserve(k, limit)
			d.pos += copy(d.buf[d.pos:], b[i+3:i+3+k])
			i += 3 + k
			continue
		}
		usize := (int(c&0x1F)<<16 | int(binary.BigEndian.Uint16(b[i+1:]))) + 1
		csize := int(binary.BigEndian.Uint16(b[i+3:])) + 1
		h := 5
		reset := (c >> 5) & 3
		if reset == 3 {
			d.base = d.pos
		}
		if reset >= 2 {
			h = 6
			if err := d.setProps(b[i+5]); err != nil {
				return nil, err
			}
		} else if !d.haveProps {
			return nil, errors.New("LZMA chunk before any properties")
		}
		if reset >= 1 {
			d.resetState()
		}
		d.reserve(usize, limit)
		if err := d.decodeChunk(b[i+h:i+h+csize], usize); err != nil {
			return nil, err
		}
		i += h + csize
	}
	return d.buf[start:d.pos], nil
}

var (
	errLZMATruncated = errors.New("LZMA chunk is truncated")
	errLZMADistance  = errors.New("LZMA match distance beyond the data")
	errLZMAHeader    = errors.New("LZMA chunk has a bad range coder header")
)

// lzmaLitState is the state after a literal, indexed by the state before.
var lzmaLitState = [16]uint32{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5}

// decodeChunk decodes one LZMA chunk: exactly n bytes from the range coder
// over in, which it must consume exactly. buf has room for n bytes at pos.
func (d *lzma2Decoder) decodeChunk(in []byte, n int) error {
	if len(in) < 5 || in[0] != 0 {
		return errLZMAHeader
	}
	rng := uint32(0xFFFFFFFF)
	code := binary.BigEndian.Uint32(in[1:5])
	if code == rng {
		return errLZMAHeader
	}
	ip := 5
	pos, base := d.pos, d.base
	buf := d.buf[:pos+n]
	dictSize := d.dictSize
	state := d.state
	rep0, rep1, rep2, rep3 := d.rep[0], d.rep[1], d.rep[2], d.rep[3]
	pbMask := uint32(1)<<d.pb - 1
	lpMask := uint32(1)<<d.lp - 1
	lc := d.lc
	literal := d.literal
	var err error
	for pos < len(buf) {
		if ip > len(in) {
			err = errLZMATruncated
			break
		}
		posState := uint32(pos-base) & pbMask
		var bit uint32
		rng, code, ip = rcNormalize(rng, code, in, ip)
		rng, code, bit = rcBit(rng, code, &d.isMatch[(state<<lzmaPosBitsMax+posState)&0xff])
		if bit == 0 {
			var prev uint32
			if pos > base {
				prev = uint32(buf[pos-1])
			}
			ls := (uint32(pos-base)&lpMask)<<lc + prev>>(8-lc)
			probs := (*[0x400]uint16)(literal[0x300*ls:])
			var c byte
			if state < 7 {
				rng, code, ip, c = rcLiteral(rng, code, in, ip, probs)
			} else {
				dist := int(rep0) + 1
				if dist > pos-base {
					err = errLZMADistance
					break
				}
				rng, code, ip, c = rcMatchedLiteral(rng, code, in, ip, probs, uint32(buf[pos-dist]))
			}
			buf[pos] = c
			pos++
			state = lzmaLitState[state&15]
			continue
		}
		st := state & 15
		var length uint32
		rng, code, ip = rcNormalize(rng, code, in, ip)
		rng, code, bit = rcBit(rng, code, &d.isRep[st])
		if bit == 0 {
			// Simple match.
			rep3, rep2, rep1 = rep2, rep1, rep0
			rng, code, ip, length = rcLength(rng, code, in, ip, &d.lenDec, posState)
			if st < 7 {
				state = 7
			} else {
				state = 10
			}
			var slot uint32
			rng, code, ip, slot = rcTree(rng, code, in, ip, d.posSlot[min(length, lzmaLenToPos-1)][:], 6)
			if slot < 4 {
				rep0 = slot
			} else {
				nd := slot>>1 - 1
				dist := (2 | slot&1) << nd
				var x uint32
				if slot < lzmaEndPosModel {
					// The format's tree for this slot starts at
					// posSpecial[dist-slot-1] and uses indices from 1;
					// posSpecial is shifted by one to keep that >= 0.
					rng, code, ip, x = rcReverseTree(rng, code, in, ip, d.posSpecial[dist-slot:], nd)
					dist += x
				} else {
					rng, code, ip, x = rcDirect(rng, code, in, ip, nd-lzmaAlignBits)
					dist += x << lzmaAlignBits
					rng, code, ip, x = rcReverseTree(rng, code, in, ip, d.align[:], lzmaAlignBits)
					dist += x
				}
				rep0 = dist
				if rep0 == 0xFFFFFFFF {
					err = errors.New("LZMA end marker inside an LZMA2 chunk")
					break
				}
			}
		} else {
			rng, code, ip = rcNormalize(rng, code, in, ip)
			rng, code, bit = rcBit(rng, code, &d.isRepG0[st])
			if bit == 0 {
				rng, code, ip = rcNormalize(rng, code, in, ip)
				rng, code, bit = rcBit(rng, code, &d.isRep0Long[(st<<lzmaPosBitsMax+posState)&0xff])
				if bit == 0 {
					// Short rep: one byte at distance rep0.
					dist := int(rep0) + 1
					if dist > pos-base || dist > dictSize {
						err = errLZMADistance
						break
					}
					if st < 7 {
						state = 9
					} else {
						state = 11
					}
					buf[pos] = buf[pos-dist]
					pos++
					continue
				}
			} else {
				var dist uint32
				rng, code, ip = rcNormalize(rng, code, in, ip)
				rng, code, bit = rcBit(rng, code, &d.isRepG1[st])
				if bit == 0 {
					dist = rep1
				} else {
					rng, code, ip = rcNormalize(rng, code, in, ip)
					rng, code, bit = rcBit(rng, code, &d.isRepG2[st])
					if bit == 0 {
						dist = rep2
					} else {
						dist = rep3
						rep3 = rep2
					}
					rep2 = rep1
				}
				rep1 = rep0
				rep0 = dist
			}
			rng, code, ip, length = rcLength(rng, code, in, ip, &d.repLenDec, posState)
			if st < 7 {
				state = 8
			} else {
				state = 11
			}
		}
		dist := uint64(rep0) + 1
		if dist > uint64(pos-base) || dist > uint64(dictSize) {
			err = errLZMADistance
			break
		}
		l := int(length) + lzmaMatchMinLen
		if l > len(buf)-pos {
			err = errors.New("LZMA match runs past the chunk's declared size")
			break
		}
		src := pos - int(dist)
		if int(dist) >= l {
			copy(buf[pos:pos+l], buf[src:src+l])
		} else {
			// Overlapping: the match repeats the last dist bytes.
			dst := buf[pos : pos+l]
			from := buf[src : src+l]
			for k := range dst {
				dst[k] = from[k]
			}
		}
		pos += l
	}
	d.pos, d.state = pos, state
	d.rep = [4]uint32{rep0, rep1, rep2, rep3}
	if err != nil {
		return err
	}
	_, _, ip = rcNormalize(rng, code, in, ip)
	if ip != len(in) {
		return fmt.Errorf("LZMA chunk used %d of its %d bytes", ip, len(in))
	}
	return nil
}
