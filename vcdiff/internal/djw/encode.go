package djw

import (
	"slices"
	"sync"
)

// plan is one way to encode a section: the number of code tables and, with
// several tables, the sector size (a multiple of 5, at most 160).
type plan struct{ groups, sectorSize int }

// Size-based suggestions for multi-table coding. These follow the values
// xdelta3 found empirically for its data, instruction and address sections.
func suggestData(n int) plan {
	switch {
	case n < 1000:
		return plan{1, 0}
	case n < 4000:
		return plan{2, 10}
	case n < 7000:
		return plan{3, 10}
	case n < 10000:
		return plan{4, 10}
	case n < 25000:
		return plan{5, 10}
	case n < 50000:
		return plan{7, 20}
	case n < 100000:
		return plan{8, 30}
	}
	return plan{8, 70}
}

func suggestInst(n int) plan {
	switch {
	case n < 7000:
		return plan{1, 0}
	case n < 10000:
		return plan{2, 50}
	case n < 25000:
		return plan{3, 50}
	case n < 50000:
		return plan{6, 40}
	}
	return plan{8, 40}
}

func suggestAddr(n int) plan {
	switch {
	case n < 9000:
		return plan{1, 0}
	case n < 25000:
		return plan{2, 130}
	case n < 50000:
		return plan{3, 130}
	case n < 100000:
		return plan{5, 130}
	}
	return plan{7, 130}
}

