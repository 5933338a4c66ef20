// Package bzip2w is a bzip2 stream writer for package bsdiff.
//
// It exists because the patch size of a bsdiff patch is essentially the
// size of its bzip2-coded diff stream, and the pure-Go writer in
// github.com/dsnet/compress assigns Huffman tables to symbol groups round
// robin, which costs about 7 % against libbzip2 on bsdiff streams. This
// writer does what the format allows for that: up to six Huffman tables per
// block, seeded by splitting the symbol frequencies into ranges and refined
// by several rounds of "pick the cheapest table for each 50-symbol group,
// rebuild each table from the groups that picked it".
//
// The Burrows-Wheeler transform sorts the block's rotations with the suffix
// array of the doubled block (via the same standard-library SA-IS the bsdiff
// encoder uses). The output is a standard bzip2 stream ("BZh1".."BZh9"),
// readable by libbzip2, bspatch and github.com/dsnet/compress/bzip2.
package bzip2w

import (
	"errors"
	"io"

	"github.com/deltaglider-go/deltaglider/bsdiff/internal/sufarray"
)

const (
	blockMagic = 0x314159265359
	endMagic   = 0x177245385090

	groupSize   = 50 // symbols per Huffman table selector
	maxTables   = 6
	maxCodeLen  = 17 // what libbzip2 generates; the format allows 20
	refineIters = 8
	runA, runB  = 0, 1
)

// Writer compresses to a bzip2 stream. Close must be called to flush the
// last block and write the stream trailer.
type Writer struct {
	w      io.Writer
	level  int
	maxBlk int // RLE1-coded bytes per block

	block   []byte // RLE1-coded block being filled
	crc     uint32 // running CRC of the raw bytes of the current block
	combCRC uint32
	runByte byte
	runLen  int
	wroteHd bool
	err     error

	bw bitWriter
	// scratch
	mtfOut []uint16
}

// NewWriter returns a Writer at block-size level 1..9 (100 000 to
// 900 000 bytes per block).
func NewWriter(w io.Writer, level int) (*Writer, error) {
	if level < 1 || level > 9 {
		return nil, errors.New("bzip2w: level must be in [1, 9]")
	}
	return &Writer{w: w, level: level, maxBlk: level*100000 - 19}, nil
}

// Write compresses p.
func (z *Writer) Write(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if z.block == nil {
		z.block = make([]byte, 0, z.maxBlk+8)
		z.crc = 0xffffffff
	}
	for _, b := range p {
		if z.runLen > 0 && b == z.runByte && z.runLen < 255 {
			z.runLen++
			z.crc = crcUpdate(z.crc, b)
			continue
		}
		if z.runLen > 0 {
			z.flushRun()
			if len(z.block) >= z.maxBlk {
				if err := z.endBlock(); err != nil {
					return 0, err
				}
			}
		}
		z.runByte, z.runLen = b, 1
		z.crc = crcUpdate(z.crc, b)
	}
	return len(p), nil
}

// flushRun appends the pending run with bzip2's initial run-length coding:
// runs of 4..255 become four bytes and a count of the rest.
func (z *Writer) flushRun() {
	b := z.runByte
	switch n := z.runLen; {
	case n < 4:
		for range n {
			z.block = append(z.block, b)
		}
	default:
		z.block = append(z.block, b, b, b, b, byte(n-4))
	}
	z.runLen = 0
}

func (z *Writer) writeHeader() error {
	if z.wroteHd {
		return nil
	}
	z.wroteHd = true
	_, err := z.w.Write([]byte{'B', 'Z', 'h', byte('0' + z.level)})
	return err
}

