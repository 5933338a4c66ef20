package s3store_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/store"
)

// peakRSSLimit is the budget for the test process while it moves 1 GiB.
const peakRSSLimit = 200 << 20

// vmHWM returns the peak resident set size of this process in bytes
// (VmHWM in /proc/self/status).
func vmHWM(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parsing VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// resetHWM resets the peak RSS counter (Linux: "5" > /proc/self/clear_refs),
// so that what earlier tests used does not count.
func resetHWM(t *testing.T) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset the peak RSS counter (%v); VmHWM covers the whole test process", err)
	}
}

// TestOneGiB moves a 1 GiB object through s3store (Put from a generated
// reader, a ranged Get from the middle, a full Get and a parallel
// Download, each checked against the generator) and fails if the peak
// RSS of the test process exceeds 200 MB. It runs only with LONG=1
// (make test-long), never with -short.
func TestOneGiB(t *testing.T) {
	if os.Getenv("LONG") != "1" || testing.Short() {
		t.Skip("1 GiB test: set LONG=1 (make test-long) to run it")
	}
	const size = 1 << 30
	s, _ := newRaw(t)
	b := newBucket(t, s)
	ctx := t.Context()
	resetHWM(t)
	base := vmHWM(t)

	// Put, hashing the generated body on the way.
	h := sha256.New()
	start := time.Now()
	info, err := s.Put(ctx, b, "big", io.TeeReader(&patternReader{seed: 1, size: size}, h), store.PutOptions{Size: size})
	if err != nil {
		t.Fatal(err)
	}
	want := h.Sum(nil)
	t.Logf("Put 1 GiB: %v, ETag %s", time.Since(start).Round(time.Millisecond), info.ETag)
	afterPut := vmHWM(t)

	// A range from the middle.
	const off, n = size/2 - 3<<20 - 17, 7<<20 + 5
	rc, ginfo, err := s.Get(ctx, b, "big", off, n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	exp := make([]byte, n)
	fill(1, off, exp)
	if ginfo.Size != size || !bytes.Equal(got, exp) {
		t.Fatalf("ranged Get: %d bytes (Size %d), content equal: %v", len(got), ginfo.Size, bytes.Equal(got, exp))
	}
	got, exp = nil, nil

	// The whole object, streamed into a hash.
	start = time.Now()
	rc, _, err = s.Get(ctx, b, "big", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	sum, cnt := hashOf(t, rc)
	rc.Close()
	if cnt != size || !bytes.Equal(sum, want) {
		t.Fatalf("full Get: %d bytes, sha256 %x, want %x", cnt, sum, want)
	}
	t.Logf("Get 1 GiB: %v", time.Since(start).Round(time.Millisecond))
	afterGet := vmHWM(t)

	// Parallel ranged download into a file.
	f, err := os.Create(filepath.Join(t.TempDir(), "big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start = time.Now()
	if _, err := s.Download(ctx, b, "big", f); err != nil {
		t.Fatal(err)
	}
	t.Logf("Download 1 GiB: %v", time.Since(start).Round(time.Millisecond))
	afterDownload := vmHWM(t)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if sum, cnt := hashOf(t, f); cnt != size || !bytes.Equal(sum, want) {
		t.Fatalf("Download: %d bytes, sha256 %x, want %x", cnt, sum, want)
	}

	t.Logf("peak RSS (VmHWM): at start %d MiB, after Put %d MiB, after Gets %d MiB, after Download %d MiB (limit %d MiB)",
		base>>20, afterPut>>20, afterGet>>20, afterDownload>>20, peakRSSLimit>>20)
	if peak := vmHWM(t); peak > peakRSSLimit {
		t.Errorf("peak RSS %d MiB exceeds %d MiB", peak>>20, peakRSSLimit>>20)
	}
}
