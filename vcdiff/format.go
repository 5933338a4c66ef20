package vcdiff

import (
	"io"
	"math/bits"
)

// Wire-format constants of RFC 3284 and the xdelta3 extensions
// (see ../shared/docs/xdelta3-format.md §1).
const (
	magic0 = 0xD6
	magic1 = 0xC3
	magic2 = 0xC4

	versionRFC  = 0x00 // RFC 3284 / xdelta3
	versionSDCH = 'S'  // open-vcdiff's extended format (interleaved, varint checksum)

	// Header indicator bits.
	hdrSecondary = 0x01 // VCD_DECOMPRESS / VCD_SECONDARY: one compressor ID byte follows
	hdrCodeTable = 0x02 // VCD_CODETABLE: custom code table follows (unsupported)
	hdrAppHeader = 0x04 // xdelta3 extension: varint length + application header

	// Window indicator bits.
	winSource = 0x01 // VCD_SOURCE: segment is taken from the source file
	winTarget = 0x02 // VCD_TARGET: segment is taken from earlier target (unsupported by xdelta3)
	winAdler  = 0x04 // xdelta3 extension: Adler-32 of the window's target bytes

	// Delta indicator bits: which sections are secondary-compressed.
	deltaData = 0x01
	deltaInst = 0x02
	deltaAddr = 0x04

	// Secondary compressor IDs as xdelta3 writes them.
	SecondaryNone = 0
	SecondaryDJW  = 1
	SecondaryLZMA = 2
	SecondaryFGK  = 16

	// MaxWindowSize is the largest target window stock xdelta3 3.0.x decodes
	// (XD3_HARDMAXWINSIZE). The encoder never writes larger windows.
	MaxWindowSize = 1 << 24
	// DefaultWindowSize is the encoder's default target window.
	DefaultWindowSize = 1 << 23
)

// Instruction types of the code table (RFC 3284 §5.4).
const (
	instNoop = 0
	instAdd  = 1
	instRun  = 2
	instCopy = 3
)

// Address-cache geometry of the default code table: four NEAR slots and
// three SAME blocks of 256, giving address modes 0 (SELF), 1 (HERE),
// 2..5 (NEAR) and 6..8 (SAME).
const (
	nearSize    = 4
	sameSize    = 3
	sameEntries = sameSize * 256
	modeSelf    = 0
	modeHere    = 1
	modeNear0   = 2
	modeSame0   = modeNear0 + nearSize
	numModes    = modeSame0 + sameSize
)

// codeEntry is one half-instruction pair of the code table. size 0 means the
// size follows as a varint in the instruction section.
type codeEntry struct {
	typ1, size1, mode1 uint8
	typ2, size2, mode2 uint8
}

// defaultCodeTable is the RFC 3284 default code table, built once.
var defaultCodeTable = buildDefaultCodeTable()

func buildDefaultCodeTable() (t [256]codeEntry) {
	i := 0
	t[i] = codeEntry{typ1: instRun} // 0: RUN, explicit size
	i++
	t[i] = codeEntry{typ1: instAdd} // 1: ADD, explicit size
	i++
	for s := 1; s <= 17; s++ { // 2..18: ADD 1..17
		t[i] = codeEntry{typ1: instAdd, size1: uint8(s)}
		i++
	}
	for m := 0; m < numModes; m++ { // 19..162: COPY explicit and 4..18, per mode
		t[i] = codeEntry{typ1: instCopy, mode1: uint8(m)}
		i++
		for s := 4; s <= 18; s++ {
			t[i] = codeEntry{typ1: instCopy, size1: uint8(s), mode1: uint8(m)}
			i++
		}
	}
	for m := 0; m < 6; m++ { // 163..234: ADD 1..4 + COPY 4..6, modes 0..5
		for a := 1; a <= 4; a++ {
			for c := 4; c <= 6; c++ {
				t[i] = codeEntry{instAdd, uint8(a), 0, instCopy, uint8(c), uint8(m)}
				i++
			}
		}
	}
	for m := 6; m < numModes; m++ { // 235..246: ADD 1..4 + COPY 4, modes 6..8
		for a := 1; a <= 4; a++ {
			t[i] = codeEntry{instAdd, uint8(a), 0, instCopy, 4, uint8(m)}
			i++
		}
	}
	for m := 0; m < numModes; m++ { // 247..255: COPY 4 (mode m) + ADD 1
		t[i] = codeEntry{instCopy, 4, uint8(m), instAdd, 1, 0}
		i++
	}
	if i != 256 {
		panic("vcdiff: default code table has wrong size")
	}
	return t
}

