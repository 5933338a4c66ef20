package vcdiff

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// BenchmarkDecode measures decode throughput (bytes of target per second)
// on real corpus pairs in DeltaGlider's scheme: the first version is the
// source, the last one the target, patch made by stock `xdelta3 -e -9 -s`
// (LZMA secondary, as DeltaGlider writes them). The source is read from its
// file, as the CLI does. Compare with bench/decode.sh, which times
// `xdelta3 -d` on the same pairs.
func BenchmarkDecode(b *testing.B) {
	b.Run("golden/text.w16k", func(b *testing.B) {
		patch := readGolden(b, "text.w16k.vcdiff")
		src := readGolden(b, "text.src")
		tgt := readGolden(b, "text.tgt")
		benchDecode(b, patch, bytes.NewReader(src), int64(len(src)), int64(len(tgt)))
	})
	xd := testtool.Tool(b, "xdelta3")
	for _, series := range []string{"gomod-x-net", "elf-esbuild", "npm-typescript-tar"} {
		files, err := testtool.SeriesFiles(series)
		if err != nil || len(files) < 2 {
			continue // the subset `make test` fetches lacks some series
		}
		for _, flags := range [][]string{{"-9"}, {"-9", "-S", "none"}} {
			name := fmt.Sprintf("%s/v0-vlast/xdelta3%s", series, flags)
			b.Run(name, func(b *testing.B) {
				dir := b.TempDir()
				out := filepath.Join(dir, "p.vcdiff")
				args := append([]string{"-e", "-f"}, flags...)
				args = append(args, "-s", files[0], files[len(files)-1], out)
				if msg, err := exec.Command(xd, args...).CombinedOutput(); err != nil {
					b.Fatalf("xdelta3: %v %s", err, msg)
				}
				patch, err := os.ReadFile(out)
				if err != nil {
					b.Fatal(err)
				}
				f, err := os.Open(files[0])
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				st, _ := f.Stat()
				tst, err := os.Stat(files[len(files)-1])
				if err != nil {
					b.Fatal(err)
				}
				benchDecode(b, patch, f, st.Size(), tst.Size())
			})
		}
	}
}

func benchDecode(b *testing.B, patch []byte, src io.ReaderAt, srcSize, tgtSize int64) {
	b.SetBytes(tgtSize)
	b.ReportAllocs()
	d, err := NewDecoder(bytes.NewReader(patch), src, srcSize)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := d.Reset(bytes.NewReader(patch), src, srcSize); err != nil {
			b.Fatal(err)
		}
		n, err := d.WriteTo(io.Discard)
		if err != nil || n != tgtSize {
			b.Fatalf("decoded %d bytes, want %d: %v", n, tgtSize, err)
		}
	}
}
