package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

func TestCpSingleAndStdio(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 1, 3, 96<<10)
		f0, f1 := filepath.Join(src, names[0]), filepath.Join(src, names[1])

		r := h.ok("cp", f0, h.url("rel/"))
		want := "upload: " + f0 + " to " + h.url("rel/"+names[0]) + " (96.0 KiB, new reference for its deltaspace)\n"
		if r.stdout != want {
			t.Fatalf("stdout %q, want %q", r.stdout, want)
		}
		r = h.ok("cp", f1, h.url("rel/"))
		if !strings.Contains(r.stdout, "(delta ") || !strings.Contains(r.stdout, "saved)") {
			t.Fatalf("second version not stored as a delta: %v", r)
		}
		// The text file is stored whole, and says why.
		r = h.ok("cp", filepath.Join(src, "NOTES.txt"), h.url("rel/NOTES.txt"))
		if !strings.Contains(r.stdout, "stored whole: not a delta-eligible file type") {
			t.Fatalf("%v", r)
		}

		// Download into a directory, and to stdout.
		out := t.TempDir()
		r = h.ok("cp", h.url("rel/"+names[1]), out+string(filepath.Separator))
		if !strings.HasPrefix(r.stdout, "download: ") {
			t.Fatalf("%v", r)
		}
		if !bytes.Equal(must(os.ReadFile(filepath.Join(out, names[1]))), must(os.ReadFile(f1))) {
			t.Fatal("downloaded file differs")
		}
		r = h.ok("cp", h.url("rel/"+names[1]), "-")
		if r.stdout != string(must(os.ReadFile(f1))) {
			t.Fatalf("stdout download differs (%d bytes)", len(r.stdout))
		}
		// Upload from stdin, then copy within the store.
		body := must(os.ReadFile(filepath.Join(src, names[2])))
		r = h.runIn(context.Background(), bytes.NewReader(body), "cp", "-", h.url("rel/from-stdin.zip"))
		if r.code != 0 || !strings.Contains(r.stdout, "(delta ") {
			t.Fatalf("%v", r)
		}
		r = h.ok("--json", "cp", h.url("rel/from-stdin.zip"), h.url("other/copy.zip"))
		recs := jsonLines(t, r.stdout)
		if len(recs) != 1 || recs[0]["type"] != "copy" || recs[0]["size"] != float64(len(body)) {
			t.Fatalf("copy record: %v", recs)
		}
		r = h.ok("cp", h.url("other/copy.zip"), "-")
		if r.stdout != string(body) {
			t.Fatal("copied object differs")
		}
		// No temporary files are left next to downloads.
		if n := len(must(os.ReadDir(out))); n != 1 {
			t.Fatalf("download dir holds %d entries", n)
		}
	})
}

func TestCpRecursiveFiltersAndFlagsAfterOperands(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 2, 4, 64<<10)
		if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, "sub", "skip.tmp"), []byte("x"), 0o644)
		// aws-style: flags after the operands, exclude-all-but.
		r := h.ok("cp", src, h.url("app"), "--recursive", "--exclude", "*", "--include", "*.zip", "--jobs", "3")
		if got := strings.Count(r.stdout, "upload: "); got != 4 {
			t.Fatalf("want 4 uploads, got %d: %v", got, r)
		}
		if !strings.Contains(r.stdout, "cp: 4 objects,") {
			t.Fatalf("no summary: %v", r)
		}
		// Parallel uploads still make the first file the reference.
		ref := must(h.st.Stat(context.Background(), h.bucket, "app/"+delta.ReferenceName))
		if ref.Metadata["dg-source-name"] != names[0] {
			t.Fatalf("reference made from %q, want %q", ref.Metadata["dg-source-name"], names[0])
		}
		out := t.TempDir()
		r = h.ok("cp", "-r", h.url("app/"), out)
		if got := strings.Count(r.stdout, "download: "); got != 4 {
			t.Fatalf("%v", r)
		}
		// Only the zips went up; they come back byte-identical.
		want := t.TempDir()
		for _, n := range names[:4] {
			os.WriteFile(filepath.Join(want, n), must(os.ReadFile(filepath.Join(src, n))), 0o644)
		}
		sameTree(t, want, out)

		// s3 -> s3 recursive copy with --no-delta stores everything whole.
		r = h.ok("--json", "cp", "-r", "--no-delta", h.url("app/"), h.url("flat/"))
		for _, rec := range ofType(jsonLines(t, r.stdout), "copy") {
			if rec["stored_as"] != "direct" || rec["reason"] != "no-delta" {
				t.Fatalf("copy with --no-delta: %v", rec)
			}
		}
		// Usage errors exit 2 with one line.
		h.fails(exitUsage, []string{"is a directory; use cp -r"}, "cp", src, h.url("x/"))
		h.fails(exitUsage, []string{"is a prefix; use cp -r"}, "cp", h.url("app/"), out)
		h.fails(exitUsage, []string{"--max-ratio"}, "cp", "--max-ratio", "1.5", filepath.Join(src, names[0]), h.url("x/"))
		h.fails(exitUsage, []string{"one of SRC and DST"}, "cp", src, out)
		h.fails(exitUsage, []string{"cp needs SRC and DST"}, "cp", src)
		h.fails(exitUsage, nil, "cp", "--no-such-flag", src, h.url("x/"))
		h.fails(exitFailure, []string{"reserved"}, "cp", filepath.Join(src, names[0]), h.url("x/reference.bin"))
	})
}

