package vcdiff

import (
	"bytes"
	"testing"
)

// FuzzRoundTrip: any (source, target) pair encodes, at any level and window
// size, to a patch that vcdiff.Decode turns back into the target.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello world, this is the source file\n"), []byte("hello WORLD, this is the source file!!\n"), uint8(6), uint16(0))
	f.Add([]byte{}, []byte("xyz"+string(bytes.Repeat([]byte("A"), 100))+"abcabcabcabcabcabcabcabc"), uint8(9), uint16(0))
	f.Add([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), []byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint8(0), uint16(7))
	f.Add(bytes.Repeat([]byte("0123456789abcdef"), 64), bytes.Repeat([]byte("0123456789abcdeF"), 64), uint8(3), uint16(100))
	f.Add([]byte{}, []byte{}, uint8(6), uint16(1))
	f.Fuzz(func(t *testing.T, src, tgt []byte, level uint8, window uint16) {
		opts := []EncoderOption{WithLevel(int(level % (BestLevel + 1)))}
		if window > 0 {
			opts = append(opts, WithWindowSize(int(window)))
		}
		p, err := Encode(nil, src, tgt, opts...)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		got, err := Decode(nil, p, src)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !bytes.Equal(got, tgt) {
			t.Fatalf("round trip: got %d bytes, want %d (first difference at %d)", len(got), len(tgt), diffAt(got, tgt))
		}
	})
}
