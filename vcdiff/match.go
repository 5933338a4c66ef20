package vcdiff

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// levelParams tunes the matcher for one compression level.
type levelParams struct {
	srcStep   int  // source sampling step (see sourceIndex)
	srcWays   int  // slots per source-index bucket
	srcLen    int  // bytes hashed per sampled source position (4..8)
	tgtChain  int  // in-window hash-chain candidates per position (0: no target matching)
	tgtLen    int  // bytes hashed for in-window matching (4..8)
	tgtBits   int  // log2 of the largest in-window head table
	prevBits  int  // log2 of the in-window chain ring (chains reach this far back)
	lazy      int  // how many following positions lazy matching tries
	nice      int  // a match worth this much stops the search and lazy matching
	skipShift uint // in unmatched stretches, advance 1+run>>skipShift bytes (0: every byte)
	maxSkip   int  // ... but at most 1+maxSkip bytes
	insStep   int  // inside emitted matches, index every insStep-th position for in-window matching
	insMax    int  // ... but of a source COPY longer than this only the last insMax bytes (0: all)
	probeIn   int  // probe the source inside emitted matches shorter than this
	probeRate int  // ... but in a window where under this % of such probes pay, only one in probeSample (0: always)
	local     int  // chain depth of the local source search (0: off)
	localWide bool // ... after a source COPY of any size, not just of localMinCopy bytes or more
	hereLZMA  bool // with the LZMA hint, judge the all-HERE address trial by LZMA, not deflate (windowEncoder.judgeHere)
}

// Compression levels. DefaultLevel is fast; BestLevel spends more CPU and
// memory for smaller patches.
const (
	MinLevel     = 0
	DefaultLevel = 6
	BestLevel    = 9
)

var levelTable = [BestLevel + 1]levelParams{
	0: {srcStep: 16, srcWays: 1, srcLen: 8, tgtChain: 0, lazy: 0, nice: 32, skipShift: 4, maxSkip: 64, probeIn: 0},
	1: {srcStep: 16, srcWays: 1, srcLen: 8, tgtChain: 1, tgtLen: 4, tgtBits: 16, lazy: 0, nice: 32, skipShift: 5, maxSkip: 32, insStep: 16, insMax: 256, probeIn: 0},
	2: {srcStep: 12, srcWays: 1, srcLen: 8, tgtChain: 2, tgtLen: 4, tgtBits: 17, prevBits: 15, lazy: 0, nice: 48, skipShift: 5, maxSkip: 32, insStep: 16, insMax: 256, probeIn: 0},
	3: {srcStep: 8, srcWays: 1, srcLen: 8, tgtChain: 4, tgtLen: 4, tgtBits: 18, prevBits: 16, lazy: 1, nice: 48, skipShift: 6, maxSkip: 16, insStep: 16, insMax: 256, probeIn: 16, probeRate: 20, local: 2},
	4: {srcStep: 8, srcWays: 1, srcLen: 8, tgtChain: 6, tgtLen: 4, tgtBits: 18, prevBits: 16, lazy: 1, nice: 64, skipShift: 6, maxSkip: 16, insStep: 8, insMax: 256, probeIn: 16, probeRate: 20, local: 4},
	5: {srcStep: 8, srcWays: 2, srcLen: 8, tgtChain: 8, tgtLen: 4, tgtBits: 18, prevBits: 16, lazy: 1, nice: 64, skipShift: 7, maxSkip: 8, insStep: 8, insMax: 256, probeIn: 20, probeRate: 20, local: 4},
	6: {srcStep: 8, srcWays: 4, srcLen: 8, tgtChain: 8, tgtLen: 4, tgtBits: 18, prevBits: 18, lazy: 1, nice: 64, skipShift: 7, maxSkip: 4, insStep: 8, insMax: 256, probeIn: 24, probeRate: 20, local: 8},
	7: {srcStep: 4, srcWays: 4, srcLen: 8, tgtChain: 16, tgtLen: 4, tgtBits: 20, prevBits: 19, lazy: 2, nice: 128, skipShift: 0, insStep: 4, insMax: 1024, probeIn: 48, local: 8, hereLZMA: true},
	8: {srcStep: 4, srcWays: 4, srcLen: 8, tgtChain: 32, tgtLen: 4, tgtBits: 21, prevBits: 20, lazy: 2, nice: 256, skipShift: 0, insStep: 2, insMax: 1024, probeIn: 64, local: 16, hereLZMA: true},
	9: {srcStep: 2, srcWays: 4, srcLen: 8, tgtChain: 64, tgtLen: 4, tgtBits: 22, prevBits: 20, lazy: 2, nice: 512, skipShift: 0, insStep: 1, insMax: 1024, probeIn: 128, local: 16, localWide: true, hereLZMA: true},
}