func TestLs(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 3, 3, 80<<10)
		h.ok("-q", "cp", "-r", src, h.url("rel/v1/"))
		h.ok("-q", "cp", filepath.Join(src, names[0]), h.url("top.zip"))

		r := h.ok("ls")
		if !strings.Contains(r.stdout, "s3://"+h.bucket+"\n") {
			t.Fatalf("bucket missing from ls: %v", r)
		}
		r = h.ok("ls", h.url(""))
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 2 || !strings.HasSuffix(lines[0], "PRE rel/") || !strings.HasSuffix(lines[1], " top.zip") {
			t.Fatalf("ls of bucket root: %q", lines)
		}
		// Recursive listing: original sizes (not delta sizes), no internals.
		r = h.ok("ls", "-r", "--summarize", h.url("rel/"))
		if strings.Contains(r.stdout, "reference.bin") || strings.Contains(r.stdout, ".delta") {
			t.Fatalf("internals visible: %v", r)
		}
		total := int64(0)
		for _, n := range names {
			fi := must(os.Stat(filepath.Join(src, n)))
			total += fi.Size()
			want := fmt.Sprintf(" %10d rel/v1/%s\n", fi.Size(), n)
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("ls -r lacks %q: %v", want, r)
			}
		}
		if !strings.Contains(r.stdout, fmt.Sprintf("Total Objects: %d\n   Total Size: %d\n", len(names), total)) {
			t.Fatalf("summary: %v", r)
		}
		r = h.ok("ls", "-r", "-h", h.url("rel/"))
		if !strings.Contains(r.stdout, "80.0 KiB rel/v1/"+names[0]) {
			t.Fatalf("ls -h: %v", r)
		}
		r = h.ok("ls", "--json", "-r", h.url("rel/v1/"))
		objs := ofType(jsonLines(t, r.stdout), "object")
		if len(objs) != len(names) {
			t.Fatalf("ls --json: %v", r)
		}
		for _, o := range objs {
			if o["stored_as"] == "delta" && o["stored_size"].(float64) >= o["size"].(float64)/2 {
				t.Fatalf("delta not smaller than half: %v", o)
			}
		}
		h.fails(exitFailure, []string{"bucket does not exist", "mb s3://dgcli-missing-bucket`"}, "ls", "s3://dgcli-missing-bucket/")
	})
}

func TestRmNeverOrphans(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 4, 3, 64<<10)
		h.ok("-q", "cp", "-r", src, h.url("a/"))
		h.ok("-q", "cp", "-r", src, h.url("b/"))

		// Deleting one version keeps the reference the others need.
		r := h.ok("rm", h.url("a/"+names[0]))
		if r.stdout != "delete: "+h.url("a/"+names[0])+"\n" {
			t.Fatalf("%v", r)
		}
		h.ok("verify", "-r", h.url("a/"))
		h.fails(exitFailure, []string{"a/nope.zip", "no such object", "deltaglider ls " + h.url("a/") + "`"}, "rm", h.url("a/nope.zip"))
		h.fails(exitUsage, []string{"use rm -r"}, "rm", h.url("a/"))

		// Dry run lists and keeps.
		before := h.rawKeys(h.bucket)
		r = h.ok("rm", "-r", "--dryrun", h.url("a/"))
		if strings.Count(r.stdout, "(dryrun) delete: ") != len(names)-1 {
			t.Fatalf("%v", r)
		}
		if after := h.rawKeys(h.bucket); len(after) != len(before) {
			t.Fatalf("dry run deleted: %v -> %v", before, after)
		}
		// Deleting the rest of a/ removes its reference too, b/ stays whole.
		h.ok("rm", "-r", h.url("a/"))
		for _, k := range h.rawKeys(h.bucket) {
			if strings.HasPrefix(k, "a/") {
				t.Fatalf("left behind: %s", k)
			}
		}
		h.ok("verify", "--all", h.url(""))
		// Deleting the last objects one by one also releases the reference.
		for _, n := range names {
			h.ok("rm", h.url("b/"+n))
		}
		if keys := h.rawKeys(h.bucket); len(keys) != 0 {
			t.Fatalf("left behind: %v", keys)
		}
	})
}

func TestRmFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 13, 3, 64<<10)
		h.ok("-q", "cp", "-r", src, h.url("f/"))
		r := h.ok("rm", "-r", h.url("f/"), "--exclude", "*.zip")
		if r.stdout != "delete: "+h.url("f/NOTES.txt")+"\nrm: 1 object deleted\n" {
			t.Fatalf("%v", r)
		}
		r = h.ok("ls", "-r", h.url("f/"))
		if strings.Count(r.stdout, ".zip\n") != len(names)-1 {
			t.Fatalf("%v", r)
		}
		h.ok("verify", "-r", h.url("f/"))
		h.ok("-q", "rm", "-r", h.url("f/"), "--exclude", "*", "--include", "*.zip")
		if keys := h.rawKeys(h.bucket); len(keys) != 0 {
			t.Fatalf("left behind: %v", keys)
		}
	})
}

