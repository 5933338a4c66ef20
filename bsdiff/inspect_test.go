package bsdiff

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func TestReadHeader(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	old := genData(r, 5000)
	new := mutate(r, old)
	for _, f := range formats {
		p, err := Diff(old, new, WithFormat(f))
		must(t, err)
		br := bytes.NewReader(p)
		h, err := ReadHeader(br)
		must(t, err)
		if h.Format != f || h.NewSize != int64(len(new)) {
			t.Fatalf("%s: header %+v, want format %s new size %d", f, h, f, len(new))
		}
		if consumed := len(p) - br.Len(); consumed != h.HeaderLen {
			t.Fatalf("%s: consumed %d bytes, HeaderLen %d", f, consumed, h.HeaderLen)
		}
		if f == FormatBSDIFF40 && int64(h.HeaderLen)+h.ControlLen+h.DiffLen > int64(len(p)) {
			t.Fatalf("%s: stream lengths %d+%d exceed the patch (%d)", f, h.ControlLen, h.DiffLen, len(p))
		}
		for n := 0; n < h.HeaderLen; n++ {
			if _, err := ReadHeader(bytes.NewReader(p[:n])); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s: %d-byte prefix: err %v, want io.ErrUnexpectedEOF", f, n, err)
			}
		}
		bad := bytes.Clone(p)
		bad[h.HeaderLen-1] |= 0x80 // sign bit of the new size
		var ce *CorruptInputError
		if _, err := ReadHeader(bytes.NewReader(bad)); !errors.As(err, &ce) {
			t.Fatalf("%s: negative new size: err %v, want *CorruptInputError", f, err)
		}
	}
	for _, s := range []string{"BSDIFF41xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ENDSLEY/BSDIFF44xxxxxxxxxxxxxxxx", "\xd6\xc3\xc4\x00\x00"} {
		if _, err := ReadHeader(bytes.NewReader([]byte(s))); !errors.Is(err, ErrFormat) {
			t.Fatalf("%q: err %v, want ErrFormat", s, err)
		}
	}
}