// Match kinds.
const (
	kindSrc = iota // COPY from the source
	kindTgt        // COPY from earlier in the target window
	kindRun        // RUN
)

// minValue is the least a COPY or RUN must save over ADDing its bytes
// (value = bytes covered - estimated instruction and address bytes): one
// byte more than break-even, for the ADD it splits in two.
const minValue = 2

// op is one COPY or RUN chosen for a window; the bytes between ops are ADDs.
type op struct {
	pos  uint32 // window offset of the first byte produced
	sk   uint32 // the size in the low opSizeBits bits (a window is at most 16 MiB), the kind above
	addr int64  // kindSrc: source offset; kindTgt: window offset; kindRun: the byte
}

// opSizeBits holds any size up to MaxWindowSize. An op takes 16 bytes (24
// with a separate kind field): a window of many instructions has hundreds
// of thousands.
const opSizeBits = 25

// Sizes must fit opSizeBits.
const _ = uint(1<<opSizeBits - 1 - MaxWindowSize)

func newOp(pos, size int, addr int64, kind uint8) op {
	return op{pos: uint32(pos), sk: uint32(size) | uint32(kind)<<opSizeBits, addr: addr}
}

func (o *op) size() int     { return int(o.sk & (1<<opSizeBits - 1)) }
func (o *op) kind() uint8   { return uint8(o.sk >> opSizeBits) }
func (o *op) setSize(n int) { o.sk = o.sk&^(1<<opSizeBits-1) | uint32(n) }

// match is a candidate instruction at some window position.
type match struct {
	start, end int
	addr       int64
	kind       uint8
	value      int
}

// matcher finds the COPY/RUN instructions of one target window. It is
// owned by one worker; the source and its index are shared read-only.
type matcher struct {
	p   *levelParams
	src []byte
	idx *sourceIndex
	tgt []byte

	head     []uint32 // in-window hash -> chain entry of the last position (see chainEntry)
	prev     []uint32 // chain ring: position -> entry of the previous position with the same hash
	tgtShift uint
	tgtKeep  uint // 64 - 8*tgtLen: shift dropping the bytes after the hashed ones
	prevMask int
	nextIns  int // first position not yet inserted into head/prev

	ops      []op
	litStart int
	reps     [2]int64 // recent source displacements (source offset - window offset)

	// Address-cost estimation while parsing. The window's source segment is
	// not known until the parse ends, so source addresses are estimated as
	// their absolute offset and target addresses as len(src)+offset; the
	// final encoding computes exact modes (encode_window.go).
	cache     addrCache
	estSegLen uint64
	minSrc    int64 // source range used so far
	maxSrc    int64
	limitSpan bool // the source is big enough that segment length + window length may exceed 32 bits
	maxSpan   int64

	la lookahead

	// The local source search (findLocal).
	lhead      []int32 // hash -> source position+1
	lprev      []int32 // chain ring: source position -> previous position+1
	lLo        int     // the hashed region is [lLo, lFront)
	lFront     int
	lastSrcLen int // size of the last source COPY emitted
	localSpan  int // search up to this far past the last COPY (thresholds)
	localMin   int // ... after a source COPY of this size or more
	// repFree: the window's addresses may all be written in HERE mode for
	// LZMA (windowEncoder.hereTrial), where a source COPY that keeps the
	// last one's alignment (reps[0]) repeats its address value and costs
	// next to nothing; the parse values its address at zero bytes.
	repFree bool

	// Probes inside short matches this window, by the match's kind
	// (kindSrc, kindTgt): loops run, loops that found a better match, and
	// loops skipped.
	probeLoops, probeFound, probeSkips [2]int
}