func TestSyncComparesChecksums(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 5, 3, 64<<10)
		r := h.ok("sync", src, h.url("mirror/"))
		if strings.Count(r.stdout, "upload: ") != len(names) {
			t.Fatalf("%v", r)
		}
		r = h.ok("sync", src, h.url("mirror/"))
		if strings.Contains(r.stdout, "upload: ") || !strings.Contains(r.stdout, fmt.Sprintf("%d unchanged skipped", len(names))) {
			t.Fatalf("second sync copied again: %v", r)
		}
		// Same size, same mtime, different bytes: only the checksum tells.
		p := filepath.Join(src, names[1])
		fi := must(os.Stat(p))
		b := must(os.ReadFile(p))
		b[100] ^= 0xff
		os.WriteFile(p, b, 0o644)
		os.Chtimes(p, fi.ModTime(), fi.ModTime())
		r = h.ok("sync", src, h.url("mirror/"))
		if strings.Count(r.stdout, "upload: ") != 1 || !strings.Contains(r.stdout, names[1]) {
			t.Fatalf("changed file not re-uploaded exactly once: %v", r)
		}
		// --size-only misses it (documented), the default does not.
		b[200] ^= 0xff
		os.WriteFile(p, b, 0o644)
		r = h.ok("sync", "--size-only", src, h.url("mirror/"))
		if strings.Contains(r.stdout, "upload: ") {
			t.Fatalf("%v", r)
		}

		// Down into an empty directory, then again: nothing to do.
		out := t.TempDir()
		r = h.ok("sync", h.url("mirror/"), out)
		if strings.Count(r.stdout, "download: ") != len(names) {
			t.Fatalf("%v", r)
		}
		r = h.ok("sync", h.url("mirror/"), out)
		if strings.Contains(r.stdout, "download: ") {
			t.Fatalf("%v", r)
		}
		// A stray object and a stray local file: --delete on both sides.
		h.ok("-q", "cp", filepath.Join(src, "NOTES.txt"), h.url("mirror/stray.txt"))
		os.WriteFile(filepath.Join(out, "local-only.txt"), []byte("x"), 0o644)
		r = h.ok("sync", "--delete", "--dryrun", src, h.url("mirror/"))
		if !strings.Contains(r.stdout, "(dryrun) delete: "+h.url("mirror/stray.txt")) {
			t.Fatalf("%v", r)
		}
		h.ok("sync", "--delete", src, h.url("mirror/"))
		h.ok("sync", "--delete", h.url("mirror/"), out)
		sameTree(t, src, out)
		h.fails(exitUsage, []string{"one local directory"}, "sync", h.url("a/"), h.url("b/"))
	})
}

func TestStatsJSONMatchesDisk(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 6, 5, 128<<10)
		h.ok("-q", "cp", "-r", src, h.url("x/"))
		h.ok("-q", "cp", "-r", src, h.url("y/z/"))
		r := h.ok("stats", "--json", h.url(""))
		recs := jsonLines(t, r.stdout)
		if len(recs) != 1 {
			t.Fatalf("%v", r)
		}
		st := recs[0]
		orig := 2 * dirSize(t, src)
		if int64(st["original_bytes"].(float64)) != orig {
			t.Fatalf("original_bytes %v, files on disk %d", st["original_bytes"], orig)
		}
		if st["objects"] != float64(2*len(names)) || st["references"] != float64(2) {
			t.Fatalf("%v", st)
		}
		if sv := st["savings"].(float64); sv < 0.5 {
			t.Fatalf("savings %v", sv)
		}
		stored := int64(st["stored_bytes"].(float64))
		// The stored bytes are exactly the sizes of the stored objects.
		var raw int64
		for _, k := range h.rawKeys(h.bucket) {
			raw += must(h.st.Stat(context.Background(), h.bucket, k)).Size
		}
		if stored != raw {
			t.Fatalf("stored_bytes %d, store holds %d", stored, raw)
		}
		if h.backend == "fs" { // and, on the embedded store, the files on disk
			var disk int64
			filepath.WalkDir(filepath.Join(h.storeDir, h.bucket), func(p string, d os.DirEntry, err error) error {
				if d.IsDir() && d.Name() == ".dg" {
					return filepath.SkipDir
				}
				if !d.IsDir() {
					disk += must(d.Info()).Size()
				}
				return nil
			})
			if disk != stored {
				t.Fatalf("stored_bytes %d, files on disk %d", stored, disk)
			}
		}
		spaces := st["deltaspaces"].([]any)
		if len(spaces) != 2 || spaces[0].(map[string]any)["deltaspace"] != "x/" || spaces[1].(map[string]any)["deltaspace"] != "y/z/" {
			t.Fatalf("deltaspaces %v", spaces)
		}
		r = h.ok("stats", h.bucket) // bare bucket name works too
		if !strings.Contains(r.stdout, "savings:") || !strings.Contains(r.stdout, "y/z/") {
			t.Fatalf("%v", r)
		}
	})
}

