package djw

import (
	"errors"
	"fmt"
	"io"
)

// Format constants (see the package documentation).
const (
	alphabetSize = 256

	maxCodeLen    = 20 // longest symbol code
	maxCLCodeLen  = 15 // longest code-length code (4-bit lengths)
	maxSelCodeLen = 7  // longest selector code (3-bit lengths)

	numCLSymbols  = maxCodeLen + 2 // RUN_0, RUN_1, MTF positions 1..20
	minCLSymbols  = 7              // code-length-code lengths always present
	clCountBits   = 4
	clLenBits     = 4
	groupBits     = 3
	maxGroups     = 8
	sectorBits    = 5
	sectorUnit    = 5
	maxSectorSize = (1 << sectorBits) * sectorUnit
	selLenBits    = 3

	run0 = 0
	run1 = 1
)

// clenMTFInit is the initial move-to-front order of code-length values:
// 0, the "basic" lengths 4..8, then the "extra" lengths in xdelta3's order.
var clenMTFInit = [maxCodeLen + 1]uint8{0, 4, 5, 6, 7, 8, 9, 10, 3, 11, 2, 12, 13, 1, 14, 15, 16, 17, 18, 19, 20}

// Errors returned by Decode. Truncation errors also match io.ErrUnexpectedEOF.
var (
	// ErrCorrupt reports a malformed stream (bad code tables, undefined
	// codes, impossible run lengths). Returned errors wrap it with detail.
	ErrCorrupt = errors.New("djw: corrupt input")
	// ErrTruncated reports a stream that ends before all symbols are decoded.
	ErrTruncated = fmt.Errorf("djw: truncated input: %w", io.ErrUnexpectedEOF)
	// ErrTrailingData reports whole bytes left over after the last symbol
	// (xdelta3: "secondary decoder finished with unused input").
	ErrTrailingData = errors.New("djw: unused input after the last symbol")
	// ErrSize reports a decoded size that is not positive or that the input
	// cannot encode (every symbol costs at least one bit).
	ErrSize = errors.New("djw: invalid decoded size")
)

func corrupt(what string) error { return fmt.Errorf("%w: %s", ErrCorrupt, what) }
