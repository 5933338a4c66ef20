package vcdiff

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/ulikunitz/xz/lzma"
)

// xzHeaders builds the xz stream header and LZMA2 block header xdelta3 puts
// in front of a stream's first compressed section (lzma-sections.md).
func xzHeaders(dictCode byte) []byte {
	h := []byte{0xFD, '7', 'z', 'X', 'Z', 0, 0, 0}
	h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h[6:8]))
	blk := []byte{0x02, 0x00, 0x21, 0x01, dictCode, 0, 0, 0}
	blk = binary.LittleEndian.AppendUint32(blk, crc32.ChecksumIEEE(blk))
	return append(h, blk...)
}

// lzmaSections compresses each section with one persistent LZMA2 writer,
// flushing after each (what xdelta3 does), and returns the payloads.
func lzmaSections(t *testing.T, dictCap int, dictCode byte, props *lzma.Properties, secs [][]byte) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := lzma.Writer2Config{DictCap: dictCap, Properties: props}.NewWriter2(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i, s := range secs {
		if _, err := w.Write(s); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		p := bytes.Clone(buf.Bytes())
		buf.Reset()
		if i == 0 {
			p = append(xzHeaders(dictCode), p...)
		}
		out = append(out, p)
	}
	return out
}

func testSections() [][]byte {
	var secs [][]byte
	secs = append(secs, []byte(strings.Repeat("the quick brown fox ", 500)))
	secs = append(secs, genRandom(7, 20000))
	secs = append(secs, genStructured(8, 300000)) // several wraps of a 64 KiB dictionary
	secs = append(secs, bytes.Repeat([]byte{0}, 70000))
	secs = append(secs, []byte("x"))
	secs = append(secs, append(genRandom(9, 5000), genRandom(9, 5000)...)) // a long match far back
	secs = append(secs, genStructured(10, 3<<20))                          // > one 2 MiB chunk
	return secs
}

// TestLZMASections decodes sections written by an independent LZMA2 encoder
// (ulikunitz/xz), with a 64 KiB dictionary so matches cross the circular
// buffer's wrap, several lc/lp/pb settings, and xdelta3's 256 KiB dictionary.
func TestLZMASections(t *testing.T) {
	secs := testSections()
	for _, dict := range []struct {
		size  int
		code  byte
		props *lzma.Properties
	}{
		{64 << 10, 8, nil},
		{64 << 10, 8, &lzma.Properties{LC: 0, LP: 2, PB: 0}},
		{64 << 10, 8, &lzma.Properties{LC: 1, LP: 3, PB: 4}},
		{256 << 10, 12, nil},
	} {
		payloads := lzmaSections(t, dict.size, dict.code, dict.props, secs)
		var s lzmaStream
		var out []byte
		for i, p := range payloads {
			got, err := s.decode(p, len(secs[i]), out)
			if err != nil {
				t.Fatalf("dict %d section %d: %v", dict.size, i, err)
			}
			if !bytes.Equal(got, secs[i]) {
				t.Fatalf("dict %d section %d: output differs at %d", dict.size, i, firstDiff(got, secs[i]))
			}
			out = got[:0]
		}
	}
}

func TestLZMASectionErrors(t *testing.T) {
	secs := testSections()[:3]
	payloads := lzmaSections(t, 64<<10, 8, nil, secs)
	try := func(name string, mutate func(ps [][]byte, ns []int)) {
		ps := make([][]byte, len(payloads))
		for i := range payloads {
			ps[i] = bytes.Clone(payloads[i])
		}
		ns := []int{len(secs[0]), len(secs[1]), len(secs[2])}
		mutate(ps, ns)
		var s lzmaStream
		for i := range ps {
			if _, err := s.decode(ps[i], ns[i], nil); err != nil {
				return
			}
		}
		t.Errorf("%s: no error", name)
	}
	try("declared size one short", func(ps [][]byte, ns []int) { ns[0]-- })
	try("declared size one long", func(ps [][]byte, ns []int) { ns[1]++ })
	try("truncated", func(ps [][]byte, ns []int) { ps[2] = ps[2][:len(ps[2])-1] })
	try("bad header CRC", func(ps [][]byte, ns []int) { ps[0][9] ^= 1 })
	try("flipped chunk byte", func(ps [][]byte, ns []int) { ps[2][len(ps[2])/2] ^= 0xff })
	try("dictionary too large", func(ps [][]byte, ns []int) {
		ps[0] = append(xzHeaders(40), ps[0][24:]...)
	})
	try("end marker", func(ps [][]byte, ns []int) { ps[1] = append(ps[1], 0) })
}

// TestLZMACorruptedChunks flips bytes inside valid LZMA2 sections (chunk
// headers and range coder data alike): decoding must fail cleanly or
// produce some output, never panic or overrun, and the decoder must keep
// working for a fresh stream afterwards.
func TestLZMACorruptedChunks(t *testing.T) {
	secs := testSections()[:4]
	payloads := lzmaSections(t, 64<<10, 8, &lzma.Properties{LC: 3, LP: 0, PB: 2}, secs)
	rng := uint64(1)
	next := func(n int) int {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return int(rng % uint64(n))
	}
	var s lzmaStream
	for iter := range 1000 {
		s.reset()
		bad := next(len(payloads))
		for i, p := range payloads {
			if i == bad {
				p = bytes.Clone(p)
				for range 1 + next(3) {
					p[next(len(p))] ^= byte(1 + next(255))
				}
			}
			got, err := s.decode(p, len(secs[i]), nil)
			if err != nil {
				break
			}
			if len(got) != len(secs[i]) {
				t.Fatalf("iteration %d section %d: %d bytes, want %d", iter, i, len(got), len(secs[i]))
			}
		}
	}
	s.reset()
	for i, p := range payloads {
		got, err := s.decode(p, len(secs[i]), nil)
		if err != nil || !bytes.Equal(got, secs[i]) {
			t.Fatalf("section %d after corruption runs: %v", i, err)
		}
	}
}