func TestVerifyDetectsDamage(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 7, 3, 64<<10)
		h.ok("-q", "cp", "-r", src, h.url("v/"))
		r := h.ok("verify", h.url("v/"+names[1]))
		if !strings.HasPrefix(r.stdout, "OK "+h.url("v/"+names[1])+" (delta,") {
			t.Fatalf("%v", r)
		}
		r = h.ok("verify", "--json", "--all", h.url(""))
		recs := jsonLines(t, r.stdout)
		if v := ofType(recs, "verify"); len(v) != len(names) {
			t.Fatalf("%v", r)
		}
		for _, v := range ofType(recs, "verify") {
			if v["status"] != "ok" || (strings.HasSuffix(v["object"].(string), "NOTES.txt") != (v["stored_as"] == "direct")) {
				t.Fatalf("verify record %v", v)
			}
		}
		// Objects stored whole are checked against their SHA-256 too (the
		// Python tool can only verify deltas).
		nk := "v/NOTES.txt"
		noi := must(h.st.Stat(context.Background(), h.bucket, nk))
		if _, err := h.st.Put(context.Background(), h.bucket, nk, strings.NewReader("release notez\n"),
			store.PutOptions{Size: 14, Metadata: noi.Metadata}); err != nil {
			t.Fatal(err)
		}
		h.fails(exitFailure, []string{h.url(nk), "integrity check failed"}, "verify", h.url(nk))
		h.ok("-q", "cp", filepath.Join(src, "NOTES.txt"), h.url(nk))
		// A plain object (no checksum) is read, reported as such.
		h.ok("-q", "cp", "--plain", filepath.Join(src, "NOTES.txt"), h.url("v/plain.txt"))
		r = h.ok("verify", h.url("v/plain.txt"))
		if !strings.Contains(r.stdout, "plain object: no recorded checksum") {
			t.Fatalf("%v", r)
		}
		// Damage a delta in place, keeping its metadata: verify fails with
		// exit 1, names the object, and the other objects still pass.
		dk := "v/" + names[2] + delta.DeltaSuffix
		oi := must(h.st.Stat(context.Background(), h.bucket, dk))
		rc, _, err := h.st.Get(context.Background(), h.bucket, dk, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		body := must(io.ReadAll(rc))
		rc.Close()
		body[len(body)/2] ^= 0x55
		if _, err := h.st.Put(context.Background(), h.bucket, dk, bytes.NewReader(body),
			store.PutOptions{Size: int64(len(body)), Metadata: oi.Metadata}); err != nil {
			t.Fatal(err)
		}
		r = h.run("verify", "-r", h.url("v/"))
		if r.code != exitFailure || !strings.Contains(r.stderr, "FAILED "+h.url("v/"+names[2])) ||
			strings.Count(r.stdout, "OK ") != len(names)-1 {
			t.Fatalf("%v", r)
		}
		h.fails(exitFailure, []string{h.url("v/" + names[2]), "integrity check failed"}, "verify", h.url("v/"+names[2]))
		// Downloading it fails too, and leaves no file.
		out := t.TempDir()
		r = h.run("cp", h.url("v/"+names[2]), out+"/")
		if r.code != exitFailure || len(must(os.ReadDir(out))) != 0 {
			t.Fatalf("%v (dir %v)", r, must(os.ReadDir(out)))
		}
	})
}

func TestPurge(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		ctx := context.Background()
		src, names := versions(t, 8, 3, 64<<10)
		h.ok("-q", "cp", "-r", src, h.url("p/"))
		h.ok("-q", "cp", "-r", src, h.url("q/"))
		// An unused reference: the library's Delete keeps references.
		dc := must(delta.New(h.st, delta.WithoutCache()))
		for _, n := range names {
			must(dc.Delete(ctx, h.bucket, "p/"+n))
		}
		// Orphaned deltas: q/'s reference vanished behind our back.
		if err := h.st.Delete(ctx, h.bucket, "q/"+delta.ReferenceName); err != nil {
			t.Fatal(err)
		}
		// An expired temporary object of the Python tool.
		h.st.Put(ctx, h.bucket, ".deltaglider/tmp/abc_x.zip", strings.NewReader("tmp"), store.PutOptions{Size: 3,
			Metadata: map[string]string{"dg-expires-at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}})
		h.st.Put(ctx, h.bucket, ".deltaglider/tmp/def_y.zip", strings.NewReader("tmp"), store.PutOptions{Size: 3,
			Metadata: map[string]string{"dg-expires-at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}})

		before := h.rawKeys(h.bucket)
		r := h.ok("purge", "--dry-run", "--json", h.url(""))
		kinds := map[string]int{}
		for _, rec := range ofType(jsonLines(t, r.stdout), "purge") {
			kinds[rec["kind"].(string)]++
		}
		want := map[string]int{"temp": 1, "unused-reference": 1, "orphaned-delta": len(names) - 1}
		if fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Fatalf("dry run found %v, want %v", kinds, want)
		}
		if after := h.rawKeys(h.bucket); len(after) != len(before) {
			t.Fatal("dry run removed objects")
		}
		r = h.ok("purge", h.url(""))
		if !strings.Contains(r.stdout, fmt.Sprintf("purge: %d objects removed", len(names)+1)) {
			t.Fatalf("%v", r)
		}
		keys := h.rawKeys(h.bucket)
		if len(keys) != 2 || keys[0] != ".deltaglider/tmp/def_y.zip" || keys[1] != "q/NOTES.txt" {
			t.Fatalf("left: %v", keys)
		}
		h.ok("verify", "--all", h.url(""))
	})
}

func TestMigratePlainToDeltaAndBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 9, 4, 96<<10)
		plain, deltaB, back := h.bucket, h.newBucket(), h.newBucket()
		h.ok("-q", "cp", "-r", "--plain", src, "s3://"+plain+"/rel/")
		for _, k := range h.rawKeys(plain) {
			if strings.HasSuffix(k, ".delta") || strings.HasSuffix(k, "reference.bin") {
				t.Fatalf("--plain wrote %s", k)
			}
		}
		h.fails(exitUsage, []string{"--yes"}, "migrate", "s3://"+plain, "s3://"+deltaB)
		h.fails(exitUsage, []string{"overlap"}, "migrate", "--yes", "s3://"+plain+"/rel/", "s3://"+plain+"/rel/sub/")
		r := h.ok("migrate", "--dry-run", "s3://"+plain, "s3://"+deltaB)
		if strings.Count(r.stdout, "(dryrun) copy: ") != len(names) || len(h.rawKeys(deltaB)) != 0 {
			t.Fatalf("%v", r)
		}
		r = h.ok("migrate", "--yes", "-j", "2", "s3://"+plain, "s3://"+deltaB)
		if strings.Count(r.stdout, "copy: ") != len(names) {
			t.Fatalf("%v", r)
		}
		st := jsonLines(t, h.ok("stats", "--json", "s3://"+deltaB).stdout)[0]
		if st["delta_objects"] != float64(len(names)-1) || st["savings"].(float64) < 0.4 {
			t.Fatalf("migrated bucket: %v", st)
		}
		// Resuming finds everything done.
		r = h.ok("migrate", "--yes", "s3://"+plain, "s3://"+deltaB)
		if strings.Contains(r.stdout, "copy: ") || !strings.Contains(r.stdout, fmt.Sprintf("%d unchanged skipped", len(names))) {
			t.Fatalf("resume copied again: %v", r)
		}
		// Back out of DeltaGlider: deltas are reconstructed into plain objects.
		h.ok("-q", "migrate", "--yes", "--plain", "s3://"+deltaB+"/rel/", "s3://"+back+"/rel/")
		for _, k := range h.rawKeys(back) {
			if strings.HasSuffix(k, ".delta") || strings.HasSuffix(k, "reference.bin") {
				t.Fatalf("--plain migrate wrote %s", k)
			}
		}
		out := t.TempDir()
		h.ok("-q", "cp", "-r", "s3://"+back+"/rel/", out)
		sameTree(t, src, out)
	})
}