// appendPlans appends the encodings Encode tries at a level (the smallest
// result wins), without duplicates.
func appendPlans(ps []plan, level, n int) []plan {
	add := func(p plan) {
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	add(plan{1, 0})
	if level >= 7 {
		add(suggestData(n))
	}
	if level >= 8 {
		add(suggestInst(n))
	}
	if level >= 9 {
		add(suggestAddr(n))
	}
	return ps
}

// encoder holds per-call scratch space, pooled between calls.
type encoder struct {
	freq    [alphabetSize]uint32
	gfreq   [maxGroups][alphabetSize]uint32
	lens    [maxGroups][alphabetSize]uint8
	codes   [maxGroups][alphabetSize]uint32
	pack    [2][alphabetSize]uint64 // chooseTables: lengths in 16-bit lanes
	sel     []uint8                 // table number per sector
	vals    []uint8                 // scratch: values to MTF-code
	syms    []uint8                 // scratch: MTF-1/2 symbols
	scratch []byte                  // scratch output for candidate plans
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// Encode appends the DJW encoding of src to dst and returns the extended
// slice. level follows xdelta3's djw0..djw9 where it means something for a
// single section: levels up to 6 use one Huffman table; 7 also tries
// several tables chosen per sector (counts and sector sizes as xdelta3 picks
// them for data sections), 8 adds xdelta3's instruction-section tuning and 9
// its address-section tuning; the smallest result is kept. Which sections to
// compress at all (xdelta3 skips data below djw1, instructions below djw3,
// addresses below djw5) and whether the result saves enough to keep is the
// caller's decision. An empty src cannot be represented (its decoded size
// would be 0) and leaves dst unchanged.
func Encode(dst, src []byte, level int) []byte {
	var buf [4]plan
	return encodePlans(dst, src, appendPlans(buf[:0], level, len(src)))
}

// encodePlans appends the smallest encoding of src among plans.
func encodePlans(dst, src []byte, plans []plan) []byte {
	if len(src) == 0 {
		return dst
	}
	e := encoderPool.Get().(*encoder)
	defer encoderPool.Put(e)

	e.freq = [alphabetSize]uint32{}
	for _, b := range src {
		e.freq[b]++
	}
	// A code needs two symbols: if the section uses only one byte value,
	// give a second one a (never used) code too.
	nz := 0
	for _, f := range e.freq {
		if f != 0 {
			nz++
		}
	}
	if nz == 1 {
		if e.freq[0] == 0 {
			e.freq[0] = 1
		} else {
			e.freq[1] = 1
		}
	}

	base := len(dst)
	for i, p := range plans {
		if i == 0 {
			dst = e.encode(dst, src, p)
			continue
		}
		e.scratch = e.encode(e.scratch[:0], src, p)
		if len(e.scratch) < len(dst)-base {
			dst = append(dst[:base], e.scratch...)
		}
	}
	return dst
}

// encode appends one encoding of src with plan p.
func (e *encoder) encode(dst, src []byte, p plan) []byte {
	groups := p.groups
	if groups > 1 {
		groups = e.chooseTables(src, groups, p.sectorSize)
	}
	sectorSize := len(src)
	if groups == 1 {
		buildLengths(e.freq[:], e.lens[0][:], maxCodeLen)
	} else {
		sectorSize = p.sectorSize
	}
	for g := 0; g < groups; g++ {
		canonicalCodes(e.lens[g][:], e.codes[g][:])
	}

	w := bitWriter{out: dst}
	w.writeBits(uint32(groups-1), groupBits)
	if groups > 1 {
		w.writeBits(uint32(sectorSize/sectorUnit-1), sectorBits)
	}
	e.writeCodeLengths(&w, groups)
	if groups > 1 {
		e.writeSelectors(&w, groups, 1+(len(src)-1)/sectorSize)
	}
	for c, pos := 0, 0; pos < len(src); c++ {
		g := 0
		if groups > 1 {
			g = int(e.sel[c])
		}
		lens, codes := &e.lens[g], &e.codes[g]
		end := min(pos+sectorSize, len(src))
		for _, b := range src[pos:end] {
			w.writeLSB(codes[b], uint(lens[b]))
		}
		pos = end
	}
	return w.flush()
}

// chooseTables builds up to groups code tables for sectors of sectorSize
// bytes (bzip2-style: start from tables that each favour a slice of the
// alphabet, then alternate between assigning every sector to its cheapest
// table and rebuilding each table from its sectors). It fills e.lens and
// e.sel and returns the number of tables actually used.
func (e *encoder) chooseTables(src []byte, groups, sectorSize int) int {
	n := len(src)
	sectors := 1 + (n-1)/sectorSize
	if cap(e.sel) < sectors {
		e.sel = make([]uint8, sectors)
	}
	e.sel = e.sel[:sectors]

	// Initial tables: split the alphabet into groups slices of about equal
	// total frequency; a table's own slice is cheap, the rest expensive.
	left := uint32(n)
	s := 0
	for g := 0; g < groups; g++ {
		goal := left / uint32(groups-g)
		if goal == 0 {
			groups = g
			break
		}
		lo := s
		sum := uint32(0)
		for sum < goal && s < alphabetSize {
			sum += e.freq[s]
			s++
		}
		for i := range e.lens[g] {
			e.lens[g][i] = 16
			if i >= lo && i < s {
				e.lens[g][i] = 1
			}
		}
		left -= sum
	}
	if groups < 2 {
		return 1
	}

	best := ^uint64(0)
	for iter := 0; iter < 6; iter++ {
		for g := 0; g < groups; g++ {
			e.gfreq[g] = [alphabetSize]uint32{}
		}
		// Code lengths of all tables packed in 16-bit lanes, so one add
		// per byte sums the cost of four tables (a sector costs at most
		// 160*20 bits, which fits a lane).
		for s := range e.pack[0] {
			var p0, p1 uint64
			for g := 0; g < groups; g++ {
				l := uint64(e.lens[g][s]) << (16 * (g & 3))
				if g < 4 {
					p0 |= l
				} else {
					p1 |= l
				}
			}
			e.pack[0][s], e.pack[1][s] = p0, p1
		}
		for c := 0; c < sectors; c++ {
			sec := src[c*sectorSize : min((c+1)*sectorSize, n)]
			var c0, c1 uint64
			for _, b := range sec {
				c0 += e.pack[0][b]
				c1 += e.pack[1][b]
			}
			win, best := 0, c0&0xffff
			for g := 1; g < groups; g++ {
				lane := c0
				if g >= 4 {
					lane = c1
				}
				if cost := lane >> (16 * (g & 3)) & 0xffff; cost < best {
					win, best = g, cost
				}
			}
			e.sel[c] = uint8(win)
			f := &e.gfreq[win]
			for _, b := range sec {
				f[b]++
			}
		}
		// Rebuild the tables. Every table must code every symbol of the
		// section (the stream cannot express a table with fewer symbols
		// than the table before it), so absent symbols get weight 1.
		var bits uint64
		for g := 0; g < groups; g++ {
			f := &e.gfreq[g]
			var absent [alphabetSize]bool
			for i := range f {
				if f[i] == 0 && e.freq[i] != 0 {
					f[i] = 1
					absent[i] = true
				}
			}
			buildLengths(f[:], e.lens[g][:], maxCodeLen)
			for i := range f {
				if !absent[i] {
					bits += uint64(f[i]) * uint64(e.lens[g][i])
				}
			}
		}
		if iter > 0 && bits+20 > best {
			break
		}
		best = min(best, bits)
	}

	// Drop tables no sector uses.
	var used [maxGroups]bool
	for _, g := range e.sel {
		used[g] = true
	}
	var remap [maxGroups]uint8
	k := 0
	for g := 0; g < groups; g++ {
		if used[g] {
			remap[g] = uint8(k)
			e.lens[k] = e.lens[g]
			k++
		}
	}
	if k < groups {
		for c := range e.sel {
			e.sel[c] = remap[e.sel[c]]
		}
	}
	return k
}

// mtf12 appends to e.syms the move-to-front / 1-2 run-length coding of
// vals starting from the list mtf, counting symbol frequencies into freq.
func (e *encoder) mtf12(vals []uint8, mtf []uint8, freq []uint32) {
	run := 0
	for _, v := range vals {
		j := 0
		for mtf[j] != v {
			j++
		}
		if j == 0 {
			run++
			continue
		}
		copy(mtf[1:j+1], mtf[:j])
		mtf[0] = v
		e.flushRun(run, freq)
		run = 0
		e.syms = append(e.syms, uint8(j+1))
		freq[j+1]++
	}
	e.flushRun(run, freq)
}

// flushRun appends a run of run repeats as bijective base-2 digits, least
// significant first (RUN_0 = digit 1, RUN_1 = digit 2).
func (e *encoder) flushRun(run int, freq []uint32) {
	for run > 0 {
		run--
		c := uint8(run & 1)
		e.syms = append(e.syms, c)
		freq[c]++
		run >>= 1
	}
}

// ensureTwo gives a second symbol a weight if freq has fewer than two.
func ensureTwo(freq []uint32) {
	nz := 0
	for _, f := range freq {
		if f != 0 {
			nz++
		}
	}
	for i := 0; nz < 2 && i < len(freq); i++ {
		if freq[i] == 0 {
			freq[i] = 1
			nz++
		}
	}
}

// writeCodeLengths writes the code-length code and the code lengths of the
// first groups tables.
func (e *encoder) writeCodeLengths(w *bitWriter, groups int) {
	e.vals = append(e.vals[:0], e.lens[0][:]...)
	for g := 1; g < groups; g++ {
		for s := 0; s < alphabetSize; s++ {
			if e.lens[g-1][s] != 0 {
				e.vals = append(e.vals, e.lens[g][s])
			}
		}
	}
	var freq [numCLSymbols]uint32
	mtf := clenMTFInit
	e.syms = e.syms[:0]
	e.mtf12(e.vals, mtf[:], freq[:])
	ensureTwo(freq[:])
	var lens [numCLSymbols]uint8
	var codes [numCLSymbols]uint32
	buildLengths(freq[:], lens[:], maxCLCodeLen)
	canonicalCodes(lens[:], codes[:])
	num := numCLSymbols
	for num > minCLSymbols && lens[num-1] == 0 {
		num--
	}
	w.writeBits(uint32(num-minCLSymbols), clCountBits)
	for _, l := range lens[:num] {
		w.writeBits(uint32(l), clLenBits)
	}
	for _, s := range e.syms {
		w.writeLSB(codes[s], uint(lens[s]))
	}
}

// writeSelectors writes the selector code and the per-sector table numbers.
func (e *encoder) writeSelectors(w *bitWriter, groups, sectors int) {
	var freq [maxGroups + 1]uint32
	var mtf [maxGroups]uint8
	for i := range mtf {
		mtf[i] = uint8(i)
	}
	e.syms = e.syms[:0]
	e.mtf12(e.sel[:sectors], mtf[:groups], freq[:groups+1])
	ensureTwo(freq[:groups+1])
	var lens [maxGroups + 1]uint8
	var codes [maxGroups + 1]uint32
	buildLengths(freq[:groups+1], lens[:groups+1], maxSelCodeLen)
	canonicalCodes(lens[:groups+1], codes[:groups+1])
	for _, l := range lens[:groups+1] {
		w.writeBits(uint32(l), selLenBits)
	}
	for _, s := range e.syms {
		w.writeLSB(codes[s], uint(lens[s]))
	}
}
