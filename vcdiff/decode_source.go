package vcdiff

import (
	"fmt"
	"io"
)

// Source access for COPY instructions. Real patches make many small copies
// (tens of bytes each for database dumps) scattered over the source, so
// reading the source io.ReaderAt once per copy would cost a system call
// each. sourceCache keeps a direct-mapped set of 16 KiB source blocks, with
// as many slots as the source has blocks up to srcCacheMax (like xdelta3's
// -B source buffer, 64 MiB by default), allocated only as they are touched.
// Copies of a block or more read the source directly. In-memory sources
// (Decode) are sliced directly.

const (
	srcBlockShift = 14
	srcBlockSize  = 1 << srcBlockShift
	srcCacheMax   = 32 << 20
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

type srcBlock struct {
	idx  int64 // block index, or -1 when empty
	data []byte
}

type sourceCache struct {
	r      io.ReaderAt
	size   int64
	direct []byte // non-nil for in-memory sources
	isMem  bool
	slots  []srcBlock
}

func (c *sourceCache) reset(r io.ReaderAt, size int64) {
	c.r, c.size, c.direct, c.isMem = r, size, nil, false
	if b, ok := r.(byteSource); ok {
		c.direct, c.isMem = b, true
		if int64(len(b)) < size {
			c.size = int64(len(b))
		}
	}
	n := 1
	for n < srcCacheMax>>srcBlockShift && int64(n)<<srcBlockShift < c.size {
		n <<= 1
	}
	if cap(c.slots) >= n {
		c.slots = c.slots[:n]
	} else {
		c.slots = make([]srcBlock, n)
	}
	for i := range c.slots {
		c.slots[i].idx = -1
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
	for len(dst) > 0 {
		idx := off >> srcBlockShift
		s := &c.slots[idx&int64(len(c.slots)-1)]
		if s.idx != idx {
			start := idx << srcBlockShift
			n := min(int64(srcBlockSize), c.size-start)
			if s.data == nil {
				s.data = make([]byte, srcBlockSize)
			}
			s.idx = -1
			if err := c.fetch(s.data[:n], start); err != nil {
				return err
			}
			s.data = s.data[:n]
			s.idx = idx
		}
		k := copy(dst, s.data[off-idx<<srcBlockShift:])
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
