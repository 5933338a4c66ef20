package bzip2w

// bitWriter packs bits MSB-first into a byte slice.
type bitWriter struct {
	buf   []byte
	acc   uint64
	nbits uint
}

// writeBits appends the low n bits of v (n <= 32).
func (b *bitWriter) writeBits(v uint64, n uint) {
	b.acc = b.acc<<n | v&(1<<n-1)
	b.nbits += n
	for b.nbits >= 8 {
		b.nbits -= 8
		b.buf = append(b.buf, byte(b.acc>>b.nbits))
	}
}

// align pads with zero bits to a byte boundary.
func (b *bitWriter) align() {
	if b.nbits > 0 {
		b.writeBits(0, 8-b.nbits)
	}
}

// take returns the whole bytes written so far (the partial byte stays
// pending). The slice is reused by later writes: the caller must be done
// with it first, as io.Writer implementations are.
func (b *bitWriter) take() []byte {
	out := b.buf
	b.buf = b.buf[:0]
	return out
}

var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crcUpdate(crc uint32, b byte) uint32 {
	return crc<<8 ^ crcTable[byte(crc>>24)^b]
}
