package djw_test

import (
	"bytes"
	"fmt"

	"github.com/deltaglider-go/deltaglider/vcdiff/internal/djw"
)

func Example() {
	section := bytes.Repeat([]byte("ADD COPY COPY RUN "), 200)
	enc := djw.Encode(nil, section, 9)
	// A VCDIFF section would carry varint(len(section)) before enc.
	dec, err := djw.Decode(enc, len(section))
	fmt.Println(err, bytes.Equal(dec, section), len(enc) < len(section)/2)
	// Output: <nil> true true
}
