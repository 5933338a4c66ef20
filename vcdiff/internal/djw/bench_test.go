package djw

import (
	"fmt"
	"testing"
)

var benchSizes = []int{4 << 10, 256 << 10}

func BenchmarkDecode(b *testing.B) {
	for _, kind := range []string{"text", "binary", "skewed"} {
		for _, level := range []int{6, 9} {
			for _, size := range benchSizes {
				src := genInput(kind, size, 1)
				enc := Encode(nil, src, level)
				b.Run(fmt.Sprintf("%s/djw%d/%d", kind, level, size), func(b *testing.B) {
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := Decode(enc, size); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(len(enc))/float64(size), "ratio")
				})
			}
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, kind := range []string{"text", "binary", "skewed"} {
		for _, level := range []int{6, 7, 9} {
			for _, size := range benchSizes {
				src := genInput(kind, size, 1)
				dst := make([]byte, 0, 2*size)
				b.Run(fmt.Sprintf("%s/djw%d/%d", kind, level, size), func(b *testing.B) {
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						dst = Encode(dst[:0], src, level)
					}
					b.ReportMetric(float64(len(dst))/float64(size), "ratio")
				})
			}
		}
	}
}