// Opcode arithmetic for the default table, used by the encoder.

// opAdd returns the single opcode for ADD of size s, or 1 (explicit size).
func opAdd(s uint64) (op byte, explicit bool) {
	if s >= 1 && s <= 17 {
		return byte(1 + s), false
	}
	return 1, true
}

// opCopy returns the single opcode for COPY of size s in mode m.
func opCopy(s uint64, m int) (op byte, explicit bool) {
	if s >= 4 && s <= 18 {
		return byte(19 + 16*m + int(s) - 3), false
	}
	return byte(19 + 16*m), true
}

// opAddCopy returns the double opcode for ADD a then COPY c in mode m, if
// the default table has one.
func opAddCopy(a, c uint64, m int) (byte, bool) {
	if a < 1 || a > 4 {
		return 0, false
	}
	if m < 6 {
		if c >= 4 && c <= 6 {
			return byte(163 + 12*m + 3*int(a-1) + int(c-4)), true
		}
		return 0, false
	}
	if c == 4 {
		return byte(235 + 4*(m-6) + int(a-1)), true
	}
	return 0, false
}

// opCopyAdd returns the double opcode for COPY c (mode m) then ADD a.
func opCopyAdd(c uint64, m int, a uint64) (byte, bool) {
	if c == 4 && a == 1 {
		return byte(247 + m), true
	}
	return 0, false
}

// addrCache is the NEAR/SAME address cache of RFC 3284 §5.3. It is reset at
// the start of every window and updated after every COPY (including
// zero-size copies and the second half of double opcodes).
type addrCache struct {
	near     [nearSize]uint64
	nextSlot int
	same     [sameEntries]uint64
}

func (c *addrCache) reset() {
	*c = addrCache{}
}

func (c *addrCache) update(addr uint64) {
	c.near[c.nextSlot] = addr
	c.nextSlot = (c.nextSlot + 1) % nearSize
	c.same[addr%sameEntries] = addr
}

// maxVarintLen is the longest varint that can hold a uint64.
const maxVarintLen = 10

// appendVarint appends v as a minimal big-endian base-128 integer.
func appendVarint(dst []byte, v uint64) []byte {
	var buf [maxVarintLen]byte
	i := len(buf) - 1
	buf[i] = byte(v & 0x7f)
	for v >>= 7; v != 0; v >>= 7 {
		i--
		buf[i] = byte(v&0x7f) | 0x80
	}
	return append(dst, buf[i:]...)
}

// varintLen is the length of the minimal encoding of v.
func varintLen(v uint64) int {
	// 7 bits per byte, at least one byte; without a loop, as the matcher
	// calls this for every candidate address.
	return (bits.Len64(v|1) + 6) / 7
}

// parseVarint decodes a varint at the start of b. It returns the value, the
// number of bytes consumed, and io.ErrUnexpectedEOF if b ends inside the
// integer or errVarintOverflow if the value does not fit 64 bits.
func parseVarint(b []byte) (v uint64, n int, err error) {
	for n < len(b) {
		c := b[n]
		n++
		if v > (1<<64-1)>>7 {
			return 0, n, errVarintOverflow
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return v, n, nil
		}
	}
	return 0, n, io.ErrUnexpectedEOF
}
