package vcdiff

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package either is one of
// these, wraps one of these (test with errors.Is), is a *CorruptInputError,
// is io.ErrUnexpectedEOF for a truncated patch, or comes from the caller's
// own reader or writer.
var (
	// ErrFormat: the input is not a VCDIFF patch (bad magic).
	ErrFormat = errors.New("vcdiff: not a VCDIFF patch")
	// ErrUnsupported: a valid feature this package does not implement
	// (custom code tables, FGK secondary compression, VCD_TARGET windows).
	ErrUnsupported = errors.New("vcdiff: unsupported feature")
	// ErrChecksum: a window's Adler-32 does not match its decoded bytes,
	// which almost always means the wrong source file was given.
	ErrChecksum = errors.New("vcdiff: target window checksum mismatch (wrong source file?)")
	// ErrLimit: the patch declares a size beyond a configured cap.
	ErrLimit = errors.New("vcdiff: limit exceeded")
	// ErrSourceRequired: the patch copies from a source but none was given.
	ErrSourceRequired = errors.New("vcdiff: patch needs a source file")
	// ErrSourceTooShort: a COPY reads past the end of the given source.
	ErrSourceTooShort = errors.New("vcdiff: source file too short for this patch")
	// ErrInvalidOption: an option value is out of range.
	ErrInvalidOption = errors.New("vcdiff: invalid option")
	// ErrClosed: the encoder or decoder was used after Close.
	ErrClosed = errors.New("vcdiff: use after close")

	errVarintOverflow = errors.New("varint overflows 64 bits")
	errVarintTooLong  = errors.New("varint longer than 10 bytes")
)

// CorruptInputError reports malformed patch data at a byte offset of the
// patch stream.
type CorruptInputError struct {
	Offset int64  // offset in the patch where the problem was detected
	Window int    // window index (0-based), or -1 for the file header
	Reason string // what is wrong
}

func (e *CorruptInputError) Error() string {
	if e.Window < 0 {
		return fmt.Sprintf("vcdiff: corrupt patch at offset %d (file header): %s", e.Offset, e.Reason)
	}
	return fmt.Sprintf("vcdiff: corrupt patch at offset %d (window %d): %s", e.Offset, e.Window, e.Reason)
}
