package vcdiff

import (
	"bytes"
	"encoding/hex"
	"errors"
	"hash/adler32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	tinySrc = "hello world, this is the source file\n"
	tinyTgt = "hello WORLD, this is the source file!!\n"
)

// Hand-written vectors from ../shared/docs/xdelta3-format.md §1.7 and §3.
func TestHandVectors(t *testing.T) {
	runsTgt := "xyz" + strings.Repeat("A", 100) + strings.Repeat("abc", 8)
	cases := []struct {
		name, patch, src, tgt string
	}{
		{"xdelta3-default", `d6c3c400 05 02 09 7467742f2f7372632f 05 2400 18 27 00 080502 09850cdb
			574f524c4421210a 1606131904 000b`, tinySrc, tinyTgt},
		{"run-and-overlapping-copy", `d6c3c400 00 04 177f00 070601 8a012400 78797a41616263 04006404 1315 67`, "", runsTgt},
		{"empty-target", `d6c3c400 05 02 0b 656d7074792f2f7372632f 04 09 00 00 00 00 00 00 00 00 01`, tinySrc, ""},
		{"header-only", `d6c3c400 00`, "", ""},
		{"zero-length-windows", `d6c3c400 00 00 05 00 00 00 00 00  00 05 00 00 00 00 00`, "", ""},
		// open-vcdiff 'S': interleaved ADD 39, no checksum.
		{"sdch-add-only", "d6c3c453 00 01 2500 2e 27 00 00 29 00 0127" + hex.EncodeToString([]byte(tinyTgt)), tinySrc, tinyTgt},
		// Same with its varint seed-0 Adler-32 (bytes open-vcdiff wrote).
		{"sdch-add-only-checksum", "d6c3c453 00 05 2500 32 27 00 00 29 00 caf8995a 0127" + hex.EncodeToString([]byte(tinyTgt)), tinySrc, tinyTgt},
		// Interleaved copies: COPY 6 @0, ADD 5, COPY 25 @11 (explicit size), ADD 3.
		{"sdch-interleaved-copies", "d6c3c453 00 01 2500 14 27 00 00 0f 00 1600 06574f524c44 13190b 0421210a", tinySrc, tinyTgt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode(nil, unhex(t, c.patch), []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.tgt {
				t.Fatalf("got %q, want %q", got, c.tgt)
			}
		})
	}
}

func TestSDCHChecksumMismatch(t *testing.T) {
	p := unhex(t, "d6c3c453 00 05 2500 32 27 00 00 29 00 caf8995b 0127"+hex.EncodeToString([]byte(tinyTgt)))
	if _, err := Decode(nil, p, []byte(tinySrc)); !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	if got := adlerSeed0(adler32.Checksum([]byte(tinyTgt)), len(tinyTgt)); got != 0x095E0CDA {
		t.Fatalf("seed-0 Adler-32 = %08x, want 095e0cda", got)
	}
}

// window builds one window with minimal varints: indicator, optional
// segment, then the delta encoding with an optional 4-byte Adler-32.
func window(ind byte, segLen, segPos uint64, tgtLen uint64, delta byte, data, inst, addr []byte, sum []byte) []byte {
	var enc []byte
	enc = appendVarint(enc, tgtLen)
	enc = append(enc, delta)
	enc = appendVarint(enc, uint64(len(data)))
	enc = appendVarint(enc, uint64(len(inst)))
	enc = appendVarint(enc, uint64(len(addr)))
	enc = append(enc, sum...)
	enc = append(enc, data...)
	enc = append(enc, inst...)
	enc = append(enc, addr...)
	w := []byte{ind}
	if ind&(winSource|winTarget) != 0 {
		w = appendVarint(w, segLen)
		w = appendVarint(w, segPos)
	}
	w = appendVarint(w, uint64(len(enc)))
	return append(w, enc...)
}

