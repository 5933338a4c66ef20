package vcdiff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ulikunitz/xz/lzma"
)

// RecodeOption configures a Recoder. Options are validated when the
// Recoder is created.
type RecodeOption func(*recodeOptions) error

type recodeOptions struct {
	secondary int
	level     int
	maxWindow int64
}

// Secondary compression effort levels (WithRecodeLevel).
const (
	DefaultRecodeLevel = 6
	BestRecodeLevel    = 9
)

func defaultRecodeOptions() recodeOptions {
	return recodeOptions{secondary: SecondaryLZMA, level: DefaultRecodeLevel, maxWindow: MaxWindowSize}
}

// WithRecodeMaxWindowSize caps the target length of each input window
// (default 16 MiB, like the decoder's WithMaxWindowSize). Each section is
// at most about 4 times that, which bounds the Recoder's memory and the
// work a hostile patch can cause.
func WithRecodeMaxWindowSize(n int64) RecodeOption {
	return func(o *recodeOptions) error {
		if n <= 0 || n > 1<<31-1 {
			return fmt.Errorf("%w: max window size %d (want 1..%d)", ErrInvalidOption, n, 1<<31-1)
		}
		o.maxWindow = n
		return nil
	}
}

// WithRecodeSecondary selects the secondary compressor of the output:
// SecondaryLZMA (the default, what stock xdelta3 3.0.11 writes by default),
// SecondaryDJW, or SecondaryNone (writes a plain patch, removing any
// secondary compression of the input).
func WithRecodeSecondary(id int) RecodeOption {
	return func(o *recodeOptions) error {
		switch id {
		case SecondaryNone, SecondaryDJW, SecondaryLZMA:
			o.secondary = id
			return nil
		}
		return fmt.Errorf("%w: secondary compressor %d (want SecondaryNone, SecondaryDJW or SecondaryLZMA)", ErrInvalidOption, id)
	}
}

// WithRecodeLevel sets the secondary compression effort from 1 (fastest)
// to 9 (smallest); the default is DefaultRecodeLevel (6).
//
// LZMA: every level uses a 256 KiB dictionary like xdelta3 (one per
// section type). Levels 1-6 are currently the same: the fast mode of this
// package's LZMA2 encoder (lzma_fast.go), and sections of 64 KiB or more with an order-0 entropy
// above 7.99 bits per byte are stored without trying LZMA (compressed file
// contents: LZMA saved about 0.1 % on .tgz at 10x the time). Levels 7-9
// use its optimal parse (about 5 % smaller sections than levels 1-6 at
// about a quarter of their speed), try those
// high-entropy sections too, and try three literal/position settings
// (lc/lp/pb 3/0/2, 1/0/0, 4/0/0) whenever a section type's stream starts,
// keeping the smallest (about 3x the CPU for that section).
// DJW: the level is xdelta3's djw level for one section; 7-9 also try
// several Huffman tables per section and keep the smallest result.
func WithRecodeLevel(l int) RecodeOption {
	return func(o *recodeOptions) error {
		if l < 1 || l > 9 {
			return fmt.Errorf("%w: recode level %d (want 1..9)", ErrInvalidOption, l)
		}
		o.level = l
		return nil
	}
}

// lzmaDict is the LZMA dictionary size, xdelta3's. Larger dictionaries
// (1 and 8 MiB) made the sql-dump and elf-esbuild patches 0.0-0.2 %
// larger with ulikunitz/xz's encoder (measured before this package had its
// own), and cost memory.
const lzmaDict = 256 << 10

// lzmaOptimalLevel is the lowest recode level that uses lzmaEncoder.
const lzmaOptimalLevel = 7

// lzmaParams returns the LZMA dictionary size and the literal/position
// settings tried for a fresh stream at a level.
func lzmaParams(level int) (dictCap int, props []lzma.Properties) {
	if level <= 6 {
		return lzmaDict, []lzma.Properties{lzmaDefaultProps}
	}
	return lzmaDict, lzmaTrialProps
}