// endBlock encodes and writes the current block (if any) and starts a new
// one.
func (z *Writer) endBlock() error {
	if err := z.writeHeader(); err != nil {
		z.err = err
		return err
	}
	if len(z.block) == 0 {
		return nil
	}
	blockCRC := ^z.crc
	z.combCRC = (z.combCRC<<1 | z.combCRC>>31) ^ blockCRC
	if err := z.encodeBlock(blockCRC); err != nil {
		z.err = err
		return err
	}
	if _, err := z.w.Write(z.bw.take()); err != nil {
		z.err = err
		return err
	}
	z.block = z.block[:0]
	z.crc = 0xffffffff
	return nil
}

// Close flushes the last block and writes the stream trailer. It does not
// close the underlying writer.
func (z *Writer) Close() error {
	if z.err != nil {
		if z.err == errClosed {
			return nil
		}
		return z.err
	}
	if z.runLen > 0 {
		z.flushRun()
	}
	if err := z.endBlock(); err != nil {
		return err
	}
	z.bw.writeBits(endMagic>>24, 24)
	z.bw.writeBits(endMagic&0xffffff, 24)
	z.bw.writeBits(uint64(z.combCRC), 32)
	z.bw.align()
	if _, err := z.w.Write(z.bw.take()); err != nil {
		z.err = err
		return err
	}
	z.err = errClosed
	return nil
}

var errClosed = errors.New("bzip2w: write after Close")

