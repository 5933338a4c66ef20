package vcdiff

import "unsafe"

// hugeMin is the smallest buffer adviseHuge bothers with (one huge page is
// 2 MiB; a smaller buffer could not hold an aligned one).
const hugeMin = 4 << 20

// makeHuge returns a zeroed slice of n Ts whose large backing array is
// advised for huge pages before its first use (see adviseHuge).
func makeHuge[T any](n int) []T {
	s := make([]T, n)
	if n > 0 {
		var z T
		adviseHuge(unsafe.Pointer(unsafe.SliceData(s)), n*int(unsafe.Sizeof(z)))
	}
	return s
}