// A Recoder rewrites a VCDIFF patch with secondary compression, like
// `xdelta3 recode`. The patch is written to it as a byte stream; the
// Recoder writes the same patch to dst with each window's data,
// instruction and address sections compressed by the chosen secondary
// compressor wherever that makes them smaller. Instructions, addresses,
// source segments and checksums are unchanged, so the output decodes to
// exactly the same target.
//
// The output is in the framing stock xdelta3 3.0.11 decodes: the file
// header's VCD_SECONDARY bit and compressor ID, per-window delta indicator
// bits, stored section lengths and a recomputed window length. A section
// is compressed only when its stored form is smaller than the raw section,
// so no window grows (the file header grows by one byte).
//
// The input may be any RFC 3284 patch with the default code table as this
// package's encoder or xdelta3 writes it, including patches that already
// use DJW or LZMA secondary compression (their sections are decompressed
// first, so recoding converts between compressors). open-vcdiff's format
// ('S' version byte) and FGK sections are not supported.
//
// Memory is O(window): the Recoder buffers one input window, its output
// and, for LZMA, one LZMA2 encoder per section type (dictionary size set by
// WithRecodeLevel). Windows are processed in order as they complete; large
// windows compress their three sections concurrently.
type Recoder struct {
	opts recodeOptions
	dst  io.Writer

	pr      patchReader
	rd      bytes.Reader
	buf     []byte // input not yet consumed
	gotHdr  bool
	hdr     Header // input file header
	wroteH  bool
	win     int64
	inLZMA  [3]lzmaStream // input LZMA section decoders
	dec     [3][]byte     // decoded input sections
	enc     [3]sectionEncoder
	stored  [3][]byte // output sections
	out     []byte
	err     error
	closed  bool
	inBytes int64
}

// NewRecoder returns a Recoder writing the recoded patch to dst.
func NewRecoder(dst io.Writer, opts ...RecodeOption) (*Recoder, error) {
	o := defaultRecodeOptions()
	for _, f := range opts {
		if f == nil {
			continue
		}
		if err := f(&o); err != nil {
			return nil, err
		}
	}
	r := &Recoder{opts: o}
	r.Reset(dst)
	return r, nil
}

// Reset discards the Recoder's state and starts a new patch to dst with
// the same options.
func (r *Recoder) Reset(dst io.Writer) {
	r.dst = dst
	r.buf = r.buf[:0]
	r.gotHdr, r.wroteH, r.closed = false, false, false
	r.hdr = Header{}
	r.win, r.inBytes = 0, 0
	r.err = nil
	for i := range r.inLZMA {
		r.inLZMA[i].reset()
	}
	for i := range r.enc {
		switch r.opts.secondary {
		case SecondaryLZMA:
			d, m := lzmaParams(r.opts.level)
			r.enc[i] = newLZMASectionEncoder(d, m, r.opts.level <= 6, r.opts.level >= lzmaOptimalLevel)
		case SecondaryDJW:
			r.enc[i] = &djwSectionEncoder{level: r.opts.level}
		default:
			r.enc[i] = nil
		}
	}
}

// Write takes the next bytes of the input patch. Every window completed by
// them is recoded and written to dst before Write returns. Errors are
// sticky.
func (r *Recoder) Write(p []byte) (int, error) {
	if r.closed {
		return 0, ErrClosed
	}
	if r.err != nil {
		return 0, r.err
	}
	data := p
	if len(r.buf) > 0 {
		r.buf = append(r.buf, p...)
		data = r.buf
	}
	n, err := r.consume(data, false)
	rest := data[n:]
	if len(r.buf) > 0 {
		r.buf = r.buf[:copy(r.buf, rest)]
	} else {
		r.buf = append(r.buf[:0], rest...)
	}
	if err != nil {
		r.err = err
		return len(p), err
	}
	return len(p), nil
}

