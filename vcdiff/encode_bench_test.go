package vcdiff

import (
	"fmt"
	"os"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// BenchmarkEncode encodes the last version of a corpus series against its
// first (the DeltaGlider scheme) on one core: BenchmarkEncode/<series>/<level>.
func BenchmarkEncode(b *testing.B) {
	for _, series := range []string{"gomod-x-net", "elf-esbuild", "sql-dump", "npm-typescript-tar", "npm-esbuild-tgz"} {
		b.Run(series, func(b *testing.B) {
			files, err := testtool.SeriesFiles(series)
			if err != nil || len(files) < 2 {
				b.Skipf("corpus series %s not available", series)
			}
			src, err := os.ReadFile(files[0])
			if err != nil {
				b.Fatal(err)
			}
			tgt, err := os.ReadFile(files[len(files)-1])
			if err != nil {
				b.Fatal(err)
			}
			for _, lvl := range []int{1, DefaultLevel, BestLevel} {
				b.Run(fmt.Sprint(lvl), func(b *testing.B) {
					b.SetBytes(int64(len(tgt)))
					b.ReportAllocs()
					var p []byte
					for b.Loop() {
						p, err = Encode(p[:0], src, tgt, WithLevel(lvl), WithConcurrency(1))
						if err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(len(p)), "patch-bytes")
				})
			}
		})
	}
}
