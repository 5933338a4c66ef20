package bsdiff

import (
	"bytes"
	"testing"
)

// FuzzPatch feeds arbitrary patches to the decoder under a small output
// cap: it must never panic, and allocations stay bounded by the cap (the
// declared size is checked before anything is allocated).
func FuzzPatch(f *testing.F) {
	old := []byte("The quick brown fox jumps over the lazy dog. 0123456789")
	for _, new := range [][]byte{
		[]byte("The quick brown cat jumps over the lazy dog! 0123456789 and more"),
		nil,
		old,
	} {
		for _, fm := range formats {
			p, err := Diff(old, new, WithFormat(fm))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, patch []byte) {
		const limit = 1 << 20
		out, err := Patch(old, patch, WithMaxNewSize(limit))
		if err == nil && len(out) > limit {
			t.Fatalf("output %d bytes over the %d cap", len(out), limit)
		}
		var buf bytes.Buffer
		n, err2 := Apply(&buf, bytes.NewReader(old), int64(len(old)), bytes.NewReader(patch), WithMaxNewSize(limit))
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Patch err %v, Apply err %v", err, err2)
		}
		if err == nil && (!bytes.Equal(out, buf.Bytes()) || n != int64(len(out))) {
			t.Fatal("Patch and Apply outputs differ")
		}
	})
}

// FuzzRoundTrip: whatever old and new are, Diff then Patch gives new back,
// in both formats.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("The quick brown fox"), []byte("The quick brown cat!"), false)
	f.Add([]byte{}, []byte{0, 0, 0, 0, 0}, true)
	f.Fuzz(func(t *testing.T, old, new []byte, bsdiff43 bool) {
		fm := FormatBSDIFF40
		if bsdiff43 {
			fm = FormatBSDIFF43
		}
		p, err := Diff(old, new, WithFormat(fm))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Patch(old, p)
		if err != nil {
			t.Fatalf("Patch: %v", err)
		}
		if !bytes.Equal(got, new) {
			t.Fatal("round trip mismatch")
		}
	})
}
