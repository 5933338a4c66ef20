package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/store"
)

// TestReadsPythonLayout builds a deltaspace the way the Python DeltaGlider
// does (reference.bin, a zero-diff delta for the first file, deltas made
// by the real xdelta3 with the flags it uses, its metadata spellings) and
// reads it with the CLI: ls shows original sizes, verify and cp pass and
// the files come back byte-identical.
func TestReadsPythonLayout(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		ctx := context.Background()
		src, names := versions(t, 14, 3, 96<<10)
		ref := filepath.Join(src, names[0])
		refBytes := must(os.ReadFile(ref))
		sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
		put := func(key string, body []byte, md map[string]string) {
			t.Helper()
			if _, err := h.st.Put(ctx, h.bucket, key, bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), Metadata: md}); err != nil {
				t.Fatal(err)
			}
		}
		put("py/reference.bin", refBytes, map[string]string{"dg-tool": "deltaglider/6.1.2",
			"dg-source-name": names[0], "dg-file-sha256": sum(refBytes), "dg-created-at": "2025-01-01T00:00:00Z", "dg-note": "reference"})
		for i, n := range names[:3] {
			target := filepath.Join(src, n)
			out := filepath.Join(t.TempDir(), n+".delta")
			if b, err := exec.Command(xd, "-e", "-f", "-9", "-s", ref, target, out).CombinedOutput(); err != nil {
				t.Fatalf("xdelta3: %v: %s", err, b)
			}
			body, patch := must(os.ReadFile(target)), must(os.ReadFile(out))
			md := map[string]string{"dg-tool": "deltaglider/6.1.2", "dg-original-name": n,
				"dg-file-sha256": sum(body), "dg-file-size": strconv.Itoa(len(body)), "dg-created-at": "2025-01-01T00:00:00Z",
				"dg-ref-key": "py/reference.bin", "dg-ref-sha256": sum(refBytes), "dg-delta-size": strconv.Itoa(len(patch)),
				"dg-delta-cmd": "xdelta3 -e -9 -s reference.bin " + n + " " + n + ".delta"}
			if i == 1 { // a pre-v6 object: bare, underscored keys
				md = map[string]string{"tool": "deltaglider/5.0.0", "original_name": n, "file_sha256": sum(body),
					"file_size": strconv.Itoa(len(body)), "ref_key": "py/reference.bin", "ref_sha256": sum(refBytes)}
			}
			put("py/"+n+".delta", patch, md)
		}
		notes := must(os.ReadFile(filepath.Join(src, "NOTES.txt")))
		put("py/NOTES.txt", notes, map[string]string{"dg-tool": "deltaglider/6.1.2", "dg-original-name": "NOTES.txt",
			"dg-file-sha256": sum(notes), "dg-file-size": strconv.Itoa(len(notes)), "dg-compression": "none"})

		r := h.ok("ls", "-r", h.url("py/"))
		for _, n := range names {
			want := strconv.FormatInt(must(os.Stat(filepath.Join(src, n))).Size(), 10) + " py/" + n + "\n"
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("ls lacks %q: %v", want, r)
			}
		}
		h.ok("verify", "-r", h.url("py/"))
		out := t.TempDir()
		h.ok("-q", "cp", "-r", h.url("py/"), out)
		sameTree(t, src, out)
		st := jsonLines(t, h.ok("stats", "--json", h.url("py/")).stdout)[0]
		if st["delta_objects"] != float64(3) || st["references"] != float64(1) {
			t.Fatalf("%v", st)
		}
		// New uploads join the Python deltaspace against its reference.
		r = h.ok("--json", "cp", filepath.Join(src, names[2]), h.url("py/again.zip"))
		if rec := jsonLines(t, r.stdout)[0]; rec["stored_as"] != "delta" {
			t.Fatalf("%v", rec)
		}
		h.ok("verify", h.url("py/again.zip"))

		// migrate takes the Python tool's deltas along (its own migrate
		// skips .delta objects and leaves them behind).
		b2 := h.newBucket()
		r = h.ok("--json", "migrate", "--yes", h.url("py/"), "s3://"+b2+"/py/")
		if n := len(ofType(jsonLines(t, r.stdout), "copy")); n != len(names)+1 {
			t.Fatalf("migrated %d objects, want %d: %v", n, len(names)+1, r)
		}
		h.ok("-q", "verify", "--all", "s3://"+b2)
		out2 := t.TempDir()
		h.ok("-q", "cp", "-r", "s3://"+b2+"/py/", out2, "--exclude", "again.zip")
		sameTree(t, src, out2)
		st = jsonLines(t, h.ok("stats", "--json", "s3://"+b2).stdout)[0]
		if st["delta_objects"] != float64(4) || st["references"] != float64(1) {
			t.Fatalf("migrated Python deltaspace: %v", st)
		}
	})
}
