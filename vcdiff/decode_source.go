package vcdiff

import (
	"fmt"
	"io"
)

// Source access for COPY instructions. Real patches make many small copies
// (tens of bytes each for database dumps) scattered over the source, so
// reading the source io.ReaderAt once per copy would cost a system call
// each. sourceCache keeps 16 KiB source blocks in one lazily touched slab:
// a source of up to srcCacheMax bytes (xdelta3's default -B source buffer,
// 64 MiB) gets a slot per block, so each block is read at most once; a
// larger one a direct-mapped set of slots. Only the pages of blocks actually
// read become resident. Copies of a block or more read the source directly.
// In-memory sources (Decode) are sliced directly.

const (
	srcBlockShift = 14
	srcBlockSize  = 1 << srcBlockShift
	srcCacheMax   = 64 << 20
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
	// larger one a power-of-two number of slots, direct-mapped.
	tags []int64
	mask int64 // len(tags)-1 when direct-mapped, else -1 (slot = block)
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
	c.mask = -1
	if blocks > srcCacheMax>>srcBlockShift {
		n = srcCacheMax >> srcBlockShift
		c.mask = int64(n - 1)
	}
	if cap(c.tags) >= n {
		c.tags = c.tags[:n]
	} else {
		c.tags = make([]int64, n)
	}
	for i := range c.tags {
		c.tags[i] = -1
	}
	if len(c.slab) < n<<srcBlockShift {
		c.slab = nil // allocated on first use
	}
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
		slot := idx
		if c.mask >= 0 {
			slot &= c.mask
		}
		data := c.slab[slot<<srcBlockShift : (slot+1)<<srcBlockShift]
		if c.tags[slot] != idx {
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