func TestAnalyze(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 10, 6, 96<<10)
		r := h.ok("analyze", "--json", "--sample", "3", src)
		recs := jsonLines(t, r.stdout)
		tot := ofType(recs, "total")
		if len(tot) != 1 || tot[0]["sampled"] != float64(3) || tot[0]["files"] != float64(len(names)) {
			t.Fatalf("%v", r)
		}
		if sv := tot[0]["projected_savings"].(float64); sv < 0.5 || sv > 1 {
			t.Fatalf("projected savings %v", sv)
		}
		h.ok("-q", "cp", "-r", src, h.url("a/"))
		r = h.ok("analyze", h.url(""))
		if !strings.Contains(r.stdout, "a/") || !strings.Contains(r.stdout, "projection from 4 trial-encoded files") {
			t.Fatalf("%v", r)
		}
		h.fails(exitUsage, []string{"--sample"}, "analyze", "--sample", "1", src)
	})
}

func TestBuckets(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		b := h.newBucket()
		h.fails(exitFailure, []string{"already exists"}, "mb", "s3://"+b)
		h.ok("-q", "cp", "-", "s3://"+b+"/k.bin")
		h.fails(exitFailure, []string{"not empty", "--force"}, "rb", "s3://"+b)
		r := h.ok("rb", "--force", "s3://"+b)
		if r.stdout != "remove_bucket: s3://"+b+"\n" {
			t.Fatalf("%v", r)
		}
		if strings.Contains(h.ok("ls").stdout, b) {
			t.Fatal("bucket still listed")
		}
	})
}

// blockingReader yields size bytes, cancels the context, then blocks
// until it ends, as a user pressing Ctrl-C in the middle of an upload.
type blockingReader struct {
	ctx    context.Context
	cancel func()
	left   int
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.left == 0 {
		b.cancel()
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	n := min(len(p), b.left)
	for i := range n {
		p[i] = byte(i)
	}
	b.left -= n
	return n, nil
}

func TestInterruptLeavesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := h.runIn(ctx, &blockingReader{ctx: ctx, cancel: cancel, left: 3 << 20}, "cp", "-", h.url("big.zip"))
		if r.code != exitInterrupted {
			t.Fatalf("want exit 130, got %v", r)
		}
		checkErrLine(t, r.stderr, "interrupted")
		if keys := h.rawKeys(h.bucket); len(keys) != 0 {
			t.Fatalf("interrupted upload left %v", keys)
		}
		// Cancelled while the store itself is writing (--plain streams stdin
		// straight into Put; 12 MiB crosses into a multipart upload on S3).
		ctx3, cancel3 := context.WithCancel(context.Background())
		defer cancel3()
		r = h.runIn(ctx3, &blockingReader{ctx: ctx3, cancel: cancel3, left: 12 << 20}, "cp", "--plain", "-", h.url("big2.bin"))
		if r.code != exitInterrupted {
			t.Fatalf("want exit 130, got %v", r)
		}
		checkErrLine(t, r.stderr, "interrupted")
		if keys := h.rawKeys(h.bucket); len(keys) != 0 {
			t.Fatalf("interrupted store write left %v", keys)
		}
		// An interrupted download leaves no file either.
		src, names := versions(t, 11, 2, 64<<10)
		h.ok("-q", "cp", "-r", src, h.url("d/"))
		ctx2, cancel2 := context.WithCancel(context.Background())
		cancel2()
		out := t.TempDir()
		r = h.runIn(ctx2, nil, "cp", "-r", h.url("d/"), out)
		if r.code != exitInterrupted || len(must(os.ReadDir(out))) != 0 {
			t.Fatalf("%v %v", r, names)
		}
		checkErrLine(t, r.stderr, "interrupted")
	})
}

