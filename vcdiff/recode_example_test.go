package vcdiff_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// Recode adds secondary compression to a plain patch; the result decodes
// to the same target, with this package or stock xdelta3 -d.
func ExampleRecode() {
	source := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog\n", 200))
	// Many small edits: many similar instructions and addresses, which
	// LZMA compresses well.
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "the quick brown fox %d jumps over the lazy dog\n", i)
	}
	target := []byte(b.String())

	plain, err := vcdiff.Encode(nil, source, target)
	if err != nil {
		panic(err)
	}
	packed, err := vcdiff.Recode(nil, plain, vcdiff.WithRecodeSecondary(vcdiff.SecondaryLZMA))
	if err != nil {
		panic(err)
	}
	got, err := vcdiff.Decode(nil, packed, source)
	if err != nil {
		panic(err)
	}
	info, err := vcdiff.Inspect(bytes.NewReader(packed))
	if err != nil {
		panic(err)
	}
	fmt.Println("same target:", bytes.Equal(got, target))
	fmt.Println("secondary:", info.SecondaryName)
	fmt.Println("smaller:", len(packed) < len(plain))
	// Output:
	// same target: true
	// secondary: lzma
	// smaller: true
}
