package vcdiff

import (
	"fmt"
	"io"
)

// Source access for COPY instructions. Real patches make many small copies
// (tens of bytes each for database dumps) scattered over the source, so
// reading the source io.ReaderAt once per copy would cost a system call
// each. sourceCache keeps 4 KiB source blocks in one lazily touched slab:
// a source of up to srcCacheMax bytes gets a slot per block, so each block
// is read at most once; a larger one srcCacheMax bytes of slots in sets of
// srcCacheWays, least recently used evicted first. Only the pages of blocks
// actually read become resident, so the cache costs at most srcCacheMax
// bytes (xdelta3's decoder keeps up to its -B, 64 MiB by default). Copies
// of a block or more read the source directly. In-memory sources (Decode)
// are sliced directly.

const (
	srcBlockShift = 12
	srcBlockSize  = 1 << srcBlockShift
	srcCacheMax   = 16 << 20
	srcCacheWays  = 4
	srcDirectMin  = srcBlockSize // copies this large read the source directly
)

// byteSource is an in-memory source; the cache slices it directly.
type byteSource []byte

func (b byteSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vcdiff: negative offset %d", off)
	}
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

type sourceCache struct {
	r      io.ReaderAt
	size   int64
	direct []byte // non-nil for in-memory sources
	isMem  bool
	// tags[i] is the source block held by slot i, or -1. A source of at
	// most srcCacheMax bytes gets one slot per block (slot = block); a
	// larger one srcCacheMax>>srcBlockShift slots in sets of srcCacheWays
	// (set = block & setMask, slots set*srcCacheWays ...).
	tags    []int64
	setMask int64    // number of sets - 1, or -1 when slot = block
	used    []uint32 // per slot: the tick of its last use (set-associative mode)
	tick    uint32
	// slab holds the slots' bytes contiguously (slot i at i<<srcBlockShift),
	// allocated at the first cached read; pages never touched cost no
	// memory.
	slab []byte
}

func (c *sourceCache) reset(r io.ReaderAt, size int64) {
	c.r, c.size, c.direct, c.isMem = r, size, nil, false
	if b, ok := r.(byteSource); ok {
		c.direct, c.isMem = b, true
		if int64(len(b)) < size {
			c.size = int64(len(b))
		}
	}
	blocks := (c.size + srcBlockSize - 1) >> srcBlockShift
	n := int(max(blocks, 1))
	c.setMask = -1
	if blocks > srcCacheMax>>srcBlockShift {
		n = srcCacheMax >> srcBlockShift
		c.setMask = int64(n/srcCacheWays - 1)
	}
	if cap(c.tags) >= n {
		c.tags = c.tags[:n]
	} else {
		c.tags = make([]int64, n)
	}
	for i := range c.tags {
		c.tags[i] = -1
	}
	if c.setMask >= 0 {
		if cap(c.used) >= n {
			c.used = c.used[:n]
			clear(c.used)
		} else {
			c.used = make([]uint32, n)
		}
		c.tick = 0
	}
	if len(c.slab) < n<<srcBlockShift {
		c.slab = nil // allocated on first use
	}
}

// slot returns the slot that holds or will hold source block idx, and
// whether it holds it already.
func (c *sourceCache) slot(idx int64) (int64, bool) {
	if c.setMask < 0 {
		return idx, c.tags[idx] == idx
	}
	c.tick++
	if c.tick == 0 {
		// The clock wrapped: age every slot alike.
		clear(c.used)
		c.tick = 1
	}
	base := (idx & c.setMask) * srcCacheWays
	victim := base
	for s := base; s < base+srcCacheWays; s++ {
		if c.tags[s] == idx {
			c.used[s] = c.tick
			return s, true
		}
		if c.used[s] < c.used[victim] {
			victim = s
		}
	}
	c.used[victim] = c.tick
	return victim, false
}

// readAt fills dst with source bytes starting at off. The caller has checked
// that off+len(dst) <= c.size.
func (c *sourceCache) readAt(dst []byte, off int64) error {
	if c.isMem {
		copy(dst, c.direct[off:])
		return nil
	}
	if len(dst) >= srcDirectMin {
		return c.fetch(dst, off)
	}
	if c.slab == nil {
		c.slab = make([]byte, len(c.tags)<<srcBlockShift)
	}
	for len(dst) > 0 {
		idx := off >> srcBlockShift
		slot, hit := c.slot(idx)
		data := c.slab[slot<<srcBlockShift : (slot+1)<<srcBlockShift]
		if !hit {
			start := idx << srcBlockShift
			n := min(int64(srcBlockSize), c.size-start)
			c.tags[slot] = -1
			if err := c.fetch(data[:n], start); err != nil {
				return err
			}
			c.tags[slot] = idx
		}
		k := copy(dst, data[off-idx<<srcBlockShift:])
		dst = dst[k:]
		off += int64(k)
	}
	return nil
}

func (c *sourceCache) fetch(dst []byte, off int64) error {
	n, err := c.r.ReadAt(dst, off)
	if n == len(dst) {
		return nil
	}
	if err == nil || err == io.EOF {
		return fmt.Errorf("%w: source ended at %d reading offset %d", ErrSourceTooShort, off+int64(n), off)
	}
	return fmt.Errorf("vcdiff: reading source at offset %d: %w", off, err)
}
