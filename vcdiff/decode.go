package vcdiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

// DecoderOption configures a Decoder. Options are validated when the
// decoder is created.
type DecoderOption func(*decoderOptions) error

type decoderOptions struct {
	maxWindow    int64
	maxOutput    int64
	maxAppHeader int
	maxWindows   int64
	verify       bool
}

// Default decoder limits.
const (
	// DefaultMaxAppHeader is the default cap on the application header.
	DefaultMaxAppHeader = 64 << 10
	// DefaultMaxWindows is the default cap on the number of windows: 2^26
	// windows of xdelta3's smallest window size (16 KiB) make 1 TiB.
	DefaultMaxWindows = 1 << 26
)

func defaultDecoderOptions() decoderOptions {
	return decoderOptions{
		maxWindow:    MaxWindowSize,
		maxOutput:    -1,
		maxAppHeader: DefaultMaxAppHeader,
		maxWindows:   DefaultMaxWindows,
		verify:       true,
	}
}

// WithMaxWindowSize caps the target length of each window (default 16 MiB,
// xdelta3 3.0's hard maximum; xdelta3 3.1+ may write up to 64 MiB). The
// decoder holds one target window in memory, so this bounds its memory.
// Source segments are not buffered and are bounded only by the source size,
// checked per COPY.
func WithMaxWindowSize(n int64) DecoderOption {
	return func(o *decoderOptions) error {
		if n <= 0 || n > math.MaxInt32 {
			return fmt.Errorf("%w: max window size %d (want 1..%d)", ErrInvalidOption, n, math.MaxInt32)
		}
		o.maxWindow = n
		return nil
	}
}

// WithMaxOutput caps the total decoded size; -1 (the default) means no cap.
func WithMaxOutput(n int64) DecoderOption {
	return func(o *decoderOptions) error {
		if n < -1 {
			return fmt.Errorf("%w: max output %d (want -1 or >= 0)", ErrInvalidOption, n)
		}
		o.maxOutput = n
		return nil
	}
}

// WithMaxAppHeader caps the application header length (default 64 KiB).
func WithMaxAppHeader(n int) DecoderOption {
	return func(o *decoderOptions) error {
		if n < 0 || n > 1<<30 {
			return fmt.Errorf("%w: max app header %d (want 0..2^30)", ErrInvalidOption, n)
		}
		o.maxAppHeader = n
		return nil
	}
}

// WithMaxWindows caps the number of windows (default DefaultMaxWindows).
func WithMaxWindows(n int64) DecoderOption {
	return func(o *decoderOptions) error {
		if n <= 0 {
			return fmt.Errorf("%w: max windows %d (want >= 1)", ErrInvalidOption, n)
		}
		o.maxWindows = n
		return nil
	}
}

// WithVerifyChecksum turns verification of the per-window Adler-32 on
// (the default) or off, like xdelta3 -d -n.
func WithVerifyChecksum(verify bool) DecoderOption {
	return func(o *decoderOptions) error {
		o.verify = verify
		return nil
	}
}

// A Decoder reconstructs a target from a VCDIFF patch and the source it was
// made against. It reads the patch sequentially and holds one target window
// plus that window's sections in memory. Each window's Adler-32, when
// present, is verified before any byte of the window is returned, so a wrong
// source yields ErrChecksum rather than wrong output. Errors are sticky.
//
// Conformance choices (see ../shared/docs/xdelta3-format.md §6):
//   - A window's delta encoding length must equal the bytes its header
//     fields and sections actually occupy. With minimal varints (all that
//     xdelta3 writes) this is xdelta3's own check; non-minimal varints in
//     window headers are accepted, as open-vcdiff does.
//   - Source segments may be longer than needed or extend past the source
//     file; bounds are checked per COPY. A COPY straddling the source
//     segment and the target window is rejected (as xdelta3 does).
//   - A patch with no windows (header only) decodes to empty output;
//     trailing bytes after the last window are an error.
//   - VCD_TARGET windows, custom code tables and FGK-compressed sections are
//     ErrUnsupported; a declared but unused FGK compressor is fine.
//   - Version 'S' (open-vcdiff): interleaved sections when the data and
//     address sections are empty, varint Adler-32 with seed 0.
type Decoder struct {
	opts    decoderOptions
	pr      patchReader
	hdr     Header
	src     sourceCache
	hasSrc  bool
	srcSize int64

	win int64  // windows decoded so far
	out int64  // target bytes decoded so far
	tgt []byte // the current window's target bytes
	rd  int    // bytes of tgt already returned by Read
	// Windows are pipelined: while one window's instructions run, the next
	// window's header and sections are read and its secondary sections
	// decoded on another goroutine (prepare). The two alternate between
	// sect[0] and sect[1] (and the LZMA streams keep two output buffers),
	// so the running window's sections stay intact.
	sect    [2][]byte
	flip    int                 // which sect the next prepare uses
	pending chan preparedWindow // the window being prepared, or nil
	djw     [2][3][]byte        // DJW section outputs, by sect parity
	lz      [3]lzmaStream
	ac      addrCache
	err     error // sticky error; io.EOF after the last window
}

