package vcdiff

import (
	"bufio"
	"fmt"
	"io"
)

// Header is the VCDIFF file header of a patch.
type Header struct {
	// Version is the version byte: 0 for RFC 3284 / xdelta3 patches, 'S'
	// for open-vcdiff's extended format.
	Version byte
	// Secondary is the secondary compressor ID (SecondaryNone,
	// SecondaryDJW, SecondaryLZMA or SecondaryFGK).
	Secondary int
	// AppHeader is the xdelta3 application header, or nil when absent.
	// It is opaque data written by the encoder; xdelta3 puts file names in
	// it, which must never be used as paths without the user's consent.
	AppHeader []byte
}

// patchReader reads the patch stream byte-wise through a bufio.Reader and
// counts the bytes consumed, so errors can name their offset.
type patchReader struct {
	br  *bufio.Reader
	off int64
}

func (p *patchReader) reset(r io.Reader) {
	if p.br == nil {
		p.br = bufio.NewReaderSize(r, 64<<10)
	} else {
		p.br.Reset(r)
	}
	p.off = 0
}

func (p *patchReader) readByte() (byte, error) {
	c, err := p.br.ReadByte()
	if err != nil {
		return 0, err
	}
	p.off++
	return c, nil
}

// readVarint reads one VCDIFF integer (big-endian base 128). It rejects
// encodings longer than maxVarintLen bytes and values above 64 bits. EOF
// inside the integer is io.ErrUnexpectedEOF; EOF before it is io.EOF.
func (p *patchReader) readVarint() (uint64, error) {
	var v uint64
	for i := 0; i < maxVarintLen; i++ {
		c, err := p.readByte()
		if err != nil {
			if err == io.EOF && i > 0 {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if v > (1<<64-1)>>7 {
			return 0, errVarintOverflow
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errVarintTooLong
}

// readFull reads exactly n bytes into buf (reusing its capacity) and
// returns the filled slice. The buffer grows only as input actually
// arrives, so a huge declared length in a short patch costs no more memory
// than the patch itself.
func (p *patchReader) readFull(buf []byte, n int) ([]byte, error) {
	buf = buf[:0]
	for len(buf) < n {
		want := n - len(buf)
		if free := cap(buf) - len(buf); free < want {
			step := max(len(buf), 64<<10)
			if step < want {
				want = step
			}
			if free < want {
				nb := make([]byte, len(buf), len(buf)+want)
				copy(nb, buf)
				buf = nb
			}
		}
		m, err := io.ReadFull(p.br, buf[len(buf):len(buf)+want])
		p.off += int64(m)
		buf = buf[:len(buf)+m]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

// readFileHeader parses and validates the file header.
func (p *patchReader) readFileHeader(maxAppHeader int) (Header, error) {
	var h Header
	bad := func(format string, args ...any) error {
		return &CorruptInputError{Offset: p.off, Window: -1, Reason: fmt.Sprintf(format, args...)}
	}
	eof := func(err error) error {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	var magic [4]byte
	for i := range magic {
		c, err := p.readByte()
		if err != nil {
			if err == io.EOF && i < 3 {
				return h, fmt.Errorf("%w (patch is only %d bytes)", ErrFormat, i)
			}
			return h, eof(err)
		}
		magic[i] = c
	}
	if magic[0] != magic0 || magic[1] != magic1 || magic[2] != magic2 {
		return h, fmt.Errorf("%w (bad magic % x)", ErrFormat, magic[:3])
	}
	h.Version = magic[3]
	if h.Version != versionRFC && h.Version != versionSDCH {
		return h, fmt.Errorf("%w: VCDIFF version byte 0x%02x", ErrUnsupported, h.Version)
	}
	ind, err := p.readByte()
	if err != nil {
		return h, eof(err)
	}
	allowed := byte(hdrSecondary | hdrCodeTable | hdrAppHeader)
	if h.Version == versionSDCH {
		allowed = hdrSecondary | hdrCodeTable
	}
	if ind&^allowed != 0 {
		return h, bad("unknown header indicator bits 0x%02x", ind&^allowed)
	}
	if ind&hdrSecondary != 0 {
		id, err := p.readByte()
		if err != nil {
			return h, eof(err)
		}
		switch id {
		case SecondaryDJW, SecondaryLZMA, SecondaryFGK:
			h.Secondary = int(id)
		default:
			return h, fmt.Errorf("%w: secondary compressor ID %d", ErrUnsupported, id)
		}
	}
	if ind&hdrCodeTable != 0 {
		return h, fmt.Errorf("%w: custom code table (VCD_CODETABLE)", ErrUnsupported)
	}
	if ind&hdrAppHeader != 0 {
		n, err := p.readVarint()
		if err != nil {
			if err == errVarintOverflow || err == errVarintTooLong {
				return h, bad("application header length: %v", err)
			}
			return h, eof(err)
		}
		if n > uint64(maxAppHeader) {
			return h, fmt.Errorf("%w: application header of %d bytes (max %d)", ErrLimit, n, maxAppHeader)
		}
		buf, err := p.readFull(nil, int(n))
		if err != nil {
			return h, err
		}
		h.AppHeader = buf
	}
	return h, nil
}

// windowHeader is the parsed header of one window.
type windowHeader struct {
	indicator  byte
	segLen     uint64 // source segment length (0 without VCD_SOURCE)
	segPos     uint64 // source segment position
	enclen     uint64
	tgtLen     uint64
	delta      byte
	dataLen    uint64 // stored section lengths
	instLen    uint64
	addrLen    uint64
	hasSum     bool
	sum        uint32
	headerSize int64 // bytes from the window indicator to the first section byte
}

// windowLimits are the caps applied while parsing a window header.
type windowLimits struct {
	maxWindow int64 // cap on the target window length
}

// sectionLimit bounds the stored and decoded size of each section of a
// window with target length tgtLen. Real encoders stay far below it; only
// hand-made patches full of zero-size instructions could exceed it.
func sectionLimit(tgtLen uint64) uint64 { return 4*tgtLen + 64<<10 }

// maxSegment bounds source segment lengths. The segment is never buffered
// (copies read the source on demand), so the only concern is arithmetic
// overflow; 2^62 keeps every sum of two values below 2^64.
const maxSegment = 1 << 62

// readWindowHeader parses a window header. It returns io.EOF if the patch
// ends cleanly before the window indicator. version and secondary come from
// the file header.
func (p *patchReader) readWindowHeader(win int, h *Header, lim windowLimits) (windowHeader, error) {
	var w windowHeader
	start := p.off
	ind, err := p.readByte()
	if err != nil {
		return w, err // io.EOF: clean end of patch
	}
	w.indicator = ind
	bad := func(format string, args ...any) error {
		return &CorruptInputError{Offset: p.off, Window: win, Reason: fmt.Sprintf(format, args...)}
	}
	varint := func(what string) (uint64, error) {
		v, err := p.readVarint()
		switch err {
		case nil:
			return v, nil
		case io.EOF:
			return 0, io.ErrUnexpectedEOF
		case errVarintOverflow, errVarintTooLong:
			return 0, bad("%s: %v", what, err)
		}
		return 0, err
	}
	if ind&^byte(winSource|winTarget|winAdler) != 0 {
		return w, bad("unknown window indicator bits 0x%02x", ind)
	}
	if ind&winSource != 0 && ind&winTarget != 0 {
		return w, bad("window sets both VCD_SOURCE and VCD_TARGET")
	}
	if ind&winTarget != 0 {
		return w, fmt.Errorf("%w: VCD_TARGET window %d (copies from earlier target output)", ErrUnsupported, win)
	}
	if ind&winSource != 0 {
		if w.segLen, err = varint("source segment length"); err != nil {
			return w, err
		}
		if w.segPos, err = varint("source segment position"); err != nil {
			return w, err
		}
		if w.segLen > maxSegment || w.segPos > maxSegment {
			return w, bad("source segment length %d at position %d is out of range", w.segLen, w.segPos)
		}
	}
	if w.enclen, err = varint("delta encoding length"); err != nil {
		return w, err
	}
	encStart := p.off
	if w.tgtLen, err = varint("target window length"); err != nil {
		return w, err
	}
	if w.tgtLen > uint64(lim.maxWindow) {
		return w, fmt.Errorf("%w: window %d target length %d exceeds the window cap %d", ErrLimit, win, w.tgtLen, lim.maxWindow)
	}
	if w.delta, err = p.readByte(); err != nil {
		return w, eofToUnexpected(err)
	}
	if w.delta&^byte(deltaData|deltaInst|deltaAddr) != 0 {
		return w, bad("unknown delta indicator bits 0x%02x", w.delta)
	}
	if w.delta != 0 && h.Secondary == SecondaryNone {
		return w, bad("delta indicator 0x%02x set but the patch declares no secondary compressor", w.delta)
	}
	if w.dataLen, err = varint("data section length"); err != nil {
		return w, err
	}
	if w.instLen, err = varint("instruction section length"); err != nil {
		return w, err
	}
	if w.addrLen, err = varint("address section length"); err != nil {
		return w, err
	}
	lim2 := sectionLimit(w.tgtLen)
	if w.dataLen > lim2 || w.instLen > lim2 || w.addrLen > lim2 {
		return w, fmt.Errorf("%w: window %d sections (%d, %d, %d bytes) are too large for a %d-byte target window",
			ErrLimit, win, w.dataLen, w.instLen, w.addrLen, w.tgtLen)
	}
	if ind&winAdler != 0 {
		w.hasSum = true
		if h.Version == versionSDCH {
			v, err := varint("checksum")
			if err != nil {
				return w, err
			}
			if v > 0xffffffff {
				return w, bad("checksum %d does not fit 32 bits", v)
			}
			w.sum = uint32(v)
		} else {
			for range 4 {
				c, err := p.readByte()
				if err != nil {
					return w, eofToUnexpected(err)
				}
				w.sum = w.sum<<8 | uint32(c)
			}
		}
	}
	// enclen policy: it must equal the bytes actually used by the fields
	// after it plus the three sections. With minimal varints (all xdelta3
	// writes) this is exactly xdelta3's check; non-minimal header varints
	// are accepted, as open-vcdiff does.
	if got := uint64(p.off-encStart) + w.dataLen + w.instLen + w.addrLen; got != w.enclen {
		return w, bad("delta encoding length %d does not match the window's %d bytes", w.enclen, got)
	}
	w.headerSize = p.off - start
	return w, nil
}

func eofToUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
