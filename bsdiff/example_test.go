package bsdiff_test

import (
	"bytes"
	"fmt"

	"github.com/deltaglider-go/deltaglider/bsdiff"
)

func Example() {
	old := bytes.Repeat([]byte("call 0x1000; mov eax, 1; ret\n"), 100)
	new := bytes.ReplaceAll(old, []byte("0x1000"), []byte("0x1040"))

	patch, err := bsdiff.Diff(old, new) // BSDIFF40, what bspatch applies
	if err != nil {
		panic(err)
	}
	got, err := bsdiff.Patch(old, patch)
	if err != nil {
		panic(err)
	}
	fmt.Println(bsdiff.Detect(patch), bytes.Equal(got, new), len(patch) < len(new)/10)
	// Output: BSDIFF40 true true
}