// NewDecoder returns a decoder reading patch and copying from source, which
// holds sourceSize bytes (source may be nil when sourceSize is 0). It reads
// and validates the file header before returning.
func NewDecoder(patch io.Reader, source io.ReaderAt, sourceSize int64, opts ...DecoderOption) (*Decoder, error) {
	o := defaultDecoderOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	d := &Decoder{opts: o}
	if err := d.Reset(patch, source, sourceSize); err != nil {
		return nil, err
	}
	return d, nil
}

// Reset discards the decoder's state and starts decoding a new patch with
// the same options, reusing its buffers. Like NewDecoder it reads the file
// header and returns its error, which also becomes the sticky error.
func (d *Decoder) Reset(patch io.Reader, source io.ReaderAt, sourceSize int64) error {
	if d.pending != nil {
		<-d.pending // it uses the patch reader and the section buffers
		d.pending = nil
	}
	d.win, d.out, d.rd, d.err = 0, 0, 0, nil
	d.tgt = d.tgt[:0]
	for i := range d.lz {
		d.lz[i].reset()
	}
	if sourceSize < 0 || (source == nil && sourceSize != 0) {
		d.err = fmt.Errorf("%w: source size %d with source %v", ErrInvalidOption, sourceSize, source != nil)
		return d.err
	}
	d.hasSrc = source != nil
	d.srcSize = sourceSize
	d.src.reset(source, sourceSize)
	d.pr.reset(patch)
	h, err := d.pr.readFileHeader(d.opts.maxAppHeader)
	d.hdr = h
	if err != nil {
		d.err = err
		return err
	}
	return nil
}

// Header returns the patch's file header. AppHeader is a copy.
func (d *Decoder) Header() Header {
	h := d.hdr
	if h.AppHeader != nil {
		h.AppHeader = bytes.Clone(h.AppHeader)
	}
	return h
}

// Read reads decoded target bytes. It returns io.EOF after the last window
// has been decoded and verified.
func (d *Decoder) Read(p []byte) (int, error) {
	for d.rd == len(d.tgt) {
		if d.err != nil {
			return 0, d.err
		}
		d.err = d.nextWindow()
	}
	n := copy(p, d.tgt[d.rd:])
	d.rd += n
	return n, nil
}

// WriteTo writes the rest of the decoded target to w.
func (d *Decoder) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if d.rd < len(d.tgt) {
			n, err := w.Write(d.tgt[d.rd:])
			d.rd += n
			total += int64(n)
			if err != nil {
				return total, err
			}
			if d.rd < len(d.tgt) {
				return total, io.ErrShortWrite
			}
		}
		if d.err != nil {
			if d.err == io.EOF {
				return total, nil
			}
			return total, d.err
		}
		d.err = d.nextWindow()
	}
}