func be32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// TestSourceBeyond4GiB copies from a sparse 5 GiB source file at a segment
// position above 2^32, and checks the same patch with xdelta3 -d.
func TestSourceBeyond4GiB(t *testing.T) {
	dir := t.TempDir()
	srcPath := filepath.Join(dir, "sparse.src")
	f, err := os.Create(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	const pos = 5 << 30
	msg := []byte("bytes beyond the 4 GiB line\n")
	if _, err := f.WriteAt(msg, pos+100); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(pos + 4096); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// COPY len(msg) (explicit size, mode SELF) from segment offset 100.
	inst := appendVarint([]byte{19}, uint64(len(msg)))
	patch := append(unhex(t, "d6c3c400 00"), window(winSource|winAdler, 4096, pos, uint64(len(msg)), 0,
		nil, inst, appendVarint(nil, 100), be32(adler32.Checksum(msg)))...)
	d, err := NewDecoder(bytes.NewReader(patch), f, pos+4096)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(d)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("got %q, %v", got, err)
	}
	info, err := Inspect(bytes.NewReader(patch))
	if err != nil || info.Windows[0].SegmentOffset != pos {
		t.Fatalf("Inspect: %+v, %v", info, err)
	}
	// A source that is too short for the segment position.
	d, _ = NewDecoder(bytes.NewReader(patch), f, pos)
	if _, err := io.ReadAll(d); !errors.Is(err, ErrSourceTooShort) {
		t.Fatalf("short source: err = %v", err)
	}

	xd := testtool.Tool(t, "xdelta3")
	patchPath := filepath.Join(dir, "p.vcdiff")
	if err := os.WriteFile(patchPath, patch, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xd, "-d", "-c", "-s", srcPath, patchPath).Output()
	if err != nil || !bytes.Equal(out, msg) {
		t.Fatalf("xdelta3 -d on the same patch: %q, %v", out, err)
	}
}

