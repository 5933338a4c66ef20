package vcdiff

import (
	"testing"
	"unsafe"
)

// TestMakeHuge: large slices start on a huge-page boundary, have exactly
// the length and capacity asked for, and are zeroed; small ones are plain.
func TestMakeHuge(t *testing.T) {
	for _, n := range []int{0, 1, hugeMin/4 - 1, hugeMin / 4, hugeMin/4 + 12345, 3 * hugeMin} {
		s := makeHuge[int32](n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("makeHuge(%d): len %d cap %d", n, len(s), cap(s))
		}
		for i, v := range s {
			if v != 0 {
				t.Fatalf("makeHuge(%d)[%d] = %d", n, i, v)
			}
		}
		if a := uintptr(unsafe.Pointer(unsafe.SliceData(s))); n*4 >= hugeMin && a%hugePage != 0 {
			t.Errorf("makeHuge(%d) starts at %#x, not on a %d-byte boundary", n, a, hugePage)
		}
	}
	if b := makeHuge[byte](hugeMin + 1); uintptr(unsafe.Pointer(unsafe.SliceData(b)))%hugePage != 0 {
		t.Errorf("makeHuge[byte] not aligned")
	}
}
