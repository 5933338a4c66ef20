package djw

import "sync"

// decoder holds the per-call tables (about 45 KB), pooled between calls.
type decoder struct {
	groups [maxGroups]huffDecoder
	cl     huffDecoder // code-length code
	sel    huffDecoder // selector code
	clens  [maxGroups * alphabetSize]uint8
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// Decode decodes one DJW-compressed section (the bytes after the varint
// decoded-size prefix) into exactly decodedSize bytes. The whole input must
// be used: only padding bits of the last byte may remain.
//
// Decode never allocates more than decodedSize bytes plus its fixed tables,
// and rejects a decodedSize larger than 8×len(src) (each symbol costs at
// least one bit) before allocating. Callers should still cap decodedSize.
func Decode(src []byte, decodedSize int) ([]byte, error) {
	if decodedSize <= 0 || decodedSize/8 > len(src) {
		return nil, ErrSize
	}
	out := make([]byte, decodedSize)
	if err := DecodeInto(out, src); err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeInto is Decode into a caller-provided buffer: it decodes exactly
// len(dst) bytes, for callers that reuse buffers across windows. On error
// the contents of dst are unspecified.
func DecodeInto(dst, src []byte) error {
	if len(dst) == 0 || len(dst)/8 > len(src) {
		return ErrSize
	}
	d := decoderPool.Get().(*decoder)
	defer decoderPool.Put(d)
	return d.decode(dst, src)
}

func (d *decoder) decode(out, src []byte) error {
	br := bitReader{src: src}
	br.refill()
	n := len(out)

	groups := int(br.readBits(groupBits)) + 1
	sectorSize := n
	if groups > 1 {
		sectorSize = (int(br.readBits(sectorBits)) + 1) * sectorUnit
	}
	sectors := 1 + (n-1)/sectorSize

	// The code-length code.
	var cl [numCLSymbols]uint8
	ncl := int(br.readBits(clCountBits)) + minCLSymbols
	for i := 0; i < ncl; i++ {
		cl[i] = uint8(br.readBits(clLenBits))
	}
	if br.overrun() {
		return ErrTruncated
	}
	if err := d.cl.build(cl[:]); err != nil {
		return err
	}

	// The symbol code lengths of every table.
	clens := d.clens[:groups*alphabetSize]
	mtf := clenMTFInit
	if err := decodeMTF12(&br, &d.cl, mtf[:], clens, alphabetSize); err != nil {
		return err
	}
	for g := 0; g < groups; g++ {
		if err := d.groups[g].build(clens[g*alphabetSize : (g+1)*alphabetSize]); err != nil {
			return err
		}
	}

	// The table selectors, one per sector. They are decoded into the tail
	// of out: sector c's selector sits at out[n-sectors+c], which no sector
	// before c can overwrite (c*sectorSize <= n-sectors+c).
	if groups > 1 {
		var sl [maxGroups + 1]uint8
		for i := 0; i <= groups; i++ {
			sl[i] = uint8(br.readBits(selLenBits))
		}
		if br.overrun() {
			return ErrTruncated
		}
		if err := d.sel.build(sl[:groups+1]); err != nil {
			return err
		}
		var smtf [maxGroups]uint8
		for i := range smtf {
			smtf[i] = uint8(i)
		}
		if err := decodeMTF12(&br, &d.sel, smtf[:groups], out[n-sectors:], 0); err != nil {
			return err
		}
	}

	// The data.
	pos := 0
	for c := 0; c < sectors; c++ {
		h := &d.groups[0]
		if groups > 1 {
			h = &d.groups[out[n-sectors+c]] // < groups by construction
		}
		end := min(pos+sectorSize, n)
		// Up to two symbols per refill (2×20 bits always fit): the second
		// only when the primary table resolves it.
		for pos < end {
			if br.n < 2*maxCodeLen && !br.refill() {
				return ErrTruncated
			}
			e := h.table[br.acc&tableMask]
			l := uint(e & 0xff)
			sym := e >> 8
			if l == 0 {
				var ok bool
				if sym, l, ok = h.slow(br.acc); !ok {
					return corrupt("undefined Huffman code")
				}
			}
			br.acc >>= l
			br.n -= l
			out[pos] = byte(sym)
			pos++
			if pos == end {
				break
			}
			e = h.table[br.acc&tableMask]
			if l = uint(e & 0xff); l != 0 {
				br.acc >>= l
				br.n -= l
				out[pos] = byte(e >> 8)
				pos++
			}
		}
	}
	if br.overrun() {
		return ErrTruncated
	}
	if br.unusedBytes() != 0 {
		return ErrTrailingData
	}
	return nil
}

// decodeMTF12 fills dst with values coded as move-to-front positions and
// 1-2 run lengths (see the package documentation). With skip > 0, dst[i]
// is implicitly 0 without reading input whenever dst[i-skip] is 0; runs
// continue across such positions.
func decodeMTF12(br *bitReader, h *huffDecoder, mtf []uint8, dst []uint8, skip int) error {
	rep, pending := 0, 0
	shift := uint(0)
	for i := 0; i < len(dst); {
		if skip != 0 && i >= skip && dst[i-skip] == 0 {
			dst[i] = 0
			i++
			continue
		}
		if rep != 0 {
			dst[i] = mtf[0]
			rep--
			i++
			continue
		}
		if pending != 0 {
			v := mtf[pending]
			copy(mtf[1:pending+1], mtf[:pending])
			mtf[0] = v
			dst[i] = v
			pending = 0
			i++
			continue
		}
		sym, err := h.decode(br)
		if err != nil {
			return err
		}
		if sym <= run1 {
			if shift >= 30 || int(sym+1)<<shift > len(dst)-i {
				return corrupt("run longer than the values left")
			}
			rep = int(sym+1) << shift
			shift++
		} else {
			pending = int(sym) - 1
			if pending >= len(mtf) {
				return corrupt("move-to-front position out of range")
			}
			shift = 0
		}
	}
	if rep != 0 {
		return corrupt("run longer than the values left")
	}
	if br.overrun() {
		return ErrTruncated
	}
	return nil
}
