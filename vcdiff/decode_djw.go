package vcdiff

import "github.com/deltaglider-go/deltaglider/vcdiff/internal/djw"

// djwDecode decodes one DJW (ID 1) secondary section of decodedSize bytes.
// DJW sections are independent: no state carries between windows.
func djwDecode(src []byte, decodedSize int) ([]byte, error) {
	return djw.Decode(src, decodedSize)
}

// djwDecodeInto is djwDecode into buf, reusing its capacity; it returns the
// decodedSize bytes. The size is checked against the input first, as
// djw.Decode does, so buf grows only for plausible sections.
func djwDecodeInto(buf, src []byte, decodedSize int) ([]byte, error) {
	if decodedSize <= 0 || decodedSize/8 > len(src) {
		return nil, djw.ErrSize
	}
	buf = grow(buf, decodedSize)
	if err := djw.DecodeInto(buf, src); err != nil {
		return nil, err
	}
	return buf, nil
}