// Decode applies patch to source and appends the target to dst. On error
// the returned slice holds dst plus the windows decoded and verified before
// the failing one.
func Decode(dst, patch, source []byte, opts ...DecoderOption) ([]byte, error) {
	var src io.ReaderAt
	if source != nil {
		src = byteSource(source)
	}
	d, err := NewDecoder(bytes.NewReader(patch), src, int64(len(source)), opts...)
	if err != nil {
		return dst, err
	}
	w := sliceWriter{dst}
	_, err = d.WriteTo(&w)
	if d.pending != nil {
		<-d.pending // after an error, let the next window's preparation finish
	}
	return w.b, err
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// preparedWindow is a window whose header has been parsed and whose
// sections have been read and secondary-decoded.
type preparedWindow struct {
	w        windowHeader
	start    int64 // patch offset of the window
	sections [3][]byte
	err      error
}

// prepare reads window number win, which starts after out bytes of output,
// into sect[k] and decodes its secondary sections. It touches only the
// patch reader, sect[k] and the LZMA streams, so it can run while the
// previous window executes.
func (d *Decoder) prepare(win, out int64, k int) (p preparedWindow) {
	p.start = d.pr.off
	w, err := d.pr.readWindowHeader(int(win), &d.hdr, windowLimits{maxWindow: d.opts.maxWindow})
	if err != nil {
		p.err = err
		return p
	}
	if win >= d.opts.maxWindows {
		p.err = fmt.Errorf("%w: more than %d windows", ErrLimit, d.opts.maxWindows)
		return p
	}
	if d.opts.maxOutput >= 0 && w.tgtLen > uint64(d.opts.maxOutput-out) {
		p.err = fmt.Errorf("%w: output exceeds the cap of %d bytes in window %d", ErrLimit, d.opts.maxOutput, win)
		return p
	}
	total := int(w.dataLen + w.instLen + w.addrLen)
	if d.sect[k], err = d.pr.readFull(d.sect[k], total); err != nil {
		p.err = fmt.Errorf("vcdiff: window %d sections: %w", win, err)
		return p
	}
	sect := d.sect[k]
	p.sections = [3][]byte{
		sect[:w.dataLen],
		sect[w.dataLen : w.dataLen+w.instLen],
		sect[w.dataLen+w.instLen:],
	}
	p.err = d.secondarySections(&w, win, p.start, k, &p.sections)
	p.w = w
	return p
}

// nextWindow decodes the next window into d.tgt. It returns io.EOF at the
// clean end of the patch.
func (d *Decoder) nextWindow() error {
	d.tgt, d.rd = d.tgt[:0], 0
	var p preparedWindow
	if d.pending != nil {
		p = <-d.pending
		d.pending = nil
	} else {
		p = d.prepare(d.win, d.out, d.flip)
	}
	if p.err != nil {
		return p.err
	}
	w := &p.w
	d.flip ^= 1
	// Start on the next window. Its result goes to a buffered channel, so
	// the goroutine never blocks even if the caller abandons the decoder.
	ch := make(chan preparedWindow, 1)
	win, out, k := d.win+1, d.out+int64(w.tgtLen), d.flip
	go func() { ch <- d.prepare(win, out, k) }()
	d.pending = ch

	winStart := p.start
	d.tgt = grow(d.tgt, int(w.tgtLen))
	verify := w.hasSum && d.opts.verify
	sum, err := d.execute(w, p.sections[0], p.sections[1], p.sections[2], verify)
	if err != nil {
		var ce *CorruptInputError
		if errors.As(err, &ce) {
			ce.Offset = winStart
		}
		d.tgt = d.tgt[:0]
		return err
	}
	if verify {
		if d.hdr.Version == versionSDCH {
			sum = adlerSeed0(sum, len(d.tgt))
		}
		if sum != w.sum {
			d.tgt = d.tgt[:0]
			return fmt.Errorf("%w: window %d (target bytes %d..%d): patch says %08x, decoded %08x",
				ErrChecksum, d.win, d.out, d.out+int64(w.tgtLen), w.sum, sum)
		}
	}
	d.win++
	d.out += int64(w.tgtLen)
	return nil
}

var sectionNames = [3]string{"data", "instruction", "address"}

// parallelSecondaryMin is the compressed size from which a window's
// secondary sections are decoded concurrently (they are independent
// streams).
const parallelSecondaryMin = 32 << 10

// secondarySections decodes the window's secondary-compressed sections in
// place, concurrently when there are several large ones.
func (d *Decoder) secondarySections(w *windowHeader, win, winStart int64, k int, sections *[3][]byte) error {
	if w.delta == 0 {
		return nil
	}
	var outs [3][]byte
	var errs [3]error
	n, size := 0, 0
	for i := range sections {
		if w.delta&(1<<i) != 0 {
			n++
			size += len(sections[i])
		}
	}
	parallel := n >= 2 && size >= parallelSecondaryMin
	var wg sync.WaitGroup
	for i := range sections {
		if w.delta&(1<<i) == 0 {
			continue
		}
		if parallel {
			wg.Go(func() { outs[i], errs[i] = d.secondary(i, k, sections[i], w.tgtLen) })
		} else {
			outs[i], errs[i] = d.secondary(i, k, sections[i], w.tgtLen)
		}
	}
	wg.Wait()
	off := winStart + w.headerSize
	for i := range sections {
		if w.delta&(1<<i) != 0 {
			if errs[i] != nil {
				return wrapSectionErr(errs[i], win, off, i)
			}
			off += int64(len(sections[i]))
			sections[i] = outs[i]
		} else {
			off += int64(len(sections[i]))
		}
	}
	return nil
}

func wrapSectionErr(err error, win, off int64, i int) error {
	if errors.Is(err, ErrLimit) || errors.Is(err, ErrUnsupported) {
		return fmt.Errorf("vcdiff: window %d %s section: %w", win, sectionNames[i], err)
	}
	return &CorruptInputError{Offset: off, Window: int(win), Reason: sectionNames[i] + " section: " + err.Error()}
}

// secondary decodes a secondary-compressed section (index i of a window
// prepared into buffer set par): varint(decoded size)
// followed by the compressor's bytes.
func (d *Decoder) secondary(i, par int, b []byte, tgtLen uint64) ([]byte, error) {
	n, k, err := parseVarint(b)
	if err != nil || k > maxVarintLen {
		return nil, errors.New("bad decoded-size prefix")
	}
	if n == 0 {
		return nil, errors.New("decoded size 0")
	}
	if lim := sectionLimit(tgtLen); n > lim {
		return nil, fmt.Errorf("%w: decoded size %d (max %d for this window)", ErrLimit, n, lim)
	}
	payload := b[k:]
	switch d.hdr.Secondary {
	case SecondaryLZMA:
		// The stream owns the decoded bytes until its next section.
		return d.lz[i].decode(payload, int(n), nil)
	case SecondaryDJW:
		// Into the buffer set of this window's parity (see Decoder.sect).
		out, err := djwDecodeInto(d.djw[par][i], payload, int(n))
		if err != nil {
			return nil, err
		}
		d.djw[par][i] = out
		return out, nil
	default:
		return nil, fmt.Errorf("%w: secondary compressor ID %d", ErrUnsupported, d.hdr.Secondary)
	}
}

// adlerSeed0 converts a standard Adler-32 (seed 1) of n bytes into the
// seed-0 variant open-vcdiff writes.
func adlerSeed0(sum uint32, n int) uint32 {
	const mod = 65521
	a := (uint64(sum&0xffff) + mod - 1) % mod
	b := (uint64(sum>>16) + mod - uint64(n%mod)) % mod
	return uint32(b<<16 | a)
}

// cursor reads one section during instruction execution.
type cursor struct {
	b []byte
	i int
}

func (c *cursor) varint() (uint64, bool) {
	var v uint64
	for k := 0; k < maxVarintLen && c.i < len(c.b); k++ {
		x := c.b[c.i]
		c.i++
		if v > (1<<64-1)>>7 {
			return 0, false
		}
		v = v<<7 | uint64(x&0x7f)
		if x&0x80 == 0 {
			return v, true
		}
	}
	return 0, false
}

// execute runs the window's instructions into d.tgt[:w.tgtLen].
func (d *Decoder) execute(w *windowHeader, data, inst, addr []byte, verify bool) (uint32, error) {
	bad := func(format string, args ...any) (uint32, error) {
		return 0, &CorruptInputError{Window: int(d.win), Reason: fmt.Sprintf(format, args...)}
	}
	// The checksum is taken sumChunk bytes at a time as the window is
	// produced, while those bytes are still in the cache.
	sum, summed := uint32(1), uint64(0)
	dc, ic, acur := &cursor{b: data}, &cursor{b: inst}, &cursor{b: addr}
	interleaved := d.hdr.Version == versionSDCH && w.dataLen == 0 && w.addrLen == 0
	if interleaved {
		dc, acur = ic, ic
	}
	tgt := d.tgt
	tgtLen := uint64(len(tgt))
	segLen := w.segLen
	var here uint64 // output position within the target window
	d.ac.reset()
	table := &defaultCodeTable
	for ic.i < len(ic.b) {
		op := ic.b[ic.i]
		ic.i++
		e := &table[op]
		for half := 0; half < 2; half++ {
			typ, size, mode := e.typ1, e.size1, e.mode1
			if half == 1 {
				typ, size, mode = e.typ2, e.size2, e.mode2
			}
			if typ == instNoop {
				continue
			}
			s := uint64(size)
			if size == 0 {
				var ok bool
				if s, ok = ic.varint(); !ok {
					return bad("bad or truncated instruction size (opcode %d)", op)
				}
			}
			if s > tgtLen-here {
				return bad("instruction of size %d overruns the %d-byte target window at %d", s, tgtLen, here)
			}
			switch typ {
			case instAdd:
				if s > uint64(len(dc.b)-dc.i) {
					return bad("ADD of %d bytes runs past the data section", s)
				}
				copy(tgt[here:here+s], dc.b[dc.i:])
				dc.i += int(s)
			case instRun:
				if dc.i >= len(dc.b) {
					return bad("RUN runs past the data section")
				}
				c := dc.b[dc.i]
				dc.i++
				fill(tgt[here:here+s], c)
			case instCopy:
				a, err := d.copyAddr(mode, segLen+here, acur)
				if err != nil {
					return bad("%v", err)
				}
				if a < segLen {
					if s > segLen-a {
						return bad("COPY of %d bytes at source segment offset %d runs past the %d-byte segment", s, a, segLen)
					}
					if err := d.copySource(tgt[here:here+s], w.segPos+a); err != nil {
						return 0, err
					}
				} else {
					t := a - segLen // < here, checked by copyAddr
					if t+s <= here {
						copy(tgt[here:here+s], tgt[t:t+s])
					} else {
						// Overlapping copy: repeat the period here-t. Each
						// pass doubles the replicated span.
						dst, rem := here, s
						for rem > 0 {
							n := uint64(copy(tgt[dst:dst+rem], tgt[t:dst]))
							dst += n
							rem -= n
						}
					}
				}
			default:
				return bad("opcode %d has an invalid instruction type", op)
			}
			here += s
			if verify && here-summed >= sumChunk {
				sum = adlerUpdate(sum, tgt[summed:here])
				summed = here
			}
		}
	}
	if here != tgtLen {
		return bad("instructions produce %d bytes, the window declares %d", here, tgtLen)
	}
	if !interleaved {
		if dc.i != len(dc.b) {
			return bad("%d unused bytes in the data section", len(dc.b)-dc.i)
		}
		if acur.i != len(acur.b) {
			return bad("%d unused bytes in the address section", len(acur.b)-acur.i)
		}
	}
	if verify {
		sum = adlerUpdate(sum, tgt[summed:])
	}
	return sum, nil
}

func fill(b []byte, c byte) {
	if len(b) == 0 {
		return
	}
	b[0] = c
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// copyAddr decodes a COPY address in the given mode. here is the current
// position in the combined source-segment + target address space.
func (d *Decoder) copyAddr(mode uint8, here uint64, c *cursor) (uint64, error) {
	var a uint64
	switch {
	case mode == modeSelf:
		v, ok := c.varint()
		if !ok {
			return 0, errors.New("bad or truncated COPY address")
		}
		a = v
	case mode == modeHere:
		v, ok := c.varint()
		if !ok {
			return 0, errors.New("bad or truncated COPY address")
		}
		if v > here {
			return 0, fmt.Errorf("HERE address %d before the start of the window (here %d)", v, here)
		}
		a = here - v
	case mode < modeSame0:
		v, ok := c.varint()
		if !ok {
			return 0, errors.New("bad or truncated COPY address")
		}
		a = d.ac.near[mode-modeNear0] + v
		if a < v {
			return 0, errors.New("NEAR address overflows")
		}
	case mode < numModes:
		if c.i >= len(c.b) {
			return 0, errors.New("truncated SAME address")
		}
		a = d.ac.same[int(mode-modeSame0)*256+int(c.b[c.i])]
		c.i++
	default:
		return 0, fmt.Errorf("address mode %d is invalid", mode)
	}
	if a >= here {
		return 0, fmt.Errorf("COPY address %d is not before the current position %d", a, here)
	}
	d.ac.update(a)
	return a, nil
}

// copySource fills dst from the source at absolute offset off.
func (d *Decoder) copySource(dst []byte, off uint64) error {
	if len(dst) == 0 {
		return nil
	}
	if !d.hasSrc {
		return fmt.Errorf("%w (window %d copies from source offset %d)", ErrSourceRequired, d.win, off)
	}
	if off > uint64(d.srcSize) || uint64(len(dst)) > uint64(d.srcSize)-off {
		return fmt.Errorf("%w: window %d copies %d bytes at offset %d, the source has %d",
			ErrSourceTooShort, d.win, len(dst), off, d.srcSize)
	}
	return d.src.readAt(dst, int64(off))
}

// adlerSum returns the Adler-32 of p, like hash/adler32.Checksum but several
// times faster: eight bytes per step in 16-bit SWAR lanes, folded into the
// two sums every 128 bytes. For a block of K words the first sum gains the
// byte total, and the second gains 8K times the first plus
// sum(byte * (8K - index)) = 8 * sum((K-k) * wordsum_k) - sum(j * byte_j),
// k the word and j the byte within it; the prefix sums of the lane sums
// (b below) give the first term, a dot product of the lane sums the second.
func adlerSum(p []byte) uint32 { return adlerUpdate(1, p) }

// adlerUpdate returns the Adler-32 of the bytes whose Adler-32 is adler
// followed by p.
func adlerUpdate(adler uint32, p []byte) uint32 {
	const (
		mod   = 65521
		lanes = 0x00FF00FF00FF00FF
		lo32  = 0x0000FFFF0000FFFF
		// Lane weights for the dot product, reversed so that the product's
		// top 16 bits hold the sum: even bytes 0,2,4,6 and odd 1,3,5,7.
		wEven = 6 | 4<<16 | 2<<32 | 0<<48
		wOdd  = 7 | 5<<16 | 3<<32 | 1<<48
	)
	s1, s2 := uint64(adler&0xFFFF), uint64(adler>>16)
	for len(p) >= 8 {
		k := min(len(p)/8, 16) // lanes stay below 2^16: b <= 255*16*17/2
		var a0, a1, b0, b1 uint64
		q := p[:8*k]
		p = p[8*k:]
		for ; len(q) >= 16; q = q[16:] {
			w := binary.LittleEndian.Uint64(q)
			x := binary.LittleEndian.Uint64(q[8:])
			a0 += w & lanes
			a1 += w >> 8 & lanes
			b0 += a0
			b1 += a1
			a0 += x & lanes
			a1 += x >> 8 & lanes
			b0 += a0
			b1 += a1
		}
		if len(q) == 8 {
			w := binary.LittleEndian.Uint64(q)
			a0 += w & lanes
			a1 += w >> 8 & lanes
			b0 += a0
			b1 += a1
		}
		sum := (a0 + a1) * 0x0001000100010001 >> 48 // lane sums <= 8*16*255
		hb := b0&lo32 + b0>>16&lo32 + b1&lo32 + b1>>16&lo32
		hb = hb&0xFFFFFFFF + hb>>32
		dot := a0*wEven>>48 + a1*wOdd>>48
		s2 = (s2 + 8*uint64(k)*s1 + 8*hb - dot) % mod
		s1 = (s1 + sum) % mod
	}
	for _, c := range p {
		s1 += uint64(c)
		s2 += s1
	}
	return uint32(s2%mod)<<16 | uint32(s1%mod)
}
