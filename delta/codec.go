package delta

import (
	"fmt"
	"io"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// A codec makes and applies deltas of a target against a source.
type codec interface {
	// encode writes the delta of target (targetSize bytes) against source.
	encode(dst io.Writer, source io.ReaderAt, sourceSize int64, target io.Reader, targetSize int64, p encodeParams) error
	// decode returns a reader of the target. maxOutput caps its size (-1:
	// none). appHeader is the patch's application header, if the format has
	// one.
	decode(patch io.Reader, source io.ReaderAt, sourceSize int64, maxOutput int64) (r io.Reader, appHeader []byte, err error)
}

// encodeParams are the client's encoder settings.
type encodeParams struct {
	level     int
	secondary int // vcdiff.SecondaryNone, SecondaryLZMA or SecondaryDJW
	appHeader []byte
}

var codecs = map[string]codec{CodecVCDIFF: vcdiffCodec{}}

func codecFor(name string) (codec, error) {
	if name == "" {
		name = CodecVCDIFF
	}
	c, ok := codecs[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (this build reads %s)", ErrUnknownCodec, name, codecNames())
	}
	return c, nil
}

func codecNames() string {
	s := ""
	for n := range codecs {
		if s != "" {
			s += ", "
		}
		s += n
	}
	return s
}

type vcdiffCodec struct{}

// encode writes an xdelta3-compatible patch; with a secondary compressor
// the encoder's plain patch is streamed through a vcdiff.Recoder, which
// compresses each window's sections as stock xdelta3 -9 does (LZMA by
// default), holding one window at a time.
func (vcdiffCodec) encode(dst io.Writer, source io.ReaderAt, sourceSize int64, target io.Reader, targetSize int64, p encodeParams) error {
	var rec *vcdiff.Recoder
	if p.secondary != vcdiff.SecondaryNone && targetSize > 0 { // a patch without windows is not recoded
		var err error
		rec, err = vcdiff.NewRecoder(dst, vcdiff.WithRecodeSecondary(p.secondary), vcdiff.WithRecodeLevel(max(p.level, 1)))
		if err != nil {
			return err
		}
		dst = rec
	}
	enc, err := vcdiff.NewEncoder(dst, source, sourceSize,
		vcdiff.WithLevel(p.level), vcdiff.WithChecksum(true), vcdiff.WithAppHeader(p.appHeader))
	if err != nil {
		return err
	}
	if _, err := enc.ReadFrom(target); err != nil {
		enc.Close()
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if rec != nil {
		return rec.Close()
	}
	return nil
}

func (vcdiffCodec) decode(patch io.Reader, source io.ReaderAt, sourceSize int64, maxOutput int64) (io.Reader, []byte, error) {
	opts := []vcdiff.DecoderOption{vcdiff.WithVerifyChecksum(true)}
	if maxOutput >= 0 {
		opts = append(opts, vcdiff.WithMaxOutput(maxOutput))
	}
	if sourceSize == 0 {
		source = nil
	}
	d, err := vcdiff.NewDecoder(patch, source, sourceSize, opts...)
	if err != nil {
		return nil, nil, err
	}
	return d, d.Header().AppHeader, nil
}
