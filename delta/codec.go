package delta

import (
	"compress/flate"
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
	source    *vcdiff.Source // the source, read and indexed at level (VCDIFF only; may be nil)
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

// encode writes a plain xdelta3-compatible patch (secondary compression
// is added afterwards by recode, see Client.putDelta).
func (vcdiffCodec) encode(dst io.Writer, source io.ReaderAt, sourceSize int64, target io.Reader, targetSize int64, p encodeParams) error {
	opts := []vcdiff.EncoderOption{vcdiff.WithLevel(p.level), vcdiff.WithChecksum(true), vcdiff.WithAppHeader(p.appHeader),
		vcdiff.WithTargetSize(max(targetSize, 0)), vcdiff.WithSecondaryHint(p.secondary)}
	var enc *vcdiff.Encoder
	var err error
	if p.source != nil {
		enc, err = vcdiff.NewEncoderSource(dst, p.source, opts...)
	} else {
		enc, err = vcdiff.NewEncoder(dst, source, sourceSize, opts...)
	}
	if err != nil {
		return err
	}
	if _, err := enc.ReadFrom(target); err != nil {
		enc.Close()
		return err
	}
	return enc.Close()
}

// recode streams a plain VCDIFF patch through a vcdiff.Recoder, which
// compresses each window's sections as stock xdelta3 -9 does (LZMA by
// default), holding one window at a time.
func recode(dst io.Writer, plain io.Reader, secondary, level int) error {
	rec, err := vcdiff.NewRecoder(dst, vcdiff.WithRecodeSecondary(secondary), vcdiff.WithRecodeLevel(max(level, 1)))
	if err != nil {
		return err
	}
	if _, err := io.Copy(rec, plain); err != nil {
		rec.Close()
		return err
	}
	return rec.Close()
}

// compressible estimates whether the n-byte plain patch in r could shrink
// to limit bytes, by compressing a sample with fast DEFLATE (LZMA does
// better, hence the margin). It spares the slow LZMA pass over deltas of
// already-compressed data that could not pass the ratio guard anyway.
func compressible(r io.ReaderAt, n, limit int64) bool {
	const sample = 4 << 20
	k := min(n, sample)
	buf := make([]byte, k)
	if _, err := r.ReadAt(buf, (n-k)/2); err != nil && err != io.EOF {
		return true
	}
	var cw countWriter
	cw.w = io.Discard
	fw, _ := flate.NewWriter(&cw, flate.BestSpeed)
	fw.Write(buf)
	fw.Close()
	est := float64(n) * float64(cw.n) / float64(k)
	return est <= 1.25*float64(limit)
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