func TestHostile(t *testing.T) {
	hdr := unhex(t, "d6c3c400 00")
	hdrLZMA := unhex(t, "d6c3c400 01 02")
	hdrFGK := unhex(t, "d6c3c400 01 10")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	// Window claiming a 0xF0000000-byte data section (consistent enclen).
	huge := func() []byte {
		var enc []byte
		enc = appendVarint(enc, 10)
		enc = append(enc, 0)
		enc = appendVarint(enc, 0xF0000000)
		enc = append(enc, 0, 0)
		w := appendVarint([]byte{0}, uint64(len(enc))+0xF0000000)
		return cat(hdr, w, enc)
	}()
	// Window of 16 MiB target declaring 16 MiB data but truncated.
	bigTrunc := func() []byte {
		var enc []byte
		enc = appendVarint(enc, 16<<20)
		enc = append(enc, 0)
		enc = appendVarint(enc, 16<<20)
		enc = appendVarint(enc, 2)
		enc = append(enc, 0)
		w := appendVarint([]byte{0}, uint64(len(enc))+16<<20+2)
		return cat(hdr, w, enc, []byte("only a few bytes"))
	}()
	lzmaBomb := cat(hdrLZMA, window(0, 0, 0, 10, deltaData, appendVarint(nil, 0xF0000000), []byte{1, 0}, nil, nil))
	cases := []struct {
		name  string
		patch []byte
		src   []byte
		opts  []DecoderOption
		want  error // sentinel, or nil for *CorruptInputError
	}{
		{"empty", nil, nil, nil, ErrFormat},
		{"bad-magic", unhex(t, "d6c3c500 00"), nil, nil, ErrFormat},
		{"version-1", unhex(t, "d6c3c401 00"), nil, nil, ErrUnsupported},
		{"header-truncated", unhex(t, "d6c3c400"), nil, nil, io.ErrUnexpectedEOF},
		{"unknown-header-bits", unhex(t, "d6c3c400 08"), nil, nil, nil},
		{"code-table", unhex(t, "d6c3c400 02"), nil, nil, ErrUnsupported},
		{"secondary-id-7", unhex(t, "d6c3c400 01 07"), nil, nil, ErrUnsupported},
		{"sdch-app-header-bit", unhex(t, "d6c3c453 04 00"), nil, nil, nil},
		{"app-header-too-long", unhex(t, "d6c3c400 04 ffff7f"), nil, nil, ErrLimit},
		{"app-header-truncated", unhex(t, "d6c3c400 04 05 6162"), nil, nil, io.ErrUnexpectedEOF},
		{"app-header-cap", unhex(t, "d6c3c400 04 05 6162636465"), nil, []DecoderOption{WithMaxAppHeader(4)}, ErrLimit},
		{"unknown-window-bits", cat(hdr, []byte{0x08}), nil, nil, nil},
		{"source-and-target", cat(hdr, window(winSource|winTarget, 0, 0, 0, 0, nil, nil, nil, nil)), nil, nil, nil},
		{"vcd-target", cat(hdr, window(winTarget, 0, 0, 0, 0, nil, nil, nil, nil)), nil, nil, ErrUnsupported},
		{"delta-bits-without-secondary", cat(hdr, window(0, 0, 0, 0, deltaInst, nil, nil, nil, nil)), nil, nil, nil},
		{"unknown-delta-bits", cat(hdrLZMA, window(0, 0, 0, 0, 0x08, nil, nil, nil, nil)), nil, nil, nil},
		{"fgk-section", cat(hdrFGK, window(0, 0, 0, 4, deltaData, []byte{4, 1, 2, 3}, []byte{5}, nil, nil)), nil, nil, ErrUnsupported},
		{"fgk-declared-unused", cat(hdrFGK, window(0, 0, 0, 1, 0, []byte{'x'}, []byte{2}, nil, nil)), nil, nil, errNone},
		{"huge-data-section", huge, nil, nil, ErrLimit},
		{"big-window-truncated", bigTrunc, nil, nil, io.ErrUnexpectedEOF},
		{"lzma-decoded-size-bomb", lzmaBomb, nil, nil, ErrLimit},
		{"lzma-garbage", cat(hdrLZMA, window(0, 0, 0, 3, deltaData, []byte{3, 1, 2, 3, 4, 5}, []byte{4}, nil, nil)), nil, nil, nil},
		{"window-cap", cat(hdr, window(0, 0, 0, 1, 0, []byte{'x'}, []byte{2}, nil, nil)), nil, []DecoderOption{WithMaxWindowSize(0)}, ErrInvalidOption},
		{"target-over-window-cap", cat(hdr, window(0, 0, 0, 100, 0, nil, []byte{0, 100}, nil, nil)), nil, []DecoderOption{WithMaxWindowSize(99)}, ErrLimit},
		{"output-cap", cat(hdr, window(0, 0, 0, 100, 0, []byte{'x'}, []byte{0, 100}, nil, nil)), nil, []DecoderOption{WithMaxOutput(99)}, ErrLimit},
		{"windows-cap", cat(hdr, window(0, 0, 0, 0, 0, nil, nil, nil, nil), window(0, 0, 0, 0, 0, nil, nil, nil, nil)), nil, []DecoderOption{WithMaxWindows(1)}, ErrLimit},
		{"enclen-mismatch", cat(hdr, unhex(t, "00 06 01 00 01 01 00 78 02")), nil, nil, nil},
		{"non-minimal-header-varint", cat(hdr, unhex(t, "00 08 8001 00 01 01 00 78 02")), nil, nil, errNone},
		{"varint-too-long", cat(hdr, unhex(t, "00 80808080808080808080 01")), nil, nil, nil},
		{"trailing-garbage", cat(hdr, window(0, 0, 0, 1, 0, []byte{'x'}, []byte{2}, nil, nil), []byte{0x00, 0x05}), nil, nil, io.ErrUnexpectedEOF},
		{"add-past-data", cat(hdr, window(0, 0, 0, 2, 0, []byte{'x'}, []byte{3}, nil, nil)), nil, nil, nil},
		{"run-past-data", cat(hdr, window(0, 0, 0, 2, 0, nil, []byte{0, 2}, nil, nil)), nil, nil, nil},
		{"inst-past-target", cat(hdr, window(0, 0, 0, 1, 0, []byte{'x', 'y'}, []byte{3}, nil, nil)), nil, nil, nil},
		{"short-output", cat(hdr, window(0, 0, 0, 2, 0, []byte{'x'}, []byte{2}, nil, nil)), nil, nil, nil},
		{"extra-data", cat(hdr, window(0, 0, 0, 1, 0, []byte{'x', 'y'}, []byte{2}, nil, nil)), nil, nil, nil},
		{"extra-addr", cat(hdr, window(0, 0, 0, 1, 0, []byte{'x'}, []byte{2}, []byte{0}, nil)), nil, nil, nil},
		{"size-varint-truncated", cat(hdr, window(0, 0, 0, 1, 0, []byte{'x'}, []byte{1, 0x81}, nil, nil)), nil, nil, nil},
		{"copy-address-not-before-here", cat(hdr, window(0, 0, 0, 4, 0, nil, []byte{20}, []byte{0}, nil)), nil, nil, nil},
		{"here-underflow", cat(hdr, window(0, 0, 0, 5, 0, []byte{'x'}, []byte{2, 20 + 16}, []byte{5}, nil)), nil, nil, nil},
		{"same-address-missing", cat(hdr, window(0, 0, 0, 5, 0, []byte{'x'}, []byte{2, 20 + 16*6}, nil, nil)), nil, nil, nil},
		{"copy-straddles-segment", cat(hdr, window(winSource, 4, 0, 8, 0, nil, []byte{24}, []byte{2}, nil)), []byte("abcdefgh"), nil, nil},
		{"copy-needs-source", cat(hdr, window(winSource, 4, 0, 4, 0, nil, []byte{20}, []byte{0}, nil)), nil, nil, ErrSourceRequired},
		{"source-too-short", cat(hdr, window(winSource, 8, 0, 8, 0, nil, []byte{24}, []byte{0}, nil)), []byte("abc"), nil, ErrSourceTooShort},
		{"segment-past-source-unused", cat(hdr, window(winSource, 1000, 0, 4, 0, nil, []byte{20}, []byte{0}, nil)), []byte("abcd"), nil, errNone},
		{"checksum", cat(hdr, window(winAdler, 0, 0, 1, 0, []byte{'x'}, []byte{2}, nil, []byte{0, 0, 0, 1})), nil, nil, ErrChecksum},
		{"checksum-off", cat(hdr, window(winAdler, 0, 0, 1, 0, []byte{'x'}, []byte{2}, nil, []byte{0, 0, 0, 1})), nil, []DecoderOption{WithVerifyChecksum(false)}, errNone},
		{"zero-size-ops", cat(hdr, window(0, 0, 0, 1, 0, []byte{'x', 'y'}, []byte{2, 1, 0, 0, 0, 19, 0}, []byte{0}, nil)), nil, nil, errNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Decode(nil, c.patch, c.src, c.opts...)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
			switch {
			case c.want == errNone:
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
			case c.want == nil:
				var ce *CorruptInputError
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want *CorruptInputError", err)
				}
			case !errors.Is(err, c.want):
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "vcdiff: ") && err != io.ErrUnexpectedEOF {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// errNone marks hostile-looking cases that must decode.
var errNone = errors.New("no error expected")

// TestDecodeMemoryIsPerWindow streams a 256 MiB target (64 windows of a
// 4 MiB RUN each, Adler-32 checked) and requires the decoder to allocate
// about one window, not the target.
func TestDecodeMemoryIsPerWindow(t *testing.T) {
	const win, windows = 4 << 20, 64
	run := bytes.Repeat([]byte{'z'}, win)
	sum := be32(adler32.Checksum(run))
	patch := unhex(t, "d6c3c400 00")
	for range windows {
		patch = append(patch, window(winAdler, 0, 0, win, 0, []byte{'z'}, appendVarint([]byte{0}, win), nil, sum)...)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, err := NewDecoder(bytes.NewReader(patch), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.WriteTo(io.Discard)
	runtime.ReadMemStats(&after)
	if err != nil || n != win*windows {
		t.Fatalf("decoded %d bytes: %v", n, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*win {
		t.Fatalf("allocated %d bytes to decode %d windows of %d bytes", alloc, windows, win)
	}
}

func TestAdler32(t *testing.T) {
	buf := genRandom(11, 1<<16)
	ff := bytes.Repeat([]byte{0xff}, 1<<16) // largest lane values
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 127, 128, 129, 255, 1000, 5552, 5553, 65536} {
		for _, b := range [][]byte{buf[:n], ff[:n], buf[len(buf)-n:]} {
			if got, want := adlerSum(b), adler32.Checksum(b); got != want {
				t.Fatalf("adlerSum of %d bytes = %08x, want %08x", n, got, want)
			}
		}
	}
	big := bytes.Repeat(ff, 300) // ~20 MB of 0xff: sums wrap many times
	if got, want := adlerSum(big), adler32.Checksum(big); got != want {
		t.Fatalf("adlerSum of %d bytes = %08x, want %08x", len(big), got, want)
	}
	// adlerUpdate continues a checksum: any split gives the whole's, also
	// from sums near the modulus.
	for _, data := range [][]byte{buf, ff, big[:1<<20]} {
		want := adler32.Checksum(data)
		for _, cut := range []int{0, 1, 7, 8, 129, 5553, len(data) / 2, len(data) - 1, len(data)} {
			if got := adlerUpdate(adlerSum(data[:cut]), data[cut:]); got != want {
				t.Fatalf("adlerUpdate after %d of %d bytes = %08x, want %08x", cut, len(data), got, want)
			}
		}
	}
}

func BenchmarkAdler32(b *testing.B) {
	buf := genRandom(12, 1<<20)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		adlerSum(buf)
	}
}

// patternSource is a synthetic io.ReaderAt of size bytes whose byte at i
// is byte(i*7 + i>>16): large sources without the memory.
type patternSource struct{ size int64 }

func (p patternSource) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for ; n < len(b) && off+int64(n) < p.size; n++ {
		i := off + int64(n)
		b[n] = byte(i*7 + i>>16)
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// TestSourceCache reads random spans through the cache, for a source that
// gets a slot per block (with a partial last block) and for one larger than
// srcCacheMax (set-associative slots that evict each other).
func TestSourceCache(t *testing.T) {
	for _, size := range []int64{srcBlockSize*5 + 123, srcCacheMax*2 + 999} {
		var c sourceCache
		c.reset(patternSource{size}, size)
		rng := uint64(size)
		next := func(n int64) int64 {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			return int64(rng % uint64(n))
		}
		buf := make([]byte, 3*srcBlockSize)
		for range 3000 {
			n := 1 + next(2*srcBlockSize)
			if next(4) == 0 {
				n = 1 + next(64)
			}
			off := next(size - n + 1)
			if next(8) == 0 {
				off = size - n // the tail
			}
			dst := buf[:n]
			if err := c.readAt(dst, off); err != nil {
				t.Fatalf("size %d: readAt(%d, %d): %v", size, n, off, err)
			}
			for i, b := range dst {
				if j := off + int64(i); b != byte(j*7+j>>16) {
					t.Fatalf("size %d: readAt(%d, %d): byte %d wrong", size, n, off, i)
				}
			}
		}
	}
	// A source shorter than declared fails with ErrSourceTooShort, and the
	// failed block is not left marked as cached.
	var c sourceCache
	c.reset(patternSource{100}, 5000)
	dst := make([]byte, 10)
	for range 2 {
		if err := c.readAt(dst, 200); !errors.Is(err, ErrSourceTooShort) {
			t.Fatalf("short source: %v", err)
		}
	}
	if err := c.readAt(dst, 50); err == nil {
		// The block holding offset 50 also covers the missing bytes.
		t.Fatal("short source: read of a short block succeeded")
	}
}

// countingSource counts the reads that reach the underlying source.
type countingSource struct {
	patternSource
	reads int
}

func (c *countingSource) ReadAt(b []byte, off int64) (int, error) {
	c.reads++
	return c.patternSource.ReadAt(b, off)
}

// TestSourceCacheSetAssociative: in a source larger than the cache, copies
// alternating between regions whose blocks fall into the same sets (here
// three regions srcCacheMax apart, fewer than srcCacheWays) read each
// block from the source once, and the memory held stays srcCacheMax.
func TestSourceCacheSetAssociative(t *testing.T) {
	size := int64(4 * srcCacheMax)
	src := &countingSource{patternSource: patternSource{size}}
	var c sourceCache
	c.reset(src, size)
	dst := make([]byte, 100)
	const blocks = 64
	for round := range 3 {
		for b := int64(0); b < blocks; b++ {
			for r := int64(0); r < 3; r++ {
				off := r*srcCacheMax + b*srcBlockSize + int64(round)*1000
				if err := c.readAt(dst, off); err != nil {
					t.Fatal(err)
				}
				for i, v := range dst {
					if j := off + int64(i); v != byte(j*7+j>>16) {
						t.Fatalf("readAt(%d): byte %d wrong", off, i)
					}
				}
			}
		}
	}
	if want := 3 * blocks; src.reads != want {
		t.Errorf("%d reads of the source, want %d (one per block)", src.reads, want)
	}
	if len(c.slab) != srcCacheMax {
		t.Errorf("cache slab of %d bytes, want %d", len(c.slab), srcCacheMax)
	}
}