// Close recodes what is left of the input, which must end exactly after a
// window, and writes it to dst. It does not close dst.
func (r *Recoder) Close() error {
	if r.closed {
		return r.err
	}
	r.closed = true
	if r.err != nil {
		return r.err
	}
	n, err := r.consume(r.buf, true)
	if err == nil && n != len(r.buf) {
		err = fmt.Errorf("vcdiff: recode: %d bytes after the last window: %w", len(r.buf)-n, io.ErrUnexpectedEOF)
	}
	if err == nil && !r.gotHdr {
		err = fmt.Errorf("%w (recode input is empty)", ErrFormat)
	}
	if err == nil && r.win == 0 {
		// Stock xdelta3 -d refuses a patch without windows.
		err = fmt.Errorf("vcdiff: recode: patch has no window: %w", io.ErrUnexpectedEOF)
	}
	r.buf = r.buf[:0]
	r.err = err
	return err
}

// consume processes the file header and every complete window at the start
// of b and returns the number of bytes used. Unless final, a truncated
// header or window is not an error: it waits for more input.
func (r *Recoder) consume(b []byte, final bool) (int, error) {
	used := 0
	for {
		rest := b[used:]
		if len(rest) == 0 {
			return used, nil
		}
		r.rd.Reset(rest)
		r.pr.reset(&r.rd)
		if !r.gotHdr {
			if !final && len(rest) < 4 {
				return used, nil
			}
			h, err := r.pr.readFileHeader(DefaultMaxAppHeader)
			if err != nil {
				if err == io.ErrUnexpectedEOF && !final {
					return used, nil
				}
				return used, err
			}
			if h.Version != versionRFC {
				return used, fmt.Errorf("%w: recode of VCDIFF version 0x%02x patches", ErrUnsupported, h.Version)
			}
			if h.Secondary == SecondaryFGK {
				return used, fmt.Errorf("%w: recode of FGK-compressed patches", ErrUnsupported)
			}
			r.hdr, r.gotHdr = h, true
			used += int(r.pr.off)
			r.inBytes += r.pr.off
			continue
		}
		w, err := r.pr.readWindowHeader(int(r.win), &r.hdr, windowLimits{maxWindow: r.opts.maxWindow})
		if err != nil {
			if (err == io.ErrUnexpectedEOF || err == io.EOF) && !final {
				return used, nil
			}
			var ce *CorruptInputError
			if errors.As(err, &ce) {
				ce.Offset += r.inBytes
			}
			return used, err
		}
		hs := int(w.headerSize)
		total := uint64(hs) + w.dataLen + w.instLen + w.addrLen
		if uint64(len(rest)) < total {
			if final {
				return used, fmt.Errorf("vcdiff: recode: window %d is truncated: %w", r.win, io.ErrUnexpectedEOF)
			}
			return used, nil
		}
		sect := rest[hs:total]
		if err := r.window(&w, sect); err != nil {
			return used, err
		}
		used += int(total)
		r.inBytes += int64(total)
		r.win++
	}
}