func TestEnvironment(t *testing.T) {
	h := newHarness(t, "fs")
	src, names := versions(t, 12, 2, 64<<10)
	h.ok("-q", "cp", "-r", src, h.url("e/"))
	// DG_STORE_DIR selects the embedded store without --store-dir.
	t.Setenv("DG_STORE_DIR", h.storeDir)
	t.Setenv("DG_JOBS", "1")
	bare := &cliHarness{t: t}
	r := bare.ok("ls", "-r", h.url("e/"))
	if strings.Count(r.stdout, "\n") != len(names) {
		t.Fatalf("%v", r)
	}
	t.Setenv("DG_JOBS", "lots")
	bare.fails(exitUsage, []string{"DG_JOBS"}, "ls", h.url(""))
	t.Setenv("DG_JOBS", "")
	// DG_MAX_RATIO is the default ratio guard: a tiny limit stores whole.
	t.Setenv("DG_MAX_RATIO", "0.0001")
	r = bare.ok("--json", "cp", filepath.Join(src, names[1]), h.url("f/x.zip"))
	r = bare.ok("--json", "cp", filepath.Join(src, names[0]), h.url("f/y.zip"))
	if rec := jsonLines(t, r.stdout)[0]; rec["stored_as"] != "direct" || rec["reason"] != "ratio" {
		t.Fatalf("DG_MAX_RATIO ignored: %v", rec)
	}
	// DG_LOG_LEVEL=debug prints the whole error chain.
	t.Setenv("DG_LOG_LEVEL", "debug")
	r = bare.run("cp", h.url("nope/x.zip"), t.TempDir())
	if r.code != exitFailure || !strings.Contains(r.stderr, "delta: Get nope/x.zip") {
		t.Fatalf("%v", r)
	}
}

