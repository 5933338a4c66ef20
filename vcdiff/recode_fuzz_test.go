package vcdiff

import (
	"bytes"
	"testing"
)

// FuzzRecode: Recode never panics on arbitrary input, and whenever it
// succeeds on a patch that decodes (without a source), the recoded patch
// decodes to the same bytes.
func FuzzRecode(f *testing.F) {
	seed := func(src, tgt []byte, ws int) {
		p, err := Encode(nil, src, tgt, WithWindowSize(ws))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p, uint8(SecondaryLZMA), uint8(6))
		if lz, err := Recode(nil, p); err == nil {
			f.Add(lz, uint8(SecondaryDJW), uint8(9))
		}
	}
	seed(nil, []byte("hello hello hello hello hello world, this is the target file\n"), 16)
	seed(nil, bytes.Repeat([]byte("0123456789abcdef"), 200), 700)
	seed(nil, rcText(1, 5000), 1000)
	f.Add([]byte{0xd6, 0xc3, 0xc4, 0x00, 0x00}, uint8(SecondaryLZMA), uint8(1))
	f.Fuzz(func(t *testing.T, patch []byte, sec, level uint8) {
		id := []int{SecondaryNone, SecondaryDJW, SecondaryLZMA}[int(sec)%3]
		out, err := Recode(nil, patch, WithRecodeSecondary(id), WithRecodeLevel(1+int(level)%9), WithRecodeMaxWindowSize(64<<10))
		if err != nil {
			return
		}
		want, err := Decode(nil, patch, nil, WithMaxWindowSize(1<<20))
		if err != nil {
			return
		}
		got, err := Decode(nil, out, nil, WithMaxWindowSize(1<<20))
		if err != nil {
			t.Fatalf("recoded patch does not decode: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("recoded patch decodes to %d bytes, the input to %d", len(got), len(want))
		}
	})
}
