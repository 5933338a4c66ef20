package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/deltaglider-go/deltaglider/bsdiff"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// Codec names accepted by `encode --codec`.
const (
	codecVCDIFF   = "vcdiff"
	codecBSDIFF   = "bsdiff"   // BSDIFF40: Debian/FreeBSD bspatch
	codecBSDIFF43 = "bsdiff43" // ENDSLEY/BSDIFF43: mendsley bspatch and its Go bindings
)

// patchEncoder is what `encode` streams the target into.
type patchEncoder interface {
	ReadFrom(io.Reader) (int64, error)
	Close() error
}

// parseSecondary maps --secondary to a vcdiff secondary compressor ID.
func parseSecondary(s string) (int, error) {
	switch s {
	case "none", "":
		return vcdiff.SecondaryNone, nil
	case "lzma":
		return vcdiff.SecondaryLZMA, nil
	case "djw":
		return vcdiff.SecondaryDJW, nil
	}
	return 0, usageErrorf("unknown secondary compressor %q (want none, lzma or djw)", s)
}

// recodingEncoder is a vcdiff encoder whose output passes through a
// Recoder that adds secondary compression, window by window.
type recodingEncoder struct {
	*vcdiff.Encoder
	rec *vcdiff.Recoder
}

func (e recodingEncoder) Close() error {
	if err := e.Encoder.Close(); err != nil {
		return err
	}
	return e.rec.Close()
}

// newVCDIFFEncoder makes the vcdiff encoder for `encode`, with secondary
// compression when secondary is not SecondaryNone.
func newVCDIFFEncoder(dst io.Writer, src io.ReaderAt, srcSize int64, secondary, level int, opts []vcdiff.EncoderOption) (patchEncoder, error) {
	if secondary == vcdiff.SecondaryNone {
		return vcdiff.NewEncoder(dst, src, srcSize, opts...)
	}
	rl := level
	if rl < 1 {
		rl = 1
	}
	rec, err := vcdiff.NewRecoder(dst, vcdiff.WithRecodeSecondary(secondary), vcdiff.WithRecodeLevel(rl))
	if err != nil {
		return nil, err
	}
	opts = append(opts[:len(opts):len(opts)], vcdiff.WithSecondaryHint(secondary))
	enc, err := vcdiff.NewEncoder(rec, src, srcSize, opts...)
	if err != nil {
		return nil, err
	}
	return recodingEncoder{enc, rec}, nil
}

// bsdiffEncoder collects the target and writes one bsdiff patch on Close:
// bsdiff needs both files whole in memory (see package bsdiff, Memory).
type bsdiffEncoder struct {
	dst    io.Writer
	old    []byte
	format bsdiff.Format
	target bytes.Buffer
}

func newBsdiffEncoder(dst io.Writer, src io.ReaderAt, srcSize int64, format bsdiff.Format) (*bsdiffEncoder, error) {
	if srcSize > bsdiff.DefaultMaxInputSize {
		return nil, fmt.Errorf("%w: source is %d bytes, the bsdiff encoder takes at most %d (use --codec vcdiff)",
			bsdiff.ErrTooLarge, srcSize, int64(bsdiff.DefaultMaxInputSize))
	}
	old := make([]byte, srcSize)
	if srcSize > 0 {
		n, err := src.ReadAt(old, 0)
		if n < len(old) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the file shrank since it was opened
			}
			return nil, fmt.Errorf("reading source: %w", err)
		}
	}
	return &bsdiffEncoder{dst: dst, old: old, format: format}, nil
}

func (b *bsdiffEncoder) ReadFrom(r io.Reader) (int64, error) {
	n, err := b.target.ReadFrom(io.LimitReader(r, bsdiff.DefaultMaxInputSize+1-int64(b.target.Len())))
	if err == nil && b.target.Len() > bsdiff.DefaultMaxInputSize {
		err = fmt.Errorf("%w: target is over %d bytes (use --codec vcdiff)", bsdiff.ErrTooLarge, int64(bsdiff.DefaultMaxInputSize))
	}
	return n, err
}

func (b *bsdiffEncoder) Close() error {
	p, err := bsdiff.Diff(b.old, b.target.Bytes(), bsdiff.WithFormat(b.format))
	if err != nil {
		return err
	}
	_, err = b.dst.Write(p)
	return err
}

// sniffPatch peeks at the first bytes of a patch and reports the bsdiff
// format it is in (FormatUnknown for anything else: VCDIFF or garbage,
// which the VCDIFF decoder then reports).
func sniffPatch(r io.Reader) (*bufio.Reader, bsdiff.Format, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	head, err := br.Peek(16)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, err
	}
	return br, bsdiff.Detect(head), nil
}

// bsdiffApplier applies a bsdiff patch on WriteTo.
type bsdiffApplier struct {
	patch   io.Reader
	src     io.ReaderAt
	srcSize int64
}

func (a bsdiffApplier) WriteTo(w io.Writer) (int64, error) {
	src := a.src
	if src == nil {
		src = bytes.NewReader(nil)
	}
	return bsdiff.Apply(w, src, a.srcSize, a.patch)
}
