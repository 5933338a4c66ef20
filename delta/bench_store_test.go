package delta

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/fsstore"
	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// TestStoredBytesVsXdelta3 puts every series of the public corpus into a
// deltaspace and compares the bytes stored with what the Python DeltaGlider
// stores for the same files (reference.bin + one `xdelta3 -e -9 -s
// reference.bin <file>` delta per file, the first file's zero-diff delta
// included). It prints the table of docs/BENCHMARKS.md "## Delta store".
// Run with DG_BENCH_STORE=1 (optionally DG_BENCH_SERIES=a,b).
func TestStoredBytesVsXdelta3(t *testing.T) {
	if os.Getenv("DG_BENCH_STORE") != "1" {
		t.Skip("set DG_BENCH_STORE=1 to measure stored bytes against xdelta3")
	}
	xd := testtool.Tool(t, "xdelta3")
	f, err := os.Open(filepath.Join(testtool.CorpusDir(), "manifest.tsv"))
	if err != nil {
		testtool.Missing(t, "no corpus manifest: "+err.Error())
	}
	var series []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := strings.Split(sc.Text(), "\t")[0]
		if s != "series" && !seen[s] {
			seen[s] = true
			series = append(series, s)
		}
	}
	f.Close()
	if only := os.Getenv("DG_BENCH_SERIES"); only != "" {
		series = strings.Split(only, ",")
	}
	rows := []string{"| series | files | original bytes | xdelta3 -9 (Python layout) | xdelta3 -9 -D | deltaglider-go | ours / xdelta3 -9 | ours / xdelta3 -9 -D | put time |",
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|"}
	for _, name := range series {
		files := testtool.Series(t, name)
		dir := t.TempDir()
		s, err := fsstore.New(filepath.Join(dir, "store"))
		if err != nil {
			t.Fatal(err)
		}
		ts := newBucket(t, "fsstore", s)
		c := newClient(t, s, WithoutCache())
		var orig, xdBytes, xdDBytes int64
		var putTime time.Duration
		for i, p := range files {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			orig += fi.Size()
			fh, _ := os.Open(p)
			start := time.Now()
			info, err := c.Put(context.Background(), ts.bucket, name+"/"+filepath.Base(p), fh, PutOptions{Size: fi.Size()})
			putTime += time.Since(start)
			fh.Close()
			if err != nil {
				t.Fatal(err)
			}
			if info.StoredAs != Delta {
				t.Logf("%s: %s stored %v (%s)", name, filepath.Base(p), info.StoredAs, info.Reason)
			}
			// Python: reference.bin = first file; every file gets a delta.
			if i == 0 {
				xdBytes += fi.Size()
				xdDBytes += fi.Size()
			}
			// Without -D, xdelta3 diffs the decompressed payloads of gzip
			// inputs (app header /G/), which round-trip only when gzip
			// reproduces the original bytes; -D is what always round-trips.
			for _, v := range []struct {
				flags []string
				sum   *int64
			}{{[]string{"-e", "-f", "-9"}, &xdBytes}, {[]string{"-e", "-f", "-9", "-D"}, &xdDBytes}} {
				out := filepath.Join(dir, "x.delta")
				cmd := exec.Command(xd, append(v.flags, "-s", files[0], p, out)...)
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("xdelta3: %v %s", err, b)
				}
				dfi, _ := os.Stat(out)
				*v.sum += dfi.Size()
			}
		}
		st, err := c.Stats(context.Background(), ts.bucket, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %d | %d | %d | %d | %.3f | %.3f | %.1f s |", name, len(files), orig, xdBytes,
			xdDBytes, st.StoredBytes, float64(st.StoredBytes)/float64(xdBytes), float64(st.StoredBytes)/float64(xdDBytes),
			putTime.Seconds()))
		t.Log(rows[len(rows)-1])
	}
	fmt.Println(strings.Join(rows, "\n"))
}
