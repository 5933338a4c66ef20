package vcdiff_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// A patch written by `xdelta3 -e -s src tgt patch` (xdelta3 3.0.11, all
// defaults): LZMA secondary declared, application header "tgt//src/",
// one window with an Adler-32.
var (
	exampleSource = []byte("hello world, this is the source file\n")
	examplePatch  = []byte("\xd6\xc3\xc4\x00\x05\x02\x09tgt//src/\x05\x24\x00\x18\x27\x00\x08\x05\x02" +
		"\x09\x85\x0c\xdbWORLD!!\n\x16\x06\x13\x19\x04\x00\x0b")
)

func ExampleDecode() {
	target, err := vcdiff.Decode(nil, examplePatch, exampleSource)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", target)
	// Output: "hello WORLD, this is the source file!!\n"
}

func ExampleNewDecoder() {
	// Stream the target: the patch is read sequentially and the source is
	// read at the offsets the patch copies from (an *os.File works too).
	d, err := vcdiff.NewDecoder(bytes.NewReader(examplePatch), bytes.NewReader(exampleSource), int64(len(exampleSource)))
	if err != nil {
		log.Fatal(err)
	}
	h := d.Header()
	fmt.Printf("secondary %s, app header %q\n", vcdiff.SecondaryName(h.Secondary), h.AppHeader)
	if _, err := io.Copy(os.Stdout, d); err != nil {
		log.Fatal(err)
	}
	// Output:
	// secondary lzma, app header "tgt//src/"
	// hello WORLD, this is the source file!!
}

func ExampleNewDecoder_wrongSource() {
	// Each window's Adler-32 is verified before its bytes are returned.
	wrong := bytes.ToUpper(exampleSource)
	_, err := vcdiff.Decode(nil, examplePatch, wrong)
	fmt.Println(errors.Is(err, vcdiff.ErrChecksum))
	fmt.Println(err)
	// Output:
	// true
	// vcdiff: target window checksum mismatch (wrong source file?): window 0 (target bytes 0..39): patch says 09850cdb, decoded cf3609db

}

func ExampleInspect() {
	info, err := vcdiff.Inspect(bytes.NewReader(examplePatch))
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range info.Windows {
		fmt.Printf("window %d: source segment %d@%d, target %d bytes, adler32 %08x\n",
			w.Index, w.SegmentLength, w.SegmentOffset, w.TargetLength, w.Checksum)
	}
	// Output: window 0: source segment 36@0, target 39 bytes, adler32 09850cdb
}
