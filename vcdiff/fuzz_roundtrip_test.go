package vcdiff

import (
	"bytes"
	"testing"
)

// FuzzRoundTrip: any (source, target) pair encodes, at any level and window
// size, with or without the LZMA hint, to a patch that vcdiff.Decode turns
// back into the target, the same against a prepared Source.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello world, this is the source file\n"), []byte("hello WORLD, this is the source file!!\n"), uint8(6), uint16(0))
	f.Add([]byte{}, []byte("xyz"+string(bytes.Repeat([]byte("A"), 100))+"abcabcabcabcabcabcabcabc"), uint8(9), uint16(0))
	f.Add([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), []byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint8(0), uint16(7))
	f.Add(bytes.Repeat([]byte("0123456789abcdef"), 64), bytes.Repeat([]byte("0123456789abcdeF"), 64), uint8(3), uint16(100))
	f.Add([]byte{}, []byte{}, uint8(6), uint16(1))
	f.Add(bytes.Repeat([]byte("0123456789abcdef"), 64), bytes.Repeat([]byte("0123456789abcdeF"), 64), uint8(0xc6), uint16(200))
	f.Fuzz(func(t *testing.T, src, tgt []byte, level uint8, window uint16) {
		// The level's top bit asks for the LZMA hint (WithSecondaryHint),
		// the next one encodes against a prepared Source as well.
		lv := int(level&0x3f) % (BestLevel + 1)
		opts := []EncoderOption{WithLevel(lv)}
		if window > 0 {
			opts = append(opts, WithWindowSize(int(window)))
		}
		if level&0x80 != 0 {
			opts = append(opts, WithSecondaryHint(SecondaryLZMA))
		}
		p, err := Encode(nil, src, tgt, opts...)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if level&0x40 != 0 {
			s, err := NewSource(bytes.NewReader(src), int64(len(src)), lv)
			if err != nil {
				t.Fatalf("NewSource: %v", err)
			}
			var buf bytes.Buffer
			e, err := NewEncoderSource(&buf, s, opts...)
			if err != nil {
				t.Fatalf("NewEncoderSource: %v", err)
			}
			if _, err := e.Write(tgt); err != nil {
				t.Fatal(err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), p) {
				t.Fatalf("patch against a prepared Source differs from Encode's (%d vs %d bytes)", buf.Len(), len(p))
			}
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
