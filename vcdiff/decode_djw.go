package vcdiff

import "fmt"

// djwDecode decodes one DJW (ID 1) secondary section of decodedSize bytes.
// The DJW codec lives in vcdiff/internal/djw (written separately); until it
// lands, DJW sections are reported as unsupported.
func djwDecode(src []byte, decodedSize int) ([]byte, error) {
	return nil, fmt.Errorf("%w: DJW secondary compression", ErrUnsupported)
}
