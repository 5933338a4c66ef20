package delta

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/fsstore"
)

// genReader streams a deterministic "sparse-ish" object: block after block
// of a base block, each with a few bytes changed and some runs of zeros,
// never holding more than one block.
type genReader struct {
	base  []byte
	block []byte
	size  int64
	off   int64
	n     int // index of the current block
	pos   int // position in block
}

func newGen(base []byte, size int64) *genReader {
	g := &genReader{base: base, block: make([]byte, len(base)), size: size}
	g.fill()
	return g
}

func (g *genReader) fill() {
	copy(g.block, g.base)
	binary.LittleEndian.PutUint64(g.block[4096:], uint64(g.n)*0x9e3779b97f4a7c15)
	if g.n%3 == 0 {
		clear(g.block[len(g.block)/2 : len(g.block)/2+1<<20]) // sparse-ish runs
	}
	g.pos = 0
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	if g.pos == len(g.block) {
		g.n++
		g.fill()
	}
	n := copy(p, g.block[g.pos:])
	if rem := g.size - g.off; int64(n) > rem {
		n = int(rem)
	}
	g.pos += n
	g.off += int64(n)
	return n, nil
}

// vmHWM returns the process's peak resident set size in bytes (Linux).
func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmHWM")
	return 0
}

// TestHugeObjectStreamed puts and gets a 2 GiB object through fsstore
// and checks that the process's peak RSS stays far below the object size.
// It takes minutes, so it runs only with LONG=1.
func TestHugeObjectStreamed(t *testing.T) {
	if os.Getenv("LONG") != "1" {
		t.Skip("set LONG=1 to run the huge-object test")
	}
	const size = 1<<31 + 12345 // just over 2 GiB
	// The encoder holds the 32 MiB reference and its index, the decoder a
	// window or two, this test 3 copies of the base block: about 300 MiB
	// measured, whatever the object's size.
	const limit = 512 << 20
	debug.SetGCPercent(50)
	dir := t.TempDir()
	s, err := fsstore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := newBucket(t, "fsstore", s)
	c := newClient(t, s, WithTempDir(dir))
	ctx := context.Background()
	base := randBytes(77, 32<<20)
	// Seed the deltaspace with a 32 MiB reference (the encoder keeps the
	// reference and its index in memory, not the target).
	put(t, c, ts.bucket, "huge/base.bin.tar", base)

	h := sha256.New()
	info, err := c.Put(ctx, ts.bucket, "huge/big.tar", io.TeeReader(newGen(base, size), h), PutOptions{Size: size})
	if err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(h.Sum(nil))
	if info.StoredAs != Delta || info.SHA256 != want || info.Size != size {
		t.Fatalf("Put: %+v", info)
	}
	t.Logf("put %d bytes as a %d-byte delta; peak RSS so far %d MiB", int64(size), info.StoredSize, vmHWM(t)>>20)

	rc, _, err := c.Get(ctx, ts.bucket, "huge/big.tar", GetOptions{Length: -1})
	if err != nil {
		t.Fatal(err)
	}
	h2 := sha256.New()
	g := newGen(base, size)
	cmp := &compareWriter{want: bufio.NewReaderSize(g, 1<<20)}
	n, err := io.Copy(io.MultiWriter(h2, cmp), rc)
	rc.Close()
	if err != nil || n != size || cmp.err != nil {
		t.Fatalf("Get: %d bytes, %v, compare %v", n, err, cmp.err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	hwm := vmHWM(t)
	t.Logf("got %d bytes back; peak RSS %d MiB, Go heap sys %d MiB", n, hwm>>20, ms.HeapSys>>20)
	if hwm > limit {
		t.Fatalf("peak RSS %d MiB for a %d MiB object: not streamed", hwm>>20, size>>20)
	}
}

type compareWriter struct {
	want io.Reader
	off  int64
	err  error
	buf  []byte
}

func (c *compareWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return len(p), nil
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	b := c.buf[:len(p)]
	if _, err := io.ReadFull(c.want, b); err != nil {
		c.err = err
		return len(p), nil
	}
	for i := range p {
		if p[i] != b[i] {
			c.err = io.ErrUnexpectedEOF
			break
		}
	}
	c.off += int64(len(p))
	return len(p), nil
}
