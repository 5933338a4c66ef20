package vcdiff

import "github.com/deltaglider-go/deltaglider/vcdiff/internal/djw"

// djwDecode decodes one DJW (ID 1) secondary section of decodedSize bytes.
// DJW sections are independent: no state carries between windows.
func djwDecode(src []byte, decodedSize int) ([]byte, error) {
	return djw.Decode(src, decodedSize)
}
