package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/fsstore"
	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
)

// cliHarness runs the whole CLI in-process against one backend: the
// embedded store in a temporary directory, or the S3 server named by
// DELTAGLIDER_S3_ENDPOINT (versitygw under `make test`).
type cliHarness struct {
	t        *testing.T
	backend  string // "fs" or "s3"
	flags    []string
	storeDir string // fs only
	endpoint string // s3 only
	bucket   string // created by newHarness
	st       store.Store
}

// result is what one in-process run produced.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// eachBackend runs fn as a subtest on the embedded store and on S3. The S3
// subtest skips without a server, and fails under DELTAGLIDER_REQUIRE_TOOLS=1.
func eachBackend(t *testing.T, fn func(t *testing.T, h *cliHarness)) {
	t.Run("fs", func(t *testing.T) { fn(t, newHarness(t, "fs")) })
	t.Run("s3", func(t *testing.T) { fn(t, newHarness(t, "s3")) })
}

func randomName(prefix string) string {
	b := make([]byte, 5)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func newHarness(t *testing.T, backend string) *cliHarness {
	t.Helper()
	h := &cliHarness{t: t, backend: backend}
	t.Setenv("DG_CACHE_DIR", t.TempDir())
	t.Setenv("DG_STORE_DIR", "")
	t.Setenv("DG_MAX_RATIO", "")
	switch backend {
	case "fs":
		h.storeDir = t.TempDir()
		h.flags = []string{"--store-dir", h.storeDir}
		st, err := fsstore.New(h.storeDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		h.st = st
	case "s3":
		h.endpoint = os.Getenv("DELTAGLIDER_S3_ENDPOINT")
		if h.endpoint == "" {
			testtool.Missing(t, "no S3 server: DELTAGLIDER_S3_ENDPOINT is not set (scripts/test.sh starts versitygw)")
		}
		h.flags = []string{"--endpoint-url", h.endpoint}
		st, _, err := s3store.NewFromConfig(context.Background(), s3store.Config{Endpoint: h.endpoint, UsePathStyle: true})
		if err != nil {
			t.Fatal(err)
		}
		h.st = st
	}
	h.bucket = h.newBucket()
	return h
}

// newBucket makes a fresh bucket with `mb` and returns its name.
func (h *cliHarness) newBucket() string {
	h.t.Helper()
	b := randomName("dgcli-")
	r := h.ok("mb", "s3://"+b)
	if r.stdout != "make_bucket: s3://"+b+"\n" {
		h.t.Fatalf("mb: %v", r)
	}
	return b
}

// runIn runs the CLI with the backend flags, stdin and context.
func (h *cliHarness) runIn(ctx context.Context, stdin io.Reader, args ...string) result {
	h.t.Helper()
	full := append([]string{"deltaglider"}, h.flags...)
	full = append(full, args...)
	var out, errb bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	code := run(ctx, full, stdin, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func (h *cliHarness) run(args ...string) result {
	h.t.Helper()
	return h.runIn(context.Background(), nil, args...)
}

// ok runs and requires exit 0 and an empty stderr.
func (h *cliHarness) ok(args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 || r.stderr != "" {
		h.t.Fatalf("deltaglider %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// fails runs and requires exit code want and a one-line stderr containing
// every one of parts.
func (h *cliHarness) fails(want int, parts []string, args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != want {
		h.t.Fatalf("deltaglider %s: want exit %d, got %v", strings.Join(args, " "), want, r)
	}
	checkErrLine(h.t, r.stderr, parts...)
	return r
}

func checkErrLine(t *testing.T, stderr string, parts ...string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "deltaglider: ") {
		t.Fatalf("want one error line, got %q", stderr)
	}
	for _, p := range parts {
		if !strings.Contains(stderr, p) {
			t.Fatalf("error %q does not mention %q", stderr, p)
		}
	}
}

func (h *cliHarness) url(key string) string { return "s3://" + h.bucket + "/" + key }

// rawKeys lists every stored key of a bucket (references and deltas too).
func (h *cliHarness) rawKeys(bucket string) []string {
	h.t.Helper()
	var keys []string
	err := h.st.List(context.Background(), bucket, store.ListOptions{}, func(e store.Entry) error {
		keys = append(keys, e.Key)
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return keys
}

// jsonLines decodes --json output.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func ofType(recs []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["type"] == typ {
			out = append(out, r)
		}
	}
	return out
}

// versions writes n similar "release archives" (random base, small edits
// per version) plus one text file into a new directory and returns it with
// the file names in order.
func versions(t *testing.T, seed uint64, n, size int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	rng := mrand.New(mrand.NewPCG(seed, 7))
	base := make([]byte, size)
	for i := range base {
		base[i] = byte(rng.Uint32())
	}
	var names []string
	for v := range n {
		for range 8 { // a few local edits per version
			off := rng.IntN(size - 64)
			for j := range 64 {
				base[off+j] = byte(rng.Uint32())
			}
		}
		name := fmt.Sprintf("app-1.%d.0.zip", v)
		if err := os.WriteFile(filepath.Join(dir, name), base, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := os.WriteFile(filepath.Join(dir, "NOTES.txt"), []byte("release notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, append(names, "NOTES.txt")
}

// sameTree requires every file of want to exist in got with equal bytes,
// and got to hold nothing else.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	list := func(dir string) []string {
		var out []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				out = append(out, rel)
			}
			return nil
		})
		return out
	}
	w, g := list(want), list(got)
	if !slices.Equal(w, g) {
		t.Fatalf("trees differ:\nwant %v\ngot  %v", w, g)
	}
	for _, rel := range w {
		a, _ := os.ReadFile(filepath.Join(want, rel))
		b, _ := os.ReadFile(filepath.Join(got, rel))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs (%d vs %d bytes)", rel, len(a), len(b))
		}
	}
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, e := range must(os.ReadDir(dir)) {
		if !e.IsDir() {
			n += must(e.Info()).Size()
		}
	}
	return n
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
