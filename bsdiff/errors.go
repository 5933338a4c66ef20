package bsdiff

import (
	"errors"
	"fmt"
	"io"
)

// Sentinel errors. Every error returned by this package is one of these,
// wraps one of these (test with errors.Is), is a *CorruptInputError, wraps
// io.ErrUnexpectedEOF for a truncated patch, or comes from the caller's own
// reader or writer.
var (
	// ErrFormat: the patch does not start with a known magic.
	ErrFormat = errors.New("bsdiff: not a bsdiff patch (unknown magic)")
	// ErrTooLarge: an encoder input exceeds the configured size cap
	// (WithMaxInputSize). Callers are expected to fall back to another
	// codec or to storing the file whole.
	ErrTooLarge = errors.New("bsdiff: input too large for the bsdiff encoder")
	// ErrLimit: the patch declares an output size beyond the decoder cap
	// (WithMaxNewSize).
	ErrLimit = errors.New("bsdiff: declared new size exceeds the limit")
	// ErrSourceTooShort: the patch reads old-file bytes past the end of the
	// old file that was given (usually the wrong old file).
	ErrSourceTooShort = errors.New("bsdiff: old file too short for this patch")
	// ErrInvalidOption: an option value is out of range or not applicable.
	ErrInvalidOption = errors.New("bsdiff: invalid option")
)

// CorruptInputError reports a malformed patch. Offset is the number of
// bytes of new (output) data produced when the problem was detected, or -1
// when it was found in the header.
type CorruptInputError struct {
	Format Format
	Offset int64
	Reason string
}

func (e *CorruptInputError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("bsdiff: corrupt %s patch (header): %s", e.Format, e.Reason)
	}
	return fmt.Sprintf("bsdiff: corrupt %s patch at new offset %d: %s", e.Format, e.Offset, e.Reason)
}

// truncated wraps io.ErrUnexpectedEOF with what was being read.
type truncatedError struct{ what string }

func (e *truncatedError) Error() string { return "bsdiff: patch truncated in " + e.what }
func (e *truncatedError) Unwrap() error { return io.ErrUnexpectedEOF }