// window recodes one window whose header is w and whose stored sections
// are sect.
func (r *Recoder) window(w *windowHeader, sect []byte) error {
	raw := [3][]byte{
		sect[:w.dataLen],
		sect[w.dataLen : w.dataLen+w.instLen],
		sect[w.dataLen+w.instLen:],
	}
	for i := range raw {
		if w.delta&(1<<i) == 0 {
			continue
		}
		d, err := r.decodeSection(i, raw[i], w.tgtLen)
		if err != nil {
			return &CorruptInputError{Offset: r.inBytes, Window: int(r.win), Reason: sectionNames[i] + " section: " + err.Error()}
		}
		raw[i] = d
	}

	var delta byte
	var kept [3]bool
	compress := func(i int) {
		r.stored[i], kept[i] = r.enc[i].encode(r.stored[i][:0], raw[i])
	}
	if r.enc[0] != nil {
		if len(raw[0])+len(raw[1])+len(raw[2]) >= parallelSecondaryMin {
			var wg sync.WaitGroup
			for i := range raw {
				wg.Go(func() { compress(i) })
			}
			wg.Wait()
		} else {
			for i := range raw {
				compress(i)
			}
		}
	}
	sections := raw
	for i := range raw {
		if kept[i] {
			delta |= 1 << i
			sections[i] = r.stored[i]
		}
	}

	if !r.wroteH {
		if err := r.writeFileHeader(); err != nil {
			return err
		}
	}
	out := append(r.out[:0], w.indicator)
	if w.indicator&winSource != 0 {
		out = appendVarint(out, w.segLen)
		out = appendVarint(out, w.segPos)
	}
	enclen := uint64(varintLen(w.tgtLen)) + 1
	for _, s := range sections {
		enclen += uint64(varintLen(uint64(len(s))) + len(s))
	}
	if w.hasSum {
		enclen += 4
	}
	out = appendVarint(out, enclen)
	out = appendVarint(out, w.tgtLen)
	out = append(out, delta)
	for _, s := range sections {
		out = appendVarint(out, uint64(len(s)))
	}
	if w.hasSum {
		out = append(out, byte(w.sum>>24), byte(w.sum>>16), byte(w.sum>>8), byte(w.sum))
	}
	for _, s := range sections {
		out = append(out, s...)
	}
	r.out = out
	_, err := r.dst.Write(out)
	return err
}

// decodeSection decodes a secondary-compressed input section.
func (r *Recoder) decodeSection(i int, b []byte, tgtLen uint64) ([]byte, error) {
	n, k, err := parseVarint(b)
	if err != nil {
		return nil, errors.New("bad decoded-size prefix")
	}
	if n == 0 {
		return nil, errors.New("decoded size 0")
	}
	if lim := sectionLimit(tgtLen); n > lim {
		return nil, fmt.Errorf("decoded size %d exceeds %d for this window", n, lim)
	}
	switch r.hdr.Secondary {
	case SecondaryLZMA:
		out, err := r.inLZMA[i].decode(b[k:], int(n), r.dec[i])
		if cap(out) > cap(r.dec[i]) {
			r.dec[i] = out[:0]
		}
		return out, err
	case SecondaryDJW:
		return djwDecode(b[k:], int(n))
	}
	return nil, fmt.Errorf("%w: secondary compressor ID %d", ErrUnsupported, r.hdr.Secondary)
}

// writeFileHeader writes the output file header: the input's application
// header and the chosen secondary compressor.
func (r *Recoder) writeFileHeader() error {
	r.wroteH = true
	h := []byte{magic0, magic1, magic2, versionRFC, 0}
	if r.opts.secondary != SecondaryNone {
		h[4] |= hdrSecondary
		h = append(h, byte(r.opts.secondary))
	}
	if r.hdr.AppHeader != nil {
		h[4] |= hdrAppHeader
		h = appendVarint(h, uint64(len(r.hdr.AppHeader)))
		h = append(h, r.hdr.AppHeader...)
	}
	_, err := r.dst.Write(h)
	return err
}

// Recode appends to dst the patch recoded with secondary compression (see
// Recoder) and returns the extended slice.
func Recode(dst, patch []byte, opts ...RecodeOption) ([]byte, error) {
	w := &recodeAppender{b: dst}
	r, err := NewRecoder(w, opts...)
	if err != nil {
		return dst, err
	}
	if _, err := r.Write(patch); err != nil {
		return dst, err
	}
	if err := r.Close(); err != nil {
		return dst, err
	}
	return w.b, nil
}

// recodeAppender appends to a byte slice.
type recodeAppender struct{ b []byte }

func (w *recodeAppender) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