// encodeBlock writes one block to z.bw.
func (z *Writer) encodeBlock(blockCRC uint32) error {
	blk := z.block
	n := len(blk)

	// Burrows-Wheeler transform: rotation i of blk sorts like suffix i
	// of blk+blk compared over n bytes; equal rotations are
	// interchangeable.
	dbl := make([]byte, 2*n)
	copy(dbl, blk)
	copy(dbl[n:], blk)
	sa, err := sufarray.Build(dbl)
	if err != nil {
		return err
	}
	last := dbl[n:] // reuse: blk's copy is no longer needed after sa
	origPtr := -1
	k := 0
	for _, p := range sa {
		if int(p) >= n {
			continue
		}
		if p == 0 {
			origPtr = k
			last[k] = blk[n-1]
		} else {
			last[k] = blk[p-1]
		}
		k++
	}
	if k != n || origPtr < 0 {
		return errors.New("bzip2w: internal error: bad rotation sort")
	}

	// Symbols in use.
	var inUse [256]bool
	for _, c := range last {
		inUse[c] = true
	}
	var seqOf [256]byte
	nInUse := 0
	for c := range 256 {
		if inUse[c] {
			seqOf[c] = byte(nInUse)
			nInUse++
		}
	}
	alphaSize := nInUse + 2
	eob := uint16(nInUse + 1)

	// Move-to-front and zero-run coding (RUNA/RUNB, bijective base 2).
	var order [256]byte
	for i := range order {
		order[i] = byte(i)
	}
	syms := z.mtfOut[:0]
	var freq [258]int32
	zrun := 0
	flushZeros := func() {
		for zrun > 0 {
			zrun--
			s := uint16(runA + zrun&1)
			syms = append(syms, s)
			freq[s]++
			zrun >>= 1
		}
	}
	for _, c := range last {
		u := seqOf[c]
		if order[0] == u {
			zrun++
			continue
		}
		flushZeros()
		// Find u and move it to the front.
		j := 1
		prev := order[0]
		for order[j] != u {
			order[j], prev = prev, order[j]
			j++
		}
		order[j] = prev
		order[0] = u
		s := uint16(j + 1)
		syms = append(syms, s)
		freq[s]++
	}
	flushZeros()
	syms = append(syms, eob)
	freq[eob]++
	z.mtfOut = syms

	nTables := 6
	switch l := len(syms); {
	case l < 200:
		nTables = 2
	case l < 600:
		nTables = 3
	case l < 1200:
		nTables = 4
	case l < 2400:
		nTables = 5
	}
	nGroups := (len(syms) + groupSize - 1) / groupSize
	tables := seedTables(freq[:alphaSize], len(syms), nTables)
	sel := make([]uint8, nGroups)
	for range refineIters {
		var tfreq [maxTables][258]int32
		for g := range nGroups {
			grp := syms[g*groupSize : min(len(syms), (g+1)*groupSize)]
			best, bestCost := 0, int(^uint(0)>>1)
			for t := range nTables {
				cost := 0
				tl := &tables[t]
				for _, s := range grp {
					cost += int(tl[s])
				}
				if cost < bestCost {
					best, bestCost = t, cost
				}
			}
			sel[g] = uint8(best)
			for _, s := range grp {
				tfreq[best][s]++
			}
		}
		for t := range nTables {
			huffLengths(tfreq[t][:alphaSize], maxCodeLen, tables[t][:alphaSize])
		}
	}

	// Block header.
	bw := &z.bw
	bw.writeBits(blockMagic>>24, 24)
	bw.writeBits(blockMagic&0xffffff, 24)
	bw.writeBits(uint64(blockCRC), 32)
	bw.writeBits(0, 1) // not randomised
	bw.writeBits(uint64(origPtr), 24)

	// Symbol map: which 16-byte ranges are used, then each used range.
	var used16 uint64
	for i := range 16 {
		for j := range 16 {
			if inUse[i*16+j] {
				used16 |= 1 << (15 - i)
				break
			}
		}
	}
	bw.writeBits(used16, 16)
	for i := range 16 {
		if used16&(1<<(15-i)) == 0 {
			continue
		}
		var m uint64
		for j := range 16 {
			if inUse[i*16+j] {
				m |= 1 << (15 - j)
			}
		}
		bw.writeBits(m, 16)
	}

	// Tables and selectors.
	bw.writeBits(uint64(nTables), 3)
	bw.writeBits(uint64(nGroups), 15)
	var selOrder [maxTables]uint8
	for i := range selOrder {
		selOrder[i] = uint8(i)
	}
	for _, s := range sel {
		j := 0
		for selOrder[j] != s {
			j++
		}
		copy(selOrder[1:j+1], selOrder[:j])
		selOrder[0] = s
		for range j {
			bw.writeBits(1, 1)
		}
		bw.writeBits(0, 1)
	}
	for t := range nTables {
		tl := tables[t][:alphaSize]
		cur := int(tl[0])
		bw.writeBits(uint64(cur), 5)
		for _, l := range tl {
			for cur < int(l) {
				bw.writeBits(2, 2) // 10: increment
				cur++
			}
			for cur > int(l) {
				bw.writeBits(3, 2) // 11: decrement
				cur--
			}
			bw.writeBits(0, 1)
		}
	}

	// Data.
	codes := make([][258]uint32, nTables)
	for t := range nTables {
		assignCodes(tables[t][:alphaSize], codes[t][:alphaSize])
	}
	for g := range nGroups {
		t := sel[g]
		tl, tc := &tables[t], &codes[t]
		for _, s := range syms[g*groupSize : min(len(syms), (g+1)*groupSize)] {
			bw.writeBits(uint64(tc[s]), uint(tl[s]))
		}
	}
	return nil
}

// seedTables gives each table a contiguous range of symbols (by MTF rank)
// carrying about an equal share of the frequency: cheap inside, expensive
// outside. Refinement starts from these.
func seedTables(freq []int32, total, nTables int) [][258]uint8 {
	tables := make([][258]uint8, nTables)
	alphaSize := len(freq)
	rem := total
	gs := 0
	for part := nTables; part > 0; part-- {
		target := rem / part
		ge, acc := gs-1, 0
		for acc < target && ge < alphaSize-1 {
			ge++
			acc += int(freq[ge])
		}
		// Alternate which side a straddling symbol goes to.
		if ge > gs && part != nTables && part != 1 && (nTables-part)%2 == 1 {
			acc -= int(freq[ge])
			ge--
		}
		t := &tables[part-1]
		for v := range alphaSize {
			if v >= gs && v <= ge {
				t[v] = 0
			} else {
				t[v] = 15
			}
		}
		gs = ge + 1
		rem -= acc
	}
	return tables
}
