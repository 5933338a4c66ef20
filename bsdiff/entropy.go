package bsdiff

import (
	"io"

	"github.com/deltaglider-go/deltaglider/bsdiff/internal/bzip2w"
	"github.com/dsnet/compress/bzip2"
)

// The entropy stage of both formats is bzip2: written by our own encoder
// (internal/bzip2w, which optimizes the Huffman tables as libbzip2 does),
// read by github.com/dsnet/compress/bzip2.

func newCompressor(w io.Writer, o *options) (io.WriteCloser, error) {
	return bzip2w.NewWriter(w, o.bzip2Level)
}

func newDecompressor(r io.Reader) (io.Reader, error) {
	return bzip2.NewReader(r, nil)
}
