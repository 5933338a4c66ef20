package vcdiff

import (
	"fmt"
	"os"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// BenchmarkRecode measures Recode throughput (MB/s of input patch) and the
// recoded size ("bytes" metric) per compressor and level, on a generated
// multi-window pair and on the last elf-esbuild and sql-dump versions
// against the first (when the corpus is present).
//
//	go test ./vcdiff -run XXX -bench Recode -benchtime 3x
func BenchmarkRecode(b *testing.B) {
	type input struct {
		name  string
		patch []byte
	}
	src := rcText(40, 4<<20)
	tgt := rcEdit(41, src, 2000)
	gen, err := Encode(nil, src, tgt, WithWindowSize(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	inputs := []input{{"generated-W1M", gen}}
	for _, s := range []string{"elf-esbuild", "sql-dump"} {
		files, err := testtool.SeriesFiles(s)
		if err != nil || len(files) < 2 {
			continue
		}
		src, err1 := os.ReadFile(files[0])
		tgt, err2 := os.ReadFile(files[len(files)-1])
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		p, err := Encode(nil, src, tgt)
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, input{s, p})
	}
	for _, in := range inputs {
		for _, c := range []struct {
			name  string
			id, l int
		}{
			{"lzma1", SecondaryLZMA, 1}, {"lzma6", SecondaryLZMA, 6}, {"lzma9", SecondaryLZMA, 9},
			{"djw6", SecondaryDJW, 6}, {"djw9", SecondaryDJW, 9},
		} {
			b.Run(fmt.Sprintf("%s/%s", in.name, c.name), func(b *testing.B) {
				b.SetBytes(int64(len(in.patch)))
				b.ReportAllocs()
				var out []byte
				for b.Loop() {
					out, err = Recode(out[:0], in.patch, WithRecodeSecondary(c.id), WithRecodeLevel(c.l))
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(in.patch)), "in-bytes")
				b.ReportMetric(float64(len(out)), "bytes")
			})
		}
	}
}
