package delta

import (
	"fmt"
	"io"

	"github.com/deltaglider-go/deltaglider/bsdiff"
)

// bsdiffCodec stores BSDIFF40 patches (dg-codec: bsdiff). Only this
// package reads them: neither DeltaGlider tool does. CodecAuto uses it for
// executables, WithCodec(CodecBSDIFF) for everything. Its encoder works in
// memory on whole inputs (about 10x the reference plus 2x the target, see
// package bsdiff), so objects or references above bsdiffMaxInput (or
// AutoBsdiffMaxInput under CodecAuto) are encoded with vcdiff instead, and
// a Client runs one bsdiff encode at a time.
type bsdiffCodec struct{}

// bsdiffMaxInput is the largest reference or target bsdiff is used for.
const bsdiffMaxInput = 256 << 20

// AutoBsdiffMaxInput is the largest reference or target CodecAuto sends to
// bsdiff: an encode then needs at most about 800 MB.
const AutoBsdiffMaxInput = 64 << 20

// autoBsdiffMax is AutoBsdiffMaxInput, lowered by tests.
var autoBsdiffMax int64 = AutoBsdiffMaxInput

func init() { codecs[CodecBSDIFF] = bsdiffCodec{} }

func (bsdiffCodec) encode(dst io.Writer, source io.ReaderAt, sourceSize int64, target io.Reader, targetSize int64, _ encodeParams) error {
	if sourceSize > bsdiffMaxInput || targetSize > bsdiffMaxInput {
		return fmt.Errorf("%w: %d/%d bytes", bsdiff.ErrTooLarge, sourceSize, targetSize)
	}
	old := make([]byte, sourceSize)
	if sourceSize > 0 {
		n, err := source.ReadAt(old, 0)
		if n < len(old) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading the reference: %w", err)
		}
	}
	nw, err := io.ReadAll(io.LimitReader(target, bsdiffMaxInput+1))
	if err != nil {
		return err
	}
	p, err := bsdiff.Diff(old, nw)
	if err != nil {
		return err
	}
	_, err = dst.Write(p)
	return err
}

func (bsdiffCodec) decode(patch io.Reader, source io.ReaderAt, sourceSize int64, maxOutput int64) (io.Reader, []byte, error) {
	var opts []bsdiff.Option
	if maxOutput >= 0 {
		opts = append(opts, bsdiff.WithMaxNewSize(maxOutput))
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := bsdiff.Apply(pw, source, sourceSize, patch, opts...)
		pw.CloseWithError(err)
	}()
	return pr, nil, nil
}
