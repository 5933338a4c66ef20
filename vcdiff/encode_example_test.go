package vcdiff_test

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

func ExampleEncode() {
	source := bytes.Repeat([]byte("version 1.0 of a large file. "), 1000)
	target := bytes.Replace(source, []byte("1.0"), []byte("1.1"), 3)

	patch, err := vcdiff.Encode(nil, source, target, vcdiff.WithLevel(vcdiff.BestLevel))
	if err != nil {
		log.Fatal(err)
	}
	got, err := vcdiff.Decode(nil, patch, source)
	fmt.Println(bytes.Equal(got, target), err, len(patch) < 100)
	// Output: true <nil> true
}

func ExampleNewEncoder() {
	// Stream a target into a patch with LZMA secondary compression, as
	// `xdelta3 -e` writes by default: the encoder's output goes through a
	// Recoder. The source is any io.ReaderAt (an *os.File works).
	source := bytes.Repeat([]byte("the reference version of some file\n"), 3000)
	target := append(bytes.Clone(source), "one more line\n"...)

	var patch bytes.Buffer
	rec, err := vcdiff.NewRecoder(&patch, vcdiff.WithRecodeSecondary(vcdiff.SecondaryLZMA))
	if err != nil {
		log.Fatal(err)
	}
	enc, err := vcdiff.NewEncoder(rec, bytes.NewReader(source), int64(len(source)))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := enc.Write(target); err != nil { // or enc.ReadFrom(file)
		log.Fatal(err)
	}
	if err := enc.Close(); err != nil { // flushes the last window
		log.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		log.Fatal(err)
	}

	d, err := vcdiff.NewDecoder(&patch, bytes.NewReader(source), int64(len(source)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(vcdiff.SecondaryName(d.Header().Secondary))
	var out bytes.Buffer
	if _, err := d.WriteTo(&out); err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(out.Bytes()[out.Len()-14:])
	// Output:
	// lzma
	// one more line
}
