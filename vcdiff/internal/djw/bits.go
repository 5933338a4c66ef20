package djw

import (
	"encoding/binary"
	"math/bits"
)

// bitReader reads the DJW bit stream: bits are taken from each byte starting
// at its least significant bit, so the next bit is always acc&1.
type bitReader struct {
	src  []byte
	pos  int    // next byte of src to load into acc
	acc  uint64 // buffered bits, next bit in bit 0
	n    uint   // number of buffered bits (real and virtual)
	virt uint   // zero bits appended past the end of src, on top of acc
}

// refill tops acc up to at least 56 bits, appending zero bits past the end
// of the input. It reports false once virtual bits have been consumed, that
// is when the stream has been read beyond its end.
func (r *bitReader) refill() bool {
	if r.pos+8 <= len(r.src) {
		// Bits above n already hold the same bytes, so OR-ing them again
		// is harmless.
		r.acc |= binary.LittleEndian.Uint64(r.src[r.pos:]) << r.n
		r.pos += int((63 - r.n) >> 3)
		r.n |= 56
		return true
	}
	for r.n <= 56 {
		if r.pos < len(r.src) {
			r.acc |= uint64(r.src[r.pos]) << r.n
			r.pos++
		} else {
			r.virt += 8
		}
		r.n += 8
	}
	return r.virt <= r.n
}

// overrun reports whether more bits were consumed than the input holds.
func (r *bitReader) overrun() bool { return r.virt > r.n }

// readBits reads an nb-bit field (nb <= 8) stored most significant bit first.
func (r *bitReader) readBits(nb uint) uint32 {
	if r.n < nb {
		r.refill()
	}
	v := uint32(r.acc & (1<<nb - 1))
	r.acc >>= nb
	r.n -= nb
	return bits.Reverse32(v) >> (32 - nb)
}

// unusedBytes returns the number of whole input bytes not touched by the
// bits consumed so far.
func (r *bitReader) unusedBytes() int {
	return (len(r.src) - r.pos) + int((r.n-r.virt)/8)
}

// bitWriter writes the DJW bit stream (least significant bit first).
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

// writeLSB appends the nb (<= 32) low bits of v, bit 0 first.
func (w *bitWriter) writeLSB(v uint32, nb uint) {
	w.acc |= uint64(v) << w.n
	w.n += nb
	if w.n >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// writeBits appends an nb-bit field most significant bit first.
func (w *bitWriter) writeBits(v uint32, nb uint) {
	w.writeLSB(reverse(v, nb), nb)
}

// flush writes the remaining bits, padding the last byte with zeros.
func (w *bitWriter) flush() []byte {
	for w.n > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		if w.n < 8 {
			w.n = 0
		} else {
			w.n -= 8
		}
	}
	return w.out
}

// reverse returns the nb low bits of v in reverse order.
func reverse(v uint32, nb uint) uint32 {
	if nb == 0 {
		return 0
	}
	return bits.Reverse32(v) >> (32 - nb)
}
