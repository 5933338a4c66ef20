package vcdiff

import (
	"encoding/binary"
	"hash/crc32"
	"math"

	"github.com/deltaglider-go/deltaglider/vcdiff/internal/djw"
	"github.com/ulikunitz/xz/lzma"
)

// Secondary compression on encode, in the framing stock xdelta3 3.0.11
// decodes (../shared/docs/xdelta3-format.md §1.3, lzma-sections.md):
// a compressed section is varint(decoded size) followed by the
// compressor's bytes, and the window's section length is the stored length.

// minSecondarySection is the smallest section worth trying to compress:
// below it the varint prefix and the compressor's framing (an LZMA2 chunk
// header plus the range coder's flush, or DJW's code tables) cannot win.
// xdelta3 uses 10.
const minSecondarySection = 16

// djwMinSavings is xdelta3's rule for DJW (SECONDARY_MIN_SAVINGS): keep the
// compressed form only if it saves more than 2 bytes.
const djwMinSavings = 2

// sectionEncoder compresses the sections of one type (data, instructions
// or addresses) of successive windows.
type sectionEncoder interface {
	// encode appends the stored form of raw (varint size + compressed
	// bytes) to dst and reports true, or leaves dst unchanged and reports
	// false when raw should be stored as is.
	encode(dst, raw []byte) ([]byte, bool)
}

// djwSectionEncoder is DJW (ID 1): every section is coded on its own.
type djwSectionEncoder struct {
	level   int
	scratch []byte
}

func (e *djwSectionEncoder) encode(dst, raw []byte) ([]byte, bool) {
	if len(raw) < minSecondarySection {
		return dst, false
	}
	e.scratch = djw.Encode(e.scratch[:0], raw, e.level)
	if varintLen(uint64(len(raw)))+len(e.scratch)+djwMinSavings >= len(raw) {
		return dst, false
	}
	dst = appendVarint(dst, uint64(len(raw)))
	return append(dst, e.scratch...), true
}

// lzmaSectionEncoder is LZMA (ID 2): one LZMA2 stream per section type
// that runs across all windows. Each kept section is the output of a sync
// flush (all input in whole chunks, no end marker), so it ends on a chunk
// boundary and the dictionary and model carry over to the next one; the
// first section also carries the xz stream header and block header.
//
// Whether to keep a section is decided after compressing it: if the stored
// form would not be smaller than raw, its bytes are dropped, and since the
// writer's state now includes data the decoder never sees, the writer is
// replaced by a fresh one. A fresh writer starts with an LZMA2 chunk that
// resets the dictionary and state, which LZMA2 allows at any chunk
// boundary, so the decoder (xdelta3's liblzma, or ours) stays in step. The
// cost of a dropped section is its compression time and, for the next
// sections, the lost history.
type lzmaSectionEncoder struct {
	dictCap int  // dictionary size
	skipHot bool // store high-entropy sections without trying
	optimal bool // lzmaEncoder's optimal parse, not its fast mode

	props   []lzma.Properties // candidates for a fresh stream; the smallest wins
	w       *lzmaEncoder
	payload []byte // w's output for the last section
	started bool   // the xz headers have been written
	stale   bool   // w holds data that was dropped: replace it before use
}

// lzmaDefaultProps are liblzma's and xdelta3's literal/position settings.
var lzmaDefaultProps = lzma.Properties{LC: 3, LP: 0, PB: 2}

// lzmaTrialProps are tried at the higher levels whenever a section starts
// a fresh stream: byte-oriented settings suit instruction and address
// sections, which hold short opcodes and varints.
var lzmaTrialProps = []lzma.Properties{lzmaDefaultProps, {LC: 1, LP: 0, PB: 0}, {LC: 4, LP: 0, PB: 0}}

func newLZMASectionEncoder(dictCap int, props []lzma.Properties, skipHot, optimal bool) *lzmaSectionEncoder {
	return &lzmaSectionEncoder{dictCap: dictCap, props: props, skipHot: skipHot, optimal: optimal}
}

// newWriter starts a new stream with props.
func (e *lzmaSectionEncoder) newWriter(props lzma.Properties) *lzmaEncoder {
	if e.optimal {
		return newLZMAEncoder(e.dictCap, uint(props.LC), uint(props.LP), uint(props.PB))
	}
	return newLZMAFastEncoder(e.dictCap, uint(props.LC), uint(props.LP), uint(props.PB))
}

func (e *lzmaSectionEncoder) encode(dst, raw []byte) ([]byte, bool) {
	hot := incompressible(raw)
	if len(raw) < minSecondarySection || (e.skipHot && hot) {
		return dst, false
	}
	if e.w == nil || e.stale {
		e.w, e.stale = nil, false
		props := e.props
		if hot {
			// Trials cannot change much in compressed data.
			props = props[:1]
		}
		for _, p := range props {
			w := e.newWriter(p)
			if out := w.compress(nil, raw); e.w == nil || len(out) < len(e.payload) {
				e.w, e.payload = w, out
			}
		}
	} else {
		e.payload = e.w.compress(e.payload[:0], raw)
	}
	payload := e.payload
	n := varintLen(uint64(len(raw))) + len(payload)
	if !e.started {
		n += xzHeadersLen
	}
	if n >= len(raw) {
		e.stale = true
		return dst, false
	}
	dst = appendVarint(dst, uint64(len(raw)))
	if !e.started {
		dst = appendXZHeaders(dst, e.dictCap)
		e.started = true
	}
	return append(dst, payload...), true
}

// xzHeadersLen is the length of the xz stream header plus the 12-byte LZMA2
// block header that open each LZMA section stream.
const xzHeadersLen = 12 + 12

// appendXZHeaders appends the xz stream header (check type NONE) and an
// LZMA2 block header for a dictionary of dictCap bytes, as xdelta3 writes
// them before the first compressed section of each type.
func appendXZHeaders(dst []byte, dictCap int) []byte {
	dst = append(dst, xzStreamMagic[:]...)
	flags := []byte{0, 0}
	dst = append(dst, flags...)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(flags))
	start := len(dst)
	// Size byte 2: (2+1)*4 = 12 bytes. Flags 0: one filter, no size
	// fields. Filter 0x21 (LZMA2) with a 1-byte property: the dictionary
	// code. Three bytes of zero padding, then the CRC32 of the first 8.
	dst = append(dst, 0x02, 0x00, 0x21, 0x01, lzma.EncodeDictCap(int64(dictCap)), 0, 0, 0)
	return binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// hotSection and hotBits: a section of at least hotSection bytes whose
// order-0 entropy exceeds hotBits bits per byte is not worth an LZMA
// attempt. What is left in a data section after delta encoding has its
// repeats already turned into COPYs, so such bytes are compressed data
// (deflate members of .tgz/.zip files), where LZMA saved about 0.1 % at
// 10x the time.
const (
	hotSection = 64 << 10
	hotBits    = 7.99
)

// incompressible reports whether b is large and of near-maximal entropy.
func incompressible(b []byte) bool {
	if len(b) < hotSection {
		return false
	}
	var freq [256]int
	for _, c := range b {
		freq[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, f := range freq {
		if f > 0 {
			p := float64(f) / n
			h -= p * math.Log2(p)
		}
	}
	return h > hotBits
}