// laMax is the most window positions whose source-index candidates are
// looked up in one batch.
const laMax = 64

// lookahead holds the verified source-index candidates of the window
// positions [base, base+n), looked up in one batch (see fill). A probe of
// the index costs two dependent cache misses on a large source (the bucket,
// then the candidate's source bytes); looking up a run of consecutive
// positions together lets those misses overlap instead of being paid one
// after another. The parser probes consecutive positions wherever it is
// not inside a match, so most probes are served from the batch.
type lookahead struct {
	base, n int
	start   [laMax + 1]uint16 // candidates of position base+j: cand[start[j]:start[j+1]]
	cand    [laMax * 4]uint32 // sample numbers (source position / step), in bucket order
	bucket  [laMax]int        // scratch: first slot of each position's bucket (-1: none)
	tag     [laMax]uint32     // scratch: each position's tag
	pend    [laMax * 4]uint32 // scratch: tag-matching entries before verification
	pendAt  [laMax * 4]uint8  // scratch: the position each pending entry belongs to
}

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

// matchLen returns the length of the common prefix of a and b.
func matchLen(a, b []byte) int {
	n := min(len(a), len(b))
	a, b = a[:n], b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := load64(a, i) ^ load64(b, i); x != 0 {
			return i + bits.TrailingZeros64(x)>>3
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// reset prepares the matcher for window tgt.
func (m *matcher) reset(p *levelParams, src []byte, idx *sourceIndex, tgt []byte) {
	m.p, m.src, m.idx, m.tgt = p, src, idx, tgt
	if idx != nil && idx.nbuckets == 0 {
		m.idx = nil
	}
	m.ops = m.ops[:0]
	m.litStart = 0
	m.nextIns = 0
	m.reps = [2]int64{0, 0}
	m.la.base, m.la.n = 0, 0
	if p.local > 0 {
		if m.lhead == nil {
			m.lhead = make([]int32, 1<<localBits)
			m.lprev = make([]int32, localRing)
		}
		clear(m.lhead)
		m.lLo, m.lFront = 0, 0
	}
	m.lastSrcLen = 0
	m.probeLoops, m.probeFound, m.probeSkips = [2]int{}, [2]int{}, [2]int{}
	m.cache.reset()
	m.estSegLen = uint64(len(src))
	m.minSrc, m.maxSrc = -1, -1
	// xdelta3 3.0.x holds segment length + window length in 32 bits.
	m.maxSpan = int64(1<<32-1) - int64(len(tgt))
	m.limitSpan = int64(len(src)) > m.maxSpan
	if p.tgtChain > 0 {
		// A smaller window gets a smaller head table, down to a quarter
		// slot per position (a full 8 MiB window has one per 32 positions
		// at the default level, whose 1 MiB table stays in a core's L2
		// cache): a table that stays in the cache costs fewer misses and
		// page faults, and the collisions it adds cost next to nothing in
		// patch size.
		b := p.tgtBits
		for b > 8 && 1<<(b-1) >= len(tgt)/4 {
			b--
		}
		if cap(m.head) >= 1<<b {
			m.head = m.head[:1<<b]
			clear(m.head)
		} else {
			m.head = makeTable[uint32](1 << b)
		}
		m.tgtShift = uint(64 - b)
		m.tgtKeep = uint(64 - 8*p.tgtLen)
		if p.tgtChain > 1 {
			pb := p.prevBits
			for pb > 8 && 1<<(pb-1) >= len(tgt) {
				pb--
			}
			if cap(m.prev) >= 1<<pb {
				m.prev = m.prev[:1<<pb]
			} else {
				m.prev = makeHuge[uint32](1 << pb)
			}
			m.prevMask = 1<<pb - 1
		}
	}
}

// addrCost estimates the bytes of the cheapest address encoding of addr
// at here under the current cache.
func addrCost(c *addrCache, addr, here uint64) int {
	if c.same[addr%sameEntries] == addr {
		return 1
	}
	best := varintLen(addr)
	if here >= addr {
		best = min(best, varintLen(here-addr))
	}
	for _, n := range c.near {
		if addr >= n {
			best = min(best, varintLen(addr-n))
		}
	}
	return best
}

// thresholds returns the least value a COPY or RUN must have to be taken,
// and whether the local source search runs everywhere (findLocal).
//
// The threshold is the constant minValue, or with repFree (the patch will
// be LZMA-compressed) more in a window of low byte entropy. LZMA stores
// such ADD bytes (text, SQL) in a fraction of a byte each and finds their
// repeats within its own window, so a short COPY that cuts them up saves
// less than its length: the threshold climbs from minValue+1 at 6.4 bits a
// byte (executables) to 20 at 5 bits and below (text), measured on the
// corpus's esbuild binaries, typescript tars and SQL dumps
// (docs/BENCHMARKS.md); windows of 7.5 bits and more (compressed data) keep
// minValue.
//
// In compressed data (7.5 bits and more) the local search runs everywhere,
// after a source COPY of any size, not just for localSpan bytes after one
// of localMinCopy bytes or more: two versions of a .tgz, or of a zip
// entry, share sparse 4-to-16-byte strings at slowly drifting source
// offsets (where the two deflate streams happen to be in step), which only
// a search around the last displacement finds. (The best level,
// levelParams.localWide, runs it after a COPY of any size in every window.)
func (m *matcher) thresholds() (minV int, wide bool) {
	if len(m.tgt) < 4096 {
		return minValue, wide
	}
	var hist [256]int
	k := 0
	for i := 0; i < len(m.tgt); i += 16 {
		hist[m.tgt[i]]++
		k++
	}
	h := 0.0
	for _, c := range hist {
		if c > 0 {
			q := float64(c) / float64(k)
			h -= q * math.Log2(q)
		}
	}
	const lowH, highH, highestH, lowMin = 5.0, 6.4, 7.5, 20
	wide = wide || h >= highestH
	switch {
	case !m.repFree || h >= highestH:
		return minValue, wide
	case h >= highH:
		return minValue + 1, wide
	case h <= lowH:
		return lowMin, wide
	}
	return lowMin - int((h-lowH)/(highH-lowH)*float64(lowMin-minValue-1)), wide
}

// srcValue is value for a COPY from source offset sp.
func (m *matcher) srcValue(l int, sp uint64, pos int) int {
	if m.repFree && m.lastSrcLen > 0 && int64(sp)-int64(pos) == m.reps[0] {
		if l > 18 {
			return l - varintLen(uint64(l))
		}
		return l
	}
	return m.value(l, sp, pos)
}

// value estimates what a COPY of l bytes from virtual address va, placed at
// window offset pos, saves over ADDing the bytes.
func (m *matcher) value(l int, va uint64, pos int) int {
	c := 1 + addrCost(&m.cache, va, m.estSegLen+uint64(pos))
	if l > 18 {
		c += varintLen(uint64(l))
	}
	return l - c
}

// beats reports whether a candidate worth value and ending at end is
// preferred to b: more value, then the longer reach.
func beats(value, end int, b *match) bool {
	return value > b.value || (value == b.value && end > b.end)
}

func better(c match, best *match) bool { return beats(c.value, c.end, best) }

// offer keeps the candidate in b if it beats b. It stores field by field:
// building a match and copying it whole cost a store-forwarding stall on
// every verified candidate.
func (b *match) offer(start, end int, addr int64, kind uint8, value int) {
	if beats(value, end, b) {
		b.start, b.end, b.addr, b.kind, b.value = start, end, addr, kind, value
	}
}

// trySrc extends the verified source candidate p for window offset i both
// ways and keeps it in best if it is better.
func (m *matcher) trySrc(best *match, i, p int) {
	src, tgt := m.src, m.tgt
	f := matchLen(src[p:], tgt[i:])
	k := 0
	for lim := min(i-m.backStop(), p); k < lim && tgt[i-k-1] == src[p-k-1]; k++ {
	}
	s, ps := i-k, p-k
	l := f + k
	if m.limitSpan && m.minSrc >= 0 {
		lo, hi := min(m.minSrc, int64(ps)), max(m.maxSrc, int64(ps+l))
		if hi-lo > m.maxSpan {
			return
		}
	}
	// Bytes already covered by earlier instructions are not new savings.
	best.offer(s, i+f, int64(ps), kindSrc, m.srcValue(l, uint64(ps), s)-max(0, m.litStart-s))
}

// findBest returns the most valuable COPY or RUN covering window offset i
// (possibly starting earlier, down to the pending literals' start).
func (m *matcher) findBest(i int) match {
	tgt := m.tgt
	n := len(tgt)
	var best match
	if i+4 > n {
		return best
	}
	v32 := load32(tgt, i)

	// RUN.
	if b := tgt[i]; v32 == uint32(b)*0x01010101 {
		e := i + 4
		for e < n && tgt[e] == b {
			e++
		}
		s := i
		for s > m.litStart && tgt[s-1] == b {
			s--
		}
		l := e - s
		best.offer(s, e, int64(b), kindRun, l-2-varintLen(uint64(l)))
	}

	m.findSrc(&best, i, v32)

	// Earlier in the window, through the hash chains.
	if m.p.tgtChain > 0 && i+8 <= n {
		h, tag := m.tgtHash(load64(tgt, i))
		e := m.head[h]
		if i >= m.nextIns {
			if m.prev != nil {
				m.prev[i&m.prevMask] = e
			}
			m.head[h] = chainEntry(i, tag)
			m.nextIns = i + 1
		}
		cand := int(e&chainPos) - 1
		ring := m.prevMask + 1
		for depth := m.p.tgtChain; cand >= 0 && best.value < m.p.nice; {
			// Skip candidates whose first bytes differ (a different tag
			// says so without reading them) and those that cannot reach
			// past the best match's end.
			if fl := best.end - i; e>>chainTagShift == tag && load32(tgt, cand) == v32 && (fl < 4 || (fl < n-i && tgt[cand+fl] == tgt[i+fl])) {
				f := 4 + matchLen(tgt[cand+4:], tgt[i+4:])
				k := 0
				for lim := min(i-m.backStop(), cand); k < lim && tgt[i-k-1] == tgt[cand-k-1]; k++ {
				}
				if s := i - k; f+k-2 >= best.value {
					best.offer(s, i+f, int64(cand-k), kindTgt, m.value(f+k, m.estSegLen+uint64(cand-k), s)-max(0, m.litStart-s))
				}
			}
			depth--
			if depth == 0 || m.prev == nil || cand <= i-ring {
				break
			}
			e = m.prev[cand&m.prevMask]
			next := int(e&chainPos) - 1
			if next >= cand {
				break
			}
			cand = next
		}
	}
	return best
}

// tgtHash hashes the first tgtLen bytes of v (little-endian) for the
// in-window head table: the slot, and a tag of the hash bits below the
// slot's.
func (m *matcher) tgtHash(v uint64) (uint64, uint32) {
	hv := (v << m.tgtKeep) * 0x9E3779B97F4A7C15
	return hv >> m.tgtShift, uint32(hv>>(m.tgtShift-chainTagBits)) & (1<<chainTagBits - 1)
}

// A chain entry (head and prev) is 0 for none, else position+1 in its low
// 25 bits (windows are at most 16 MiB) and the position's hash tag above
// them: two positions whose tags differ differ in their first tgtLen bytes,
// so the chain walk skips such a candidate without reading the window
// there (most often a cache miss).
const (
	chainTagBits  = 7
	chainTagShift = 32 - chainTagBits
	chainPos      = 1<<chainTagShift - 1
)

// Window positions must fit chainPos.
const _ = uint(chainPos - MaxWindowSize)

func chainEntry(i int, tag uint32) uint32 { return uint32(i+1) | tag<<chainTagShift }

// findSrc looks for source matches at window offset i (whose first four
// bytes are v32): recent displacements first (cheap NEAR addresses), then
// the index.
func (m *matcher) findSrc(best *match, i int, v32 uint32) {
	src, tgt := m.src, m.tgt
	if len(src) == 0 {
		return
	}
	for _, d := range m.reps {
		p := int64(i) + d
		if p < 0 || p+4 > int64(len(src)) || load32(src, int(p)) != v32 {
			continue
		}
		m.trySrc(best, i, int(p))
	}
	if m.p.local > 0 && best.value < m.p.nice {
		m.findLocal(best, i)
	}
	x := m.idx
	if x == nil || i+srcHashLen > len(tgt) || best.value >= m.p.nice {
		return
	}
	if !x.batched {
		// A table that fits in the cache is probed directly.
		v := load64(tgt, i)
		b, tag := x.bucket(v)
		for _, e := range x.table[b : b+x.ways] {
			if e == 0 {
				break
			}
			if e&^x.kmask != tag {
				continue
			}
			p := int(e&x.kmask-1) * x.step
			if (load64(src, p)^v)&x.vmask != 0 {
				continue
			}
			m.trySrc(best, i, p)
		}
		return
	}
	la := &m.la
	j := i - la.base
	if j < 0 || j >= la.n {
		// Consecutive positions are probed in growing batches (a match
		// usually ends the run soon after a landing).
		n := 8
		if j == la.n && la.n > 0 {
			n = min(2*la.n, laMax)
		}
		m.fill(i, n)
		j = 0
	}
	step := x.step
	for _, k := range la.cand[la.start[j]:la.start[j+1]] {
		m.trySrc(best, i, int(k)*step)
	}
}

// fill looks up the source-index candidates of window positions
// [i, i+n) (fewer near the window's end) in three passes whose memory
// accesses are independent of each other: bucket addresses, tag-matching
// slots, then the candidates' source bytes. The candidates kept for each
// position, in bucket order, are exactly those whose hashed bytes equal the
// target's.
func (m *matcher) fill(i, n int) {
	x, la, tgt, src := m.idx, &m.la, m.tgt, m.src
	n = min(n, len(tgt)-srcHashLen+1-i)
	la.base, la.n = i, n
	for j := range n {
		b, tag := x.bucket(load64(tgt, i+j))
		la.bucket[j], la.tag[j] = b, tag
	}
	np := 0
	ways := x.ways
	for j := range n {
		b, tag := la.bucket[j], la.tag[j]
		for _, e := range x.table[b : b+ways] {
			if e == 0 {
				break
			}
			if e&^x.kmask == tag {
				la.pend[np] = e&x.kmask - 1
				la.pendAt[np] = uint8(j)
				np++
			}
		}
	}
	step, vmask := x.step, x.vmask
	nc := 0
	q := 0
	for j := range n {
		la.start[j] = uint16(nc)
		v := load64(tgt, i+j)
		for ; q < np && int(la.pendAt[q]) == j; q++ {
			k := la.pend[q]
			if (load64(src, int(k)*step)^v)&vmask == 0 {
				la.cand[nc] = k
				nc++
			}
		}
	}
	la.start[n] = uint16(nc)
}

// insert adds window positions [from, to) to the in-window hash chains,
// every step-th position.
func (m *matcher) insert(from, to, step int) {
	tgt := m.tgt
	to = min(to, len(tgt)-7)
	for i := max(from, m.nextIns); i < to; i += step {
		h, tag := m.tgtHash(load64(tgt, i))
		if m.prev != nil {
			m.prev[i&m.prevMask] = m.head[h]
		}
		m.head[h] = chainEntry(i, tag)
	}
	m.nextIns = max(m.nextIns, to)
}

// maxBack bounds how far a new COPY may extend backwards over instructions
// already chosen. Extending over them (and trimming or dropping them in
// emit) lets a long match found late, e.g. at the first sampled source
// position after an edit, replace the short matches that covered its start.
const maxBack = 1024

// backStop is how far back a COPY found now may start.
func (m *matcher) backStop() int {
	return max(0, m.litStart-maxBack)
}

// growOps doubles the capacity of m.ops (append's growth by a quarter for
// large slices would allocate and copy about five times the final size over
// a window with many instructions), starting at one op per 64 window bytes.
func (m *matcher) growOps() {
	ops := make([]op, len(m.ops), max(2*cap(m.ops), len(m.tgt)/64, 64))
	copy(ops, m.ops)
	m.ops = ops
}

// emit records c as the next instruction, trimming or dropping earlier
// instructions it overlaps.
func (m *matcher) emit(c match) {
	if c.start < m.litStart {
		ops := m.ops
		for len(ops) > 0 {
			last := &ops[len(ops)-1]
			if int(last.pos) >= c.start {
				ops = ops[:len(ops)-1]
				continue
			}
			if end := int(last.pos) + last.size(); end > c.start {
				last.setSize(c.start - int(last.pos))
				if last.size() < 4 {
					ops = ops[:len(ops)-1]
				}
			}
			break
		}
		m.ops = ops
	}
	if len(m.ops) == cap(m.ops) {
		m.growOps()
	}
	m.ops = append(m.ops, newOp(c.start, c.end-c.start, c.addr, c.kind))
	switch c.kind {
	case kindSrc:
		m.cache.update(uint64(c.addr))
		m.lastSrcLen = c.end - c.start
		if d := c.addr - int64(c.start); d != m.reps[0] {
			m.reps[1], m.reps[0] = m.reps[0], d
		}
		if m.minSrc < 0 || c.addr < m.minSrc {
			m.minSrc = c.addr
		}
		if e := c.addr + int64(c.end-c.start); e > m.maxSrc {
			m.maxSrc = e
		}
	case kindTgt:
		m.cache.update(m.estSegLen + uint64(c.addr))
	}
	if m.p.tgtChain > 0 && m.p.insStep > 0 {
		from := c.start
		if c.kind == kindSrc && m.p.insMax > 0 && c.end-c.start > m.p.insMax {
			// Content inside a long source COPY is found again through
			// the source; only its tail is worth in-window chains.
			from = c.end - m.p.insMax
		}
		m.insert(from, c.end, m.p.insStep)
	}
	m.litStart = c.end
}

// parse chooses the window's instructions: at every position the most
// valuable candidate (RUN, source or in-window COPY), with lazy matching,
// then the whole window's instruction list is known before encoding.
func (m *matcher) parse() {
	n := len(m.tgt)
	p := m.p
	minValue, wide := m.thresholds()
	m.localSpan, m.localMin = localSpan, localMinCopy
	if p.localWide {
		m.localMin = 4
	}
	if wide {
		m.localSpan, m.localMin = math.MaxInt, 4
	}
	i := 0
	for i+4 <= n {
		c := m.findBest(i)
		if c.value < minValue {
			if p.skipShift == 0 {
				i++
				continue
			}
			// In long unmatched stretches the full search (with the
			// in-window chains) runs only every few bytes; the positions
			// in between still probe the source index, which is cheap.
			next := i + 1 + min((i+1-m.litStart)>>p.skipShift, p.maxSkip)
			for i++; i < next && i+4 <= n; i++ {
				if m.findSrc(&c, i, load32(m.tgt, i)); c.value >= minValue {
					break
				}
			}
			if c.value < minValue {
				continue
			}
		}
		for l := 0; l < p.lazy && c.value < p.nice && i+1 < c.end; l++ {
			c2 := m.findBest(i + 1)
			if !better(c2, &c) {
				break
			}
			i++
			c = c2
		}
		// A short match may hide a longer source match starting inside it
		// whose start the sparse index did not sample: probe the source at
		// each position inside it; a longer match found there extends back
		// over it and replaces it.
		for {
			m.emit(c)
			i = c.end
			// Only worth it for short matches with a costly address (far
			// fragments); cheap ones (recent displacement, NEAR/SAME) are
			// usually the right match already.
			if c.end-c.start >= p.probeIn || c.kind == kindRun || c.end-c.start-c.value < 4 || !m.probeWorth(c.kind) {
				break
			}
			found := false
			var b match
			for j := c.start + 1; j < c.end && j+8 <= n; j++ {
				b = match{}
				if m.findSrc(&b, j, load32(m.tgt, j)); b.value >= minValue && b.end > c.end && b.value > c.value {
					found = true
					break
				}
			}
			if !found {
				break
			}
			m.probeFound[c.kind]++
			c = b
		}
	}
}

// In a window where probing inside short matches of one kind rarely finds
// a better match (executables: about one source-COPY probe in sixteen
// pays), the probes cost more than they save; after probeWarmup probes of
// a kind, if fewer than levelParams.probeRate % have paid, only one in
// probeSample is still run, which keeps measuring. (npm-typescript-tar,
// whose probes pay a third of the time or more, is unaffected; at level 6
// elf-esbuild encodes about 13 % faster for 0.14 % more delta bytes.)
const (
	probeWarmup = 256
	probeSample = 16
)

// probeWorth counts a probe inside a short match of the given kind and
// says whether to run it.
func (m *matcher) probeWorth(kind uint8) bool {
	if n, r := m.probeLoops[kind], m.p.probeRate; r > 0 && n >= probeWarmup && 100*m.probeFound[kind] < r*n {
		m.probeSkips[kind]++
		if m.probeSkips[kind]%probeSample != 0 {
			return false
		}
	}
	m.probeLoops[kind]++
	return true
}

// The local source search. Between two versions of a file, a COPY that
// ends at an edit usually resumes a few bytes further on in the source
// (bytes deleted) at a displacement the recent-displacement checks miss,
// and the sparse index often misses it too (a short stretch, or an 8-byte
// string whose indexed occurrence is elsewhere). So after a source COPY of
// at least localMinCopy bytes, for the next localSpan target bytes, the
// matcher also searches a small dense hash of the source around the
// position the last displacement predicts: every position of
// [predicted-localBack, predicted+localAhead), hashed over localHashLen
// bytes, with chains of up to levelParams.local candidates. The region is
// hashed lazily, once per displacement, so the cost follows the number of
// edits, not the size of the files.
const (
	localBits     = 12      // log2 of the head table's slots
	localRing     = 1 << 12 // chain ring (covers the whole region)
	localBack     = 128
	localAhead    = 256
	localHashLen  = 5
	localSpan     = 64
	localMinCopy  = 32
	localHashMask = 1<<(8*localHashLen) - 1
)

func localHash(v uint64) uint64 {
	return ((v << (64 - 8*localHashLen)) * 0x9E3779B97F4A7C15) >> (64 - localBits)
}

// findLocal runs the local source search at window offset i.
func (m *matcher) findLocal(best *match, i int) {
	if i-m.litStart > m.localSpan || m.lastSrcLen < m.localMin || i+8 > len(m.tgt) {
		return
	}
	src := m.src
	a := i + int(m.reps[0])
	if a < 0 || a+8 > len(src) {
		return
	}
	lo := max(0, a-localBack)
	if lo > m.lFront || lo < m.lLo {
		// A new displacement: start a new region (stale entries are
		// rejected by the range check below).
		m.lLo, m.lFront = lo, lo
	}
	hi := min(a+localAhead, len(src)-7)
	for f := m.lFront; f < hi; f++ {
		h := localHash(load64(src, f))
		m.lprev[f&(localRing-1)] = m.lhead[h]
		m.lhead[h] = int32(f + 1)
	}
	m.lFront = max(m.lFront, hi)
	tv := load64(m.tgt, i)
	cand := int(m.lhead[localHash(tv)]) - 1
	floor := max(m.lLo, m.lFront-localRing)
	for d := m.p.local; d > 0 && cand >= floor && cand < m.lFront; d-- {
		if (load64(src, cand)^tv)&localHashMask == 0 {
			// Already tried through the displacements, or cannot reach
			// past the best match's end: skip.
			dd := int64(cand) - int64(i)
			if fl := best.end - i; dd != m.reps[0] && dd != m.reps[1] &&
				(fl < localHashLen || (i+fl < len(m.tgt) && cand+fl < len(src) && src[cand+fl] == m.tgt[i+fl])) {
				m.trySrc(best, i, cand)
			}
		}
		next := int(m.lprev[cand&(localRing-1)]) - 1
		if next >= cand {
			break
		}
		cand = next
	}
}
