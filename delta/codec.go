package delta

import (
	"fmt"
	"io"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// A codec makes and applies deltas of a target against a source.
type codec interface {
	// encode writes the delta of target (targetSize bytes) against source.
	encode(dst io.Writer, source io.ReaderAt, sourceSize int64, target io.Reader, targetSize int64, level int, appHeader []byte) error
	// decode returns a reader of the target. maxOutput caps its size (-1:
	// none). appHeader is the patch's application header, if the format has
	// one.
	decode(patch io.Reader, source io.ReaderAt, sourceSize int64, maxOutput int64) (r io.Reader, appHeader []byte, err error)
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

func (vcdiffCodec) encode(dst io.Writer, source io.ReaderAt, sourceSize int64, target io.Reader, _ int64, level int, appHeader []byte) error {
	enc, err := vcdiff.NewEncoder(dst, source, sourceSize,
		vcdiff.WithLevel(level), vcdiff.WithChecksum(true), vcdiff.WithAppHeader(appHeader))
	if err != nil {
		return err
	}
	if _, err := enc.ReadFrom(target); err != nil {
		enc.Close()
		return err
	}
	return enc.Close()
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
