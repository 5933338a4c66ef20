package vcdiff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// xdelta3's LZMA secondary compression (ID 2) keeps ONE xz stream per
// section type (data, instructions, addresses) running across all windows:
// the first compressed section of a type starts with an xz stream header and
// block header, every section ends on an LZMA2 chunk boundary (a sync
// flush), and the stream never ends. See ../shared/docs/lzma-sections.md.
//
// lzmaStream is the decoder state of one such stream: the xz headers are
// checked on its first compressed section, every section's chunk framing is
// walked (so a wrong declared size is caught in its own window instead of
// desynchronising the next one), and the chunks are decoded by a persistent
// lzma2Decoder whose dictionary and model carry over between windows.

// maxLZMADict caps the dictionary size an xz block header may ask for; the
// dictionary is allocated up front. xdelta3 3.0.11 always writes 256 KiB.
const maxLZMADict = 64 << 20

// minLZMADict is the smallest dictionary allocated (as liblzma does).
const minLZMADict = 4096

var xzStreamMagic = [6]byte{0xFD, '7', 'z', 'X', 'Z', 0x00}

type lzmaStream struct {
	dec     *lzma2Decoder
	started bool // the xz stream and block headers have been consumed
}

// reset prepares for a new patch, keeping the decoder's buffers.
func (s *lzmaStream) reset() {
	s.started = false
}

// decode decodes one section payload (after its varint size prefix), n
// bytes, and returns them in a buffer the stream owns, valid until the
// decode after next. out is unused (kept for callers that pass a buffer).
func (s *lzmaStream) decode(payload []byte, n int, out []byte) ([]byte, error) {
	first := !s.started
	if first {
		dictCap, hlen, err := parseXZHeaders(payload)
		if err != nil {
			return out, err
		}
		payload = payload[hlen:]
		if s.dec == nil || s.dec.dictSize != dictCap {
			s.dec = newLZMA2Decoder(dictCap)
		}
		s.dec.resetDict()
		s.dec.haveProps = false
		s.started = true
	}
	if err := walkLZMA2Chunks(payload, n, first); err != nil {
		return out, err
	}
	out, err := s.dec.decodeSection(payload, n)
	if err != nil {
		return out, fmt.Errorf("LZMA2 stream: %v", err)
	}
	if len(out) != n {
		return out, fmt.Errorf("LZMA2 section decoded to %d bytes, declared %d", len(out), n)
	}
	return out, nil
}

// parseXZHeaders checks the xz stream header and the LZMA2 block header at
// the start of the first compressed section of a stream. It returns the
// clamped dictionary size and the length of both headers.
func parseXZHeaders(b []byte) (dictCap, n int, err error) {
	if len(b) < 12 {
		return 0, 0, errors.New("LZMA section too short for an xz stream header")
	}
	if [6]byte(b[:6]) != xzStreamMagic {
		return 0, 0, errors.New("LZMA section does not start with an xz stream header")
	}
	if crc32.ChecksumIEEE(b[6:8]) != binary.LittleEndian.Uint32(b[8:12]) {
		return 0, 0, errors.New("xz stream header CRC mismatch")
	}
	if b[6] != 0 || b[7]&0xF0 != 0 {
		return 0, 0, fmt.Errorf("xz stream flags %02x %02x are invalid", b[6], b[7])
	}
	b = b[12:]
	if len(b) < 1 || b[0] == 0 {
		return 0, 0, errors.New("LZMA section has no xz block header")
	}
	hlen := (int(b[0]) + 1) * 4
	if len(b) < hlen {
		return 0, 0, errors.New("xz block header is truncated")
	}
	h := b[:hlen]
	if crc32.ChecksumIEEE(h[:hlen-4]) != binary.LittleEndian.Uint32(h[hlen-4:]) {
		return 0, 0, errors.New("xz block header CRC mismatch")
	}
	flags := h[1]
	if flags&0x03 != 0 || flags&0x3C != 0 {
		return 0, 0, fmt.Errorf("xz block flags 0x%02x: want exactly one filter", flags)
	}
	i := 2
	body := h[:hlen-4]
	xzInt := func() (uint64, bool) {
		var v uint64
		for k := 0; k < 9 && i < len(body); k++ {
			c := body[i]
			i++
			v |= uint64(c&0x7F) << (7 * k)
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	for _, bit := range []byte{0x40, 0x80} { // compressed, uncompressed size
		if flags&bit != 0 {
			if _, ok := xzInt(); !ok {
				return 0, 0, errors.New("xz block header size field is malformed")
			}
		}
	}
	id, ok1 := xzInt()
	plen, ok2 := xzInt()
	if !ok1 || !ok2 || id != 0x21 || plen != 1 || i >= len(body) {
		return 0, 0, errors.New("xz block filter is not LZMA2 with one property byte")
	}
	code := body[i]
	i++
	for ; i < len(body); i++ {
		if body[i] != 0 {
			return 0, 0, errors.New("xz block header padding is not zero")
		}
	}
	if code > 40 {
		return 0, 0, fmt.Errorf("LZMA2 dictionary code %d is invalid", code)
	}
	size := uint64(0xFFFFFFFF)
	if code < 40 {
		size = uint64(2|code&1) << (code/2 + 11)
	}
	if size > maxLZMADict {
		return 0, 0, fmt.Errorf("%w: LZMA2 dictionary of %d bytes (max %d)", ErrLimit, size, maxLZMADict)
	}
	return max(int(size), minLZMADict), 12 + hlen, nil
}

// walkLZMA2Chunks checks that b is a whole number of LZMA2 chunks (no end
// marker) whose uncompressed sizes add up to n. first requires the first
// chunk to reset the dictionary.
func walkLZMA2Chunks(b []byte, n int, first bool) error {
	total := 0
	for i := 0; i < len(b); {
		c := b[i]
		var hlen, csize, usize int
		switch {
		case c == 0:
			return errors.New("LZMA2 end-of-stream marker inside a section")
		case c == 1 || c == 2:
			hlen = 3
			if i+hlen > len(b) {
				return errors.New("LZMA2 chunk header is truncated")
			}
			usize = int(binary.BigEndian.Uint16(b[i+1:])) + 1
			csize = usize
		case c >= 0x80:
			hlen = 5
			if c >= 0xC0 {
				hlen = 6
			}
			if i+hlen > len(b) {
				return errors.New("LZMA2 chunk header is truncated")
			}
			usize = (int(c&0x1F)<<16 | int(binary.BigEndian.Uint16(b[i+1:]))) + 1
			csize = int(binary.BigEndian.Uint16(b[i+3:])) + 1
		default:
			return fmt.Errorf("LZMA2 chunk control byte 0x%02x is invalid", c)
		}
		if first && i == 0 && c != 1 && c < 0xE0 {
			return errors.New("first LZMA2 chunk does not reset the dictionary")
		}
		i += hlen + csize
		if i > len(b) {
			return errors.New("LZMA2 chunk runs past the end of its section")
		}
		total += usize
		if total > n {
			return fmt.Errorf("LZMA2 chunks hold more than the declared %d bytes", n)
		}
	}
	if total != n {
		return fmt.Errorf("LZMA2 chunks hold %d bytes, the section declares %d", total, n)
	}
	return nil
}

// grow returns b resized to n, reusing its capacity when possible.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n)
}
