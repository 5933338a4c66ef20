// Package sufarray builds suffix arrays with the standard library (see Build).
package sufarray

import (
	"encoding/binary"
	"errors"
	"index/suffixarray"
	"math"
)

// Build returns the suffix array of data (positions of all non-empty
// suffixes in lexicographic order) as int32s.
//
// It is built by the standard library's index/suffixarray (SA-IS, linear
// time, 32-bit positions below 2 GiB). That package does not export the
// array, so it is recovered from Index.Write, whose stream is: a 10-byte
// varint length, the data, then chunks each made of a 10-byte varint chunk
// size followed by uvarint positions. The stream is parsed as it is written,
// so no serialized copy is ever held in memory. The result is checked to be
// a permutation of [0, len(data)) so that a change of that undocumented
// layout is detected instead of producing wrong matches.
func Build(data []byte) ([]int32, error) {
	sa := make([]int32, len(data))
	if len(data) == 0 {
		return sa, nil
	}
	p := &saParser{sa: sa, skip: binary.MaxVarintLen64 + len(data)}
	if err := suffixarray.New(data).Write(p); err != nil {
		return nil, err
	}
	if p.err != nil || p.n != len(sa) || len(p.pend) != 0 {
		return nil, errSuffixLayout
	}
	if !isPermutation(sa) {
		return nil, errSuffixLayout
	}
	return sa, nil
}

// isPermutation reports whether sa holds each of 0..len(sa)-1 once. It
// needs no extra memory: each value's slot is marked with the sign bit
// (positions are below 2^31), and the marks are cleared afterwards.
func isPermutation(sa []int32) bool {
	ok := true
	for i := range sa {
		v := sa[i] & math.MaxInt32
		if int(v) >= len(sa) || sa[v] < 0 {
			ok = false
			break
		}
		sa[v] |= math.MinInt32
	}
	for i := range sa {
		sa[i] &= math.MaxInt32
	}
	return ok
}

var errSuffixLayout = errors.New("sufarray: internal error: unexpected index/suffixarray serialization layout")

// saParser is an io.Writer that decodes the suffix array part of an
// index/suffixarray serialization into sa.
type saParser struct {
	sa    []int32
	n     int    // entries decoded
	skip  int    // bytes still to skip (length varint + data)
	chunk int    // bytes left in the current chunk's position list
	pend  []byte // partial chunk header or varint carried across Writes
	err   error
}

func (p *saParser) Write(b []byte) (int, error) {
	total := len(b)
	if p.err != nil {
		return 0, p.err
	}
	if p.skip > 0 {
		k := min(p.skip, len(b))
		p.skip -= k
		b = b[k:]
	}
	for len(b) > 0 {
		if p.chunk == 0 {
			// Chunk header: a 10-byte varint holding the chunk size
			// (header included).
			need := binary.MaxVarintLen64 - len(p.pend)
			if len(b) < need {
				p.pend = append(p.pend, b...)
				return total, nil
			}
			hdr := append(p.pend, b[:need]...)
			p.pend = p.pend[:0]
			b = b[need:]
			size, w := binary.Varint(hdr)
			if w <= 0 || size < binary.MaxVarintLen64 {
				p.err = errSuffixLayout
				return 0, p.err
			}
			p.chunk = int(size) - binary.MaxVarintLen64
			continue
		}
		// Positions: uvarints within the chunk.
		seg := b[:min(p.chunk, len(b))]
		if len(p.pend) > 0 {
			// Complete a varint split across writes.
			for len(seg) > 0 {
				p.pend = append(p.pend, seg[0])
				seg, b = seg[1:], b[1:]
				p.chunk--
				if p.pend[len(p.pend)-1] < 0x80 {
					break
				}
			}
			if p.pend[len(p.pend)-1] >= 0x80 {
				continue
			}
			if !p.put(p.pend) {
				return 0, p.err
			}
			p.pend = p.pend[:0]
		}
		for len(seg) > 0 {
			v, w := binary.Uvarint(seg)
			if w == 0 { // incomplete: carry over
				p.pend = append(p.pend, seg...)
				b = b[len(seg):]
				p.chunk -= len(seg)
				break
			}
			if w < 0 || p.n >= len(p.sa) || v >= uint64(len(p.sa)) {
				p.err = errSuffixLayout
				return 0, p.err
			}
			p.sa[p.n] = int32(v)
			p.n++
			seg, b = seg[w:], b[w:]
			p.chunk -= w
		}
	}
	return total, nil
}

func (p *saParser) put(v []byte) bool {
	x, w := binary.Uvarint(v)
	if w != len(v) || p.n >= len(p.sa) || x >= uint64(len(p.sa)) {
		p.err = errSuffixLayout
		return false
	}
	p.sa[p.n] = int32(x)
	p.n++
	return true
}
