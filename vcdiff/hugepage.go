package vcdiff

import (
	"math"
	"unsafe"
)

// hugePage is the size of an x86-64 / arm64 transparent huge page.
const hugePage = 2 << 20

// hugeMin is the smallest buffer makeHuge aligns and adviseHuge advises:
// below it, the up to 2 MiB of address space spent on alignment is not
// worth it.
const hugeMin = 4 << 20

// makeHuge returns a zeroed slice of n Ts whose large backing array is
// advised for huge pages before its first use (see adviseHuge). A large
// array is also started on a huge-page boundary: Go's heap aligns big
// objects to 8 KiB only, and the kernel backs with huge pages only the
// aligned 2 MiB stretches, so a 4 MiB table would otherwise get one huge
// page and a thousand small ones, each a page fault. The spare address
// space before and after the aligned part is never touched, so it costs
// no memory.
func makeHuge[T any](n int) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	if size == 0 || hugePage%size != 0 || n > (math.MaxInt-hugePage)/size || n*size < hugeMin {
		return make([]T, n)
	}
	s := make([]T, n+hugePage/size)
	a := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	off := int((hugePage-a%hugePage)%hugePage) / size
	s = s[off : off+n : off+n]
	adviseHuge(unsafe.Pointer(unsafe.SliceData(s)), n*size)
	return s
}

// makeTable returns a zeroed slice of n Ts for a table that is read before
// it is written (a hash table's heads): its pages are written once here.
// Fresh memory read first is mapped to the kernel's shared zero page, and
// the first write to each page then copies it and flushes the TLB of every
// processor the process runs on (an interprocessor interrupt, costly under
// a hypervisor); written first, each page is simply allocated.
func makeTable[T any](n int) []T {
	s := makeHuge[T](n)
	clear(s)
	return s
}