func TestHelpHasExamples(t *testing.T) {
	h := &cliHarness{t: t}
	for _, c := range newApp(&env{}).Commands {
		if c.Name == "help" {
			continue
		}
		r := h.run(c.Name, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "deltaglider "+c.Name) {
			t.Errorf("%s --help: %v", c.Name, r)
		}
		if !strings.Contains(r.stdout, "Example") || !strings.Contains(r.stdout, "  deltaglider ") {
			t.Errorf("%s --help has no example", c.Name)
		}
	}
	r := h.run("completion", "bash")
	if r.code != 0 || !strings.Contains(r.stdout, "--generate-bash-completion") {
		t.Fatalf("%v", r)
	}
	// urfave/cli reads os.Args to decide what to complete.
	saved := os.Args
	os.Args = []string{"deltaglider", "--generate-bash-completion"}
	r = h.run("--generate-bash-completion")
	os.Args = saved
	if r.code != 0 || !strings.Contains(r.stdout, "cp\n") || !strings.Contains(r.stdout, "migrate\n") {
		t.Fatalf("completion: %v", r)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	h := &cliHarness{t: t}
	t.Setenv("DG_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "testkey")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testsecret123")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// No server at all: one line naming the fix, no SDK dump.
	r := h.run("--endpoint-url", "http://127.0.0.1:1", "ls", "s3://bucket-x/")
	if r.code != exitFailure {
		t.Fatalf("%v", r)
	}
	checkErrLine(t, r.stderr, "cannot reach the S3 endpoint", "--endpoint-url")
	// --debug prints the whole chain.
	r = h.run("--debug", "--endpoint-url", "http://127.0.0.1:1", "ls", "s3://bucket-x/")
	if r.code != exitFailure || !strings.Contains(r.stderr, "connect") {
		t.Fatalf("%v", r)
	}
	r = h.run("--store-dir", dir, "cp", filepath.Join(dir, "missing.zip"), "s3://bucket-x/")
	checkErrLine(t, r.stderr, "missing.zip")
	r = h.run("--store-dir", dir, "--jobs", "0", "ls")
	if r.code != exitUsage {
		t.Fatalf("%v", r)
	}
	t.Setenv("DG_MAX_RATIO", "7")
	r = h.run("--store-dir", dir, "ls")
	if r.code != exitUsage {
		t.Fatalf("%v", r)
	}
	checkErrLine(t, r.stderr, "DG_MAX_RATIO", "(0, 1]")
	t.Setenv("DG_MAX_RATIO", "")
	// Bad settings name the setting and what it wants, without the
	// package prefix of the error chain.
	for _, c := range []struct{ env, val string }{{"DG_CACHE_SIZE_MB", "lots"}, {"DG_CODEC", "zstd"}} {
		t.Setenv(c.env, c.val)
		for _, extra := range [][]string{nil, {"--cache-dir", t.TempDir()}} {
			r = h.run(append(append([]string{"--store-dir", dir}, extra...), "ls")...)
			if r.code != exitUsage || strings.Contains(r.stderr, "delta: ") {
				t.Fatalf("%s=%s: %v", c.env, c.val, r)
			}
			checkErrLine(t, r.stderr, c.env, "want")
		}
		t.Setenv(c.env, "")
	}
	r = h.run("--store-dir", dir, "--codec", "zstd", "ls")
	if r.code != exitUsage {
		t.Fatalf("%v", r)
	}
	checkErrLine(t, r.stderr, "--codec", "want auto, vcdiff or bsdiff")
}

// TestStatsStreamsPastPythonCap checks that stats handles more objects
// than the Python tool's 60,000-object listing cap.
func TestStatsStreamsPastPythonCap(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 60,500 objects")
	}
	h := newHarness(t, "fs")
	const n = 60500
	// Seed with plain files in the bucket directory (fsstore serves files
	// without metadata as plain objects); going through Put would take
	// minutes of fsync and locking on a small machine.
	for i := range n {
		d := filepath.Join(h.storeDir, h.bucket, fmt.Sprintf("s%02d", i%50))
		if i < 50 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("obj-%06d.txt", i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	r := h.ok("stats", "--json", h.url(""))
	t.Logf("stats of %d objects took %v", n, time.Since(t0))
	st := jsonLines(t, r.stdout)[0]
	if st["objects"] != float64(n) || st["original_bytes"] != float64(n) || len(st["deltaspaces"].([]any)) != 50 {
		t.Fatalf("objects %v, bytes %v, spaces %d", st["objects"], st["original_bytes"], len(st["deltaspaces"].([]any)))
	}
}

func TestS3AccessDenied(t *testing.T) {
	h := newHarness(t, "s3")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
	h.fails(exitFailure, []string{h.url(""), "access denied by S3", "credentials"}, "ls", h.url(""))
}

// TestJSONAndQuietEverywhere runs every command that reports with --json
// (every stdout line is a JSON object, of the expected types) and with
// --quiet (nothing on stdout).
func TestJSONAndQuietEverywhere(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 14, 3, 64<<10)
		down := t.TempDir()
		steps := func(mode string, b2 string) [][]string {
			p := h.url(mode + "/")
			return [][]string{
				{"mb", "s3://" + b2},
				{"cp", "-r", src, p},
				{"cp", filepath.Join(src, names[0]), p + "single.zip"},
				{"cp", p + "single.zip", filepath.Join(down, mode+"-single.zip")},
				{"ls"},
				{"ls", "-r", "--summarize", p},
				{"sync", src, p + "s/"},
				{"sync", p, filepath.Join(down, mode)},
				{"stats", p},
				{"verify", "-r", p},
				{"analyze", "--sample", "2", p},
				{"migrate", "--dry-run", p, "s3://" + b2 + "/m/"},
				{"migrate", "--yes", p, "s3://" + b2 + "/m/"},
				{"rm", "--dryrun", p + "single.zip"},
				{"rm", p + "single.zip"},
				{"rm", "-r", "--dryrun", p},
				{"rm", "-r", p + "s/"},
				{"rm", "-r", "--exclude", "*.txt", p},
				{"purge", "--dry-run", h.url("")},
				{"purge", h.url("")},
				{"rb", "--force", "s3://" + b2},
			}
		}
		want := [][]string{
			{"make_bucket"}, {"upload", "summary"}, {"upload"}, {"download"}, {"bucket"}, {"object", "summary"},
			{"upload", "summary"}, {"download", "summary"}, {""}, {"verify", "summary"}, {"deltaspace", "total"},
			{"copy", "summary"}, {"copy", "summary"}, {"delete"}, {"delete"}, {"delete", "summary"},
			{"delete", "summary"}, {"delete", "summary"}, {"summary"}, {"summary"}, {"remove_bucket"},
		}
		for i, args := range steps("json", randomName("dgcli-")) {
			r := h.ok(append([]string{"--json"}, args...)...)
			recs := jsonLines(t, r.stdout)
			if len(recs) == 0 {
				t.Fatalf("%v: no JSON", args)
			}
			for _, typ := range want[i] {
				if typ == "" { // stats: one report object
					if len(recs) != 1 || recs[0]["deltaspaces"] == nil {
						t.Fatalf("%v: %v", args, r)
					}
					continue
				}
				if len(ofType(recs, typ)) == 0 {
					t.Fatalf("%v: no %q record: %v", args, typ, r)
				}
			}
		}
		for _, args := range steps("quiet", randomName("dgcli-")) {
			if r := h.ok(append([]string{"--quiet"}, args...)...); r.stdout != "" {
				t.Fatalf("--quiet %v printed %v", args, r)
			}
		}
	})
}

