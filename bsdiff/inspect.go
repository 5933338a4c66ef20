package bsdiff

import (
	"fmt"
	"io"
)

// Header is what a patch header says, read without decompressing anything.
type Header struct {
	Format Format `json:"format"`
	// NewSize is the size of the file the patch rebuilds.
	NewSize int64 `json:"new_size"`
	// ControlLen and DiffLen are the compressed lengths of the control
	// and diff streams (BSDIFF40 only; 0 for BSDIFF43, whose single
	// stream runs to the end of the patch).
	ControlLen int64 `json:"control_len,omitempty"`
	DiffLen    int64 `json:"diff_len,omitempty"`
	// HeaderLen is the size of the fixed header in bytes.
	HeaderLen int `json:"header_len"`
}

// ReadHeader reads and checks the fixed header at the start of r. It
// consumes exactly Header.HeaderLen bytes on success. A patch shorter
// than its header gives io.ErrUnexpectedEOF; an unknown magic ErrFormat;
// negative lengths a *CorruptInputError.
func ReadHeader(r io.Reader) (Header, error) {
	var b [header40Len]byte
	if n, err := io.ReadFull(r, b[:len(magic40)]); err != nil {
		if !isMagicPrefix(b[:n]) {
			return Header{}, ErrFormat
		}
		return Header{}, headerEOF(err)
	}
	var h Header
	switch {
	case string(b[:len(magic40)]) == magic40:
		if _, err := io.ReadFull(r, b[len(magic40):header40Len]); err != nil {
			return Header{}, headerEOF(err)
		}
		h = Header{Format: FormatBSDIFF40, ControlLen: getInt(b[8:]), DiffLen: getInt(b[16:]),
			NewSize: getInt(b[24:]), HeaderLen: header40Len}
	case string(b[:len(magic40)]) == magic43[:len(magic40)]:
		if _, err := io.ReadFull(r, b[len(magic40):header43Len]); err != nil {
			return Header{}, headerEOF(err)
		}
		if string(b[:len(magic43)]) != magic43 {
			return Header{}, ErrFormat
		}
		h = Header{Format: FormatBSDIFF43, NewSize: getInt(b[16:]), HeaderLen: header43Len}
	default:
		return Header{}, ErrFormat
	}
	if h.NewSize < 0 || h.ControlLen < 0 || h.DiffLen < 0 {
		return Header{}, &CorruptInputError{Format: h.Format, Offset: -1,
			Reason: fmt.Sprintf("negative length in header (control %d, diff %d, new size %d)", h.ControlLen, h.DiffLen, h.NewSize)}
	}
	return h, nil
}

// isMagicPrefix reports whether p could be the start of a known magic.
func isMagicPrefix(p []byte) bool {
	return string(p) == magic40[:len(p)] || string(p) == magic43[:len(p)]
}

func headerEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
