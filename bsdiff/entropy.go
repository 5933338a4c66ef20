package bsdiff

import (
	"io"

	"github.com/dsnet/compress/bzip2"
)

// The entropy stage: bzip2 for both formats.

func newCompressor(w io.Writer, o *options) (io.WriteCloser, error) {
	return bzip2.NewWriter(w, &bzip2.WriterConfig{Level: o.bzip2Level})
}

func newDecompressor(r io.Reader) (io.Reader, error) {
	return bzip2.NewReader(r, nil)
}
