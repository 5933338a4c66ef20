package bsdiff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Patch applies patch to old and returns the new file. The format is
// detected from the patch magic. The output buffer is sized up front to
// the declared new size but at most twice len(old) plus 1 MiB, and grows
// beyond that only with data actually decoded, so a small patch declaring
// a huge size cannot make it allocate much.
func Patch(old, patch []byte, opts ...Option) ([]byte, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	h, err := readHeader(bytes.NewReader(patch), &o)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	// Pre-size from the declared size, but never beyond what is plausible
	// for this input: a few times the old file plus 1 MiB.
	out.Grow(int(min(h.newSize, 2*int64(len(old))+1<<20)))
	body := patch[h.size():]
	var ctrlR, diffR, extraR io.Reader
	if h.format == FormatBSDIFF43 {
		zr, err := newDecompressor(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		ctrlR, diffR, extraR = zr, zr, zr
	} else {
		if h.ctrlLen > int64(len(body)) {
			return nil, &truncatedError{"control stream"}
		}
		rest := body[h.ctrlLen:]
		if h.diffLen > int64(len(rest)) {
			return nil, &truncatedError{"diff stream"}
		}
		if ctrlR, err = newDecompressor(bytes.NewReader(body[:h.ctrlLen])); err != nil {
			return nil, err
		}
		if diffR, err = newDecompressor(bytes.NewReader(rest[:h.diffLen])); err != nil {
			return nil, err
		}
		if extraR, err = newDecompressor(bytes.NewReader(rest[h.diffLen:])); err != nil {
			return nil, err
		}
	}
	if err := run(&out, bytes.NewReader(old), int64(len(old)), h, nil, ctrlR, diffR, extraR); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Apply reads a patch from patch, applies it to old (oldSize bytes, read
// with ReadAt) and writes the new file to dst, returning the number of
// bytes written. The format is detected from the patch magic.
//
// ENDSLEY/BSDIFF43 patches are fully streamed. The BSDIFF40 format
// places the compressed control and diff streams
// before the extra stream, so Apply buffers those two compressed blocks
// (their sizes are in the header; the buffers grow only with bytes
// actually read) and streams the rest. The output is never buffered.
func Apply(dst io.Writer, old io.ReaderAt, oldSize int64, patch io.Reader, opts ...Option) (int64, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return 0, err
	}
	if oldSize < 0 {
		return 0, fmt.Errorf("%w: negative old size %d", ErrInvalidOption, oldSize)
	}
	src := &srcReader{r: patch}
	patch = src
	h, err := readHeader(patch, &o)
	if err != nil {
		return 0, err
	}
	var ctrlR, diffR, extraR io.Reader
	if h.format == FormatBSDIFF43 {
		zr, err := newDecompressor(patch)
		if err != nil {
			return 0, err
		}
		ctrlR, diffR, extraR = zr, zr, zr
	} else {
		ctrlC, err := readBlock(patch, h.ctrlLen, "control stream")
		if err != nil {
			return 0, err
		}
		diffC, err := readBlock(patch, h.diffLen, "diff stream")
		if err != nil {
			return 0, err
		}
		if ctrlR, err = newDecompressor(bytes.NewReader(ctrlC)); err != nil {
			return 0, err
		}
		if diffR, err = newDecompressor(bytes.NewReader(diffC)); err != nil {
			return 0, err
		}
		if extraR, err = newDecompressor(patch); err != nil {
			return 0, err
		}
	}
	cw := &countWriter{w: dst}
	err = run(cw, old, oldSize, h, src, ctrlR, diffR, extraR)
	return cw.n, err
}

// readBlock reads exactly n bytes, growing its buffer only as data arrives.
func readBlock(r io.Reader, n int64, what string) ([]byte, error) {
	var b bytes.Buffer
	got, err := b.ReadFrom(io.LimitReader(r, n))
	if err != nil {
		return nil, err
	}
	if got != n {
		return nil, &truncatedError{what}
	}
	return b.Bytes(), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// header is a parsed patch header.
type header struct {
	format           Format
	ctrlLen, diffLen int64 // BSDIFF40 layout only
	newSize          int64
}

func (h *header) size() int {
	if h.format == FormatBSDIFF43 {
		return header43Len
	}
	return header40Len
}

// readHeader reads and validates a patch header: known magic, non-negative
// lengths, new size within the cap.
func readHeader(r io.Reader, o *options) (*header, error) {
	var b [header40Len]byte
	if _, err := io.ReadFull(r, b[:8]); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%w: empty patch", ErrFormat)
		}
		return nil, headerReadErr(err)
	}
	h := &header{}
	if string(b[:8]) == magic43[:8] {
		if _, err := io.ReadFull(r, b[8:header43Len]); err != nil {
			return nil, headerReadErr(err)
		}
		if h.format = Detect(b[:header43Len]); h.format != FormatBSDIFF43 {
			return nil, ErrFormat
		}
		h.newSize = getInt(b[16:])
	} else {
		if h.format = Detect(b[:8]); h.format == FormatUnknown {
			return nil, ErrFormat
		}
		if _, err := io.ReadFull(r, b[8:header40Len]); err != nil {
			return nil, headerReadErr(err)
		}
		h.ctrlLen, h.diffLen, h.newSize = getInt(b[8:]), getInt(b[16:]), getInt(b[24:])
		if h.ctrlLen < 0 || h.diffLen < 0 {
			return nil, &CorruptInputError{h.format, -1, fmt.Sprintf("negative stream length (control %d, diff %d)", h.ctrlLen, h.diffLen)}
		}
	}
	if h.newSize < 0 {
		return nil, &CorruptInputError{h.format, -1, fmt.Sprintf("negative new size %d", h.newSize)}
	}
	if h.newSize > o.maxNewSize {
		return nil, fmt.Errorf("%w: %d bytes declared, limit %d", ErrLimit, h.newSize, o.maxNewSize)
	}
	return h, nil
}

func headerReadErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return &truncatedError{"header"}
	}
	return err
}