func TestSyncExcludeBothWays(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 15, 2, 64<<10)
		os.WriteFile(filepath.Join(src, "build.tmp"), []byte("scratch"), 0o644)
		r := h.ok("sync", src, h.url("s/"), "--exclude", "*.tmp")
		if strings.Count(r.stdout, "upload: ") != len(names) || strings.Contains(r.stdout, "build.tmp") {
			t.Fatalf("%v", r)
		}
		// An excluded path is not deleted either.
		h.ok("-q", "cp", filepath.Join(src, "build.tmp"), h.url("s/remote-only.tmp"))
		h.ok("-q", "cp", filepath.Join(src, "build.tmp"), h.url("s/remote-only.bin"))
		r = h.ok("sync", "--delete", "--exclude", "*.tmp", src, h.url("s/"))
		if r.stdout != "delete: "+h.url("s/remote-only.bin")+"\nsync: 0 objects, 0 B, 3 unchanged skipped, 1 deleted\n" {
			t.Fatalf("%v", r)
		}
		ls := h.ok("ls", "-r", h.url("s/")).stdout
		if !strings.Contains(ls, "remote-only.tmp") || strings.Contains(ls, "build.tmp") {
			t.Fatalf("%s", ls)
		}
		// Down, excluding the text file; a local excluded file survives --delete.
		out := t.TempDir()
		os.WriteFile(filepath.Join(out, "mine.txt"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(out, "stale.zip"), []byte("x"), 0o644)
		r = h.ok("sync", "--delete", "--exclude", "*.txt", "--exclude", "*.tmp", h.url("s/"), out)
		if strings.Count(r.stdout, "download: ") != len(names)-1 || !strings.Contains(r.stdout, "delete: "+filepath.Join(out, "stale.zip")) {
			t.Fatalf("%v", r)
		}
		want := t.TempDir()
		for _, n := range names[:len(names)-1] {
			os.WriteFile(filepath.Join(want, n), must(os.ReadFile(filepath.Join(src, n))), 0o644)
		}
		os.WriteFile(filepath.Join(want, "mine.txt"), []byte("x"), 0o644)
		sameTree(t, want, out)
	})
}

func TestCpMaxRatioFlag(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 16, 3, 64<<10)
		h.ok("-q", "cp", filepath.Join(src, names[0]), h.url("m/"))
		rec := jsonLines(t, h.ok("--json", "cp", "--max-ratio", "0.0001", filepath.Join(src, names[1]), h.url("m/")).stdout)[0]
		if rec["stored_as"] != "direct" || rec["reason"] != "ratio" {
			t.Fatalf("--max-ratio 0.0001: %v", rec)
		}
		// The flag wins over DG_MAX_RATIO.
		t.Setenv("DG_MAX_RATIO", "0.0001")
		rec = jsonLines(t, h.ok("--json", "cp", filepath.Join(src, names[2]), h.url("m/"), "--max-ratio", "1").stdout)[0]
		if rec["stored_as"] != "delta" {
			t.Fatalf("--max-ratio 1: %v", rec)
		}
		h.ok("-q", "verify", "-r", h.url("m/"))
	})
}

func TestMigrateDeltaToDeltaResumes(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		src, names := versions(t, 17, 4, 96<<10)
		h.ok("-q", "cp", "-r", src, h.url("rel/"))
		dst := h.newBucket()
		r := h.ok("--json", "migrate", "--yes", "--jobs", "3", h.url("rel/"), "s3://"+dst+"/rel/")
		if n := len(ofType(jsonLines(t, r.stdout), "copy")); n != len(names) {
			t.Fatalf("%v", r)
		}
		st := jsonLines(t, h.ok("stats", "--json", "s3://"+dst).stdout)[0]
		if st["delta_objects"] != float64(len(names)-1) || st["references"] != float64(1) {
			t.Fatalf("delta bucket migrated into: %v", st)
		}
		// As after an interruption: two objects never made it. Only they
		// are copied again.
		h.ok("-q", "rm", "s3://"+dst+"/rel/"+names[1])
		h.ok("-q", "rm", "s3://"+dst+"/rel/NOTES.txt")
		r = h.ok("migrate", "--yes", h.url("rel/"), "s3://"+dst+"/rel/")
		if strings.Count(r.stdout, "copy: ") != 2 || !strings.Contains(r.stdout, fmt.Sprintf("%d unchanged skipped", len(names)-2)) ||
			!strings.Contains(r.stdout, names[1]) || !strings.Contains(r.stdout, "NOTES.txt") {
			t.Fatalf("resume: %v", r)
		}
		out := t.TempDir()
		h.ok("-q", "cp", "-r", "s3://"+dst+"/rel/", out)
		sameTree(t, src, out)
		h.ok("-q", "verify", "--all", "s3://"+dst)
	})
}

// TestS3EndpointEnvAndProfile: AWS_ENDPOINT_URL selects the server without
// --endpoint-url, and --profile reads the shared credentials file.
func TestS3EndpointEnvAndProfile(t *testing.T) {
	h := newHarness(t, "s3")
	h.ok("-q", "cp", "-", h.url("k.bin"))
	bare := &cliHarness{t: t}
	t.Setenv("AWS_ENDPOINT_URL", h.endpoint)
	if r := bare.ok("ls"); !strings.Contains(r.stdout, "s3://"+h.bucket+"\n") {
		t.Fatalf("AWS_ENDPOINT_URL: %v", r)
	}
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	os.WriteFile(creds, []byte(fmt.Sprintf("[dgtest]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"+
		"[wrong]\naws_access_key_id = %[1]s\naws_secret_access_key = not-the-secret\n",
		os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"))), 0o600)
	os.WriteFile(filepath.Join(dir, "config"), nil, 0o600)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if r := bare.ok("--profile", "dgtest", "--region", "us-east-1", "ls", "-r", h.url("")); !strings.HasSuffix(r.stdout, " k.bin\n") {
		t.Fatalf("--profile dgtest: %v", r)
	}
	bare.fails(exitFailure, []string{"access denied by S3"}, "ls", "--profile", "wrong", h.url(""))
	bare.fails(exitFailure, []string{`AWS profile "nope" is not in the shared config`, "--profile"}, "ls", "--profile", "nope", h.url(""))
}
