package bsdiff

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

type benchPair struct {
	name     string
	old, new []byte
}

func benchPairs(b *testing.B) []benchPair {
	r := rand.New(rand.NewPCG(31, 32))
	old := genData(r, 1<<20)
	pairs := []benchPair{{"generated/1MiB", old, mutate(r, old)}}
	if files, err := testtool.SeriesFiles("elf-esbuild"); err == nil && len(files) >= 2 {
		o, err1 := os.ReadFile(files[0])
		n, err2 := os.ReadFile(files[1])
		if err1 == nil && err2 == nil {
			pairs = append(pairs, benchPair{"elf-esbuild/" + filepath.Base(files[1]), o, n})
		}
	}
	return pairs
}

func BenchmarkDiff(b *testing.B) {
	for _, p := range benchPairs(b) {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.new)))
			b.ReportAllocs()
			var size int
			for b.Loop() {
				patch, err := Diff(p.old, p.new)
				if err != nil {
					b.Fatal(err)
				}
				size = len(patch)
			}
			b.ReportMetric(100*float64(size)/float64(len(p.new)), "%patch")
		})
	}
}

func BenchmarkApply(b *testing.B) {
	for _, p := range benchPairs(b) {
		patch, err := Diff(p.old, p.new)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.new)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Apply(io.Discard, bytes.NewReader(p.old), int64(len(p.old)), bytes.NewReader(patch)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