// maxIdleCtrls (plus one per byte of declared output) bounds the control
// triples that produce no output, so that a small patch cannot spin on an
// endless run of empty triples: decoding work stays O(new size). Encoders
// do emit empty triples (pure seeks; classic bsdiff on periodic data), so
// the bound is generous.
const maxIdleCtrls = 1024

const chunkSize = 64 << 10

// run is the bspatch loop shared by all formats. For BSDIFF43 the three
// readers are the same stream, which holds the parts in exactly the order
// they are consumed here. Every control value is validated before use.
func run(dst io.Writer, old io.ReaderAt, oldSize int64, h *header, src *srcReader, ctrlR, diffR, extraR io.Reader) error {
	var (
		tri            [24]byte
		newPos, oldPos int64
		idle           int
		nbuf, obuf     []byte
	)
	corrupt := func(format string, a ...any) error {
		return &CorruptInputError{h.format, newPos, fmt.Sprintf(format, a...)}
	}
	// streamErr classifies an error from a decompressed stream: the
	// caller's reader failing is returned as is, running out of data is
	// truncation, anything else from the decompressor is corruption.
	streamErr := func(err error, what string) error {
		switch {
		case src != nil && src.err != nil:
			return src.err
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return &truncatedError{what}
		}
		return corrupt("%s: %v", what, err)
	}
	for newPos < h.newSize {
		if _, err := io.ReadFull(ctrlR, tri[:]); err != nil {
			return streamErr(err, "control stream")
		}
		diffLen, extraLen, seek := getInt(tri[0:]), getInt(tri[8:]), getInt(tri[16:])
		if diffLen < 0 || extraLen < 0 {
			return corrupt("negative length in control triple (diff %d, extra %d)", diffLen, extraLen)
		}
		if diffLen > h.newSize-newPos {
			return corrupt("diff run of %d bytes past the declared new size %d", diffLen, h.newSize)
		}
		if diffLen > oldSize-oldPos {
			return fmt.Errorf("%w: diff run reads old bytes [%d, %d), old file has %d", ErrSourceTooShort, oldPos, oldPos+diffLen, oldSize)
		}
		if extraLen > h.newSize-newPos-diffLen {
			return corrupt("extra run of %d bytes past the declared new size %d", extraLen, h.newSize)
		}
		if p := oldPos + diffLen; seek > oldSize-p || seek < -p {
			return corrupt("seek by %d moves the old cursor from %d outside [0, %d]", seek, p, oldSize)
		}
		if diffLen == 0 && extraLen == 0 {
			if idle++; int64(idle) > maxIdleCtrls+h.newSize {
				return corrupt("more than %d empty control triples for %d bytes of output", maxIdleCtrls+h.newSize, h.newSize)
			}
		}
		if nbuf == nil && diffLen+extraLen > 0 {
			n := min(chunkSize, h.newSize)
			nbuf, obuf = make([]byte, n), make([]byte, n)
		}

		// Diff run: new = old + diff, bytewise.
		for rem := diffLen; rem > 0; {
			k := min(rem, int64(len(nbuf)))
			nb, ob := nbuf[:k], obuf[:k]
			if _, err := io.ReadFull(diffR, nb); err != nil {
				return streamErr(err, "diff stream")
			}
			if n, err := old.ReadAt(ob, oldPos); n < len(ob) {
				if err == nil || err == io.EOF {
					err = fmt.Errorf("%w: reading old at %d", ErrSourceTooShort, oldPos)
				}
				return err
			}
			for i := range nb {
				nb[i] += ob[i]
			}
			if _, err := dst.Write(nb); err != nil {
				return err
			}
			rem -= k
			oldPos += k
			newPos += k
		}

		// Extra run: literal bytes.
		for rem := extraLen; rem > 0; {
			k := min(rem, int64(len(nbuf)))
			nb := nbuf[:k]
			if _, err := io.ReadFull(extraR, nb); err != nil {
				return streamErr(err, "extra stream")
			}
			if _, err := dst.Write(nb); err != nil {
				return err
			}
			rem -= k
			newPos += k
		}

		oldPos += seek
	}
	// Read each stream to its end so that the last bzip2 block's CRC and
	// the stream trailer are checked, and leftovers are caught.
	for i, r := range []io.Reader{ctrlR, diffR, extraR} {
		if i > 0 && h.format == FormatBSDIFF43 {
			break // one stream
		}
		var one [1]byte
		n, err := io.ReadFull(r, one[:])
		if n > 0 {
			return corrupt("%s has data past the end of the output", [...]string{"control stream", "diff stream", "extra stream"}[i])
		}
		if err != io.EOF {
			return streamErr(err, [...]string{"control stream", "diff stream", "extra stream"}[i])
		}
	}
	return nil
}

// srcReader remembers the first error of the caller's patch reader other
// than io.EOF, so that an I/O failure is reported as such and not mistaken
// for corruption by the decompressor sitting on top of it.
type srcReader struct {
	r   io.Reader
	err error
}

func (s *srcReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}
