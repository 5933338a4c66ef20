package vcdiff

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode decodes arbitrary patches under tight limits. It must never
// panic or hang, and a patch that decodes must also pass Inspect with the
// same target size. Seeds: every golden xdelta3 patch, each paired with its
// source (the fuzzer picks the source by index).
func FuzzDecode(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.src"))
	var sources [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		sources = append(sources, b)
	}
	sources = append(sources, nil) // no source
	for _, c := range loadGolden(f) {
		patch := readGolden(f, c.patch)
		if len(patch) > 1400 {
			continue // large seeds make the fuzzer's minimization slow; small ones cover the same paths
		}
		sel := len(sources) - 1
		if c.withSrc {
			for i, n := range names {
				if strings.TrimSuffix(filepath.Base(n), ".src") == c.pair {
					sel = i
				}
			}
		}
		f.Add(patch, uint8(sel))
	}
	// open-vcdiff 'S' (interleaved, varint checksum) and a RUN + overlapping COPY.
	f.Add([]byte("\xd6\xc3\xc4S\x00\x05\x25\x00\x18\x27\x00\x00\x0f\x00\xca\xf8\x99\x5a"+
		"\x16\x00\x06WORLD\x13\x19\x0b\x04!!\n"), uint8(len(sources)-2))
	f.Add([]byte("\xd6\xc3\xc4\x00\x00\x04\x17\x7f\x00\x07\x06\x01\x8a\x01\x24\x00xyzAabc\x04\x00\x64\x04\x13\x15\x67"), uint8(len(sources)-1))
	opts := []DecoderOption{WithMaxWindowSize(1 << 20), WithMaxOutput(4 << 20), WithMaxWindows(1000), WithMaxAppHeader(1024)}
	f.Fuzz(func(t *testing.T, patch []byte, sel uint8) {
		src := sources[int(sel)%len(sources)]
		out, err := Decode(nil, patch, src, opts...)
		if err != nil {
			if out != nil && len(out) > 4<<20 {
				t.Fatalf("output %d bytes beyond the cap", len(out))
			}
			return
		}
		info, err := Inspect(bytes.NewReader(patch), opts...)
		if err != nil {
			t.Fatalf("decodes but Inspect fails: %v", err)
		}
		if info.TargetSize != int64(len(out)) {
			t.Fatalf("Inspect target size %d, decoded %d", info.TargetSize, len(out))
		}
		// The streaming path agrees with the one-shot path.
		var srcRA io.ReaderAt
		if src != nil {
			srcRA = bytes.NewReader(src)
		}
		d, err := NewDecoder(bytes.NewReader(patch), srcRA, int64(len(src)), opts...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(d)
		if err != nil && !errors.Is(err, ErrSourceRequired) {
			t.Fatalf("streaming decode fails where Decode succeeded: %v", err)
		}
		if err == nil && !bytes.Equal(got, out) {
			t.Fatal("streaming output differs from Decode")
		}
	})
}
