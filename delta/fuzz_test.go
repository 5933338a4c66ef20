package delta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

// FuzzGetDelta stores arbitrary bytes as a .delta with valid-looking
// metadata (and arbitrary metadata values) and reads it back: Get must
// never panic, and must either fail or return exactly the bytes whose
// SHA-256 the metadata records.
func FuzzGetDelta(f *testing.F) {
	ref := versions(90, 2, 4096)
	s := store.NewMemory()
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	c, err := New(s, WithoutCache(), WithMinDeltaSize(0))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := c.Put(ctx, "bkt", "p/a.zip", bytes.NewReader(ref[0]), PutOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := c.Put(ctx, "bkt", "p/b.zip", bytes.NewReader(ref[1]), PutOptions{}); err != nil {
		f.Fatal(err)
	}
	rc, _, _ := s.Get(ctx, "bkt", "p/b.zip.delta", 0, -1)
	good, _ := io.ReadAll(rc)
	rc.Close()
	f.Add(good, sha(ref[1]), "4096", "", "")
	f.Add(good[:len(good)/2], sha(ref[1]), "4096", "", "")
	f.Add([]byte("\xd6\xc3\xc4\x00\x04\x05a/G/b/G"), sha(nil), "0", "", "")
	f.Fuzz(func(t *testing.T, patch []byte, fileSHA, fileSize, codec, refPath string) {
		md := map[string]string{"dg-file-sha256": fileSHA, "dg-file-size": fileSize, "dg-ref-sha256": sha(ref[0]),
			"dg-codec": codec, "dg-ref-path": refPath}
		if _, err := s.Put(ctx, "bkt", "p/f.zip.delta", bytes.NewReader(patch), store.PutOptions{Size: int64(len(patch)), Metadata: md}); err != nil {
			return // metadata the store refuses
		}
		rc, info, err := c.Get(ctx, "bkt", "p/f.zip", GetOptions{Length: -1})
		if err != nil {
			return
		}
		out, err := io.ReadAll(io.LimitReader(rc, 1<<24))
		rc.Close()
		if err == nil && sha(out) != info.SHA256 {
			t.Fatalf("returned %d bytes whose SHA-256 is not the recorded one", len(out))
		}
		if err != nil && !errors.Is(err, ErrIntegrity) && errors.Is(err, io.EOF) {
			t.Fatalf("odd error %v", err)
		}
	})
}

// cacheWorker hammers a small cache in dir shared with other workers:
// 20 references of which 5 fit, so entries are evicted under one another
// all the time. Every copy it gets must have the right content.
func cacheWorker(dir string, w int) error {
	data := func(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 3000) }
	c, err := NewCache(dir, 30000)
	if err != nil {
		return err
	}
	for round := 0; round < 60; round++ {
		i := (round*7 + w) % 20
		id := cacheID("b", string(rune('a'+i)), "e", 6000)
		rf, ok := c.open(id, 6000)
		if !ok {
			rf, err = c.fill(id, 6000, func(wr io.Writer) error { _, err := wr.Write(data(i)); return err })
			if err != nil {
				return err
			}
		}
		got := make([]byte, 6000)
		_, err := rf.ReadAt(got, 0)
		rf.Close()
		if err != nil || !bytes.Equal(got, data(i)) || rf.SHA256 != sha(data(i)) {
			return fmt.Errorf("worker %d round %d: cache returned wrong content (%v)", w, round, err)
		}
	}
	return nil
}

func TestCacheSharedByInstances(t *testing.T) {
	dir := t.TempDir()
	done := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() { done <- cacheWorker(dir, w) }()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestCacheSharedByProcesses runs cacheWorker in separate processes (this
// test binary, re-executed) on one cache directory.
func TestCacheSharedByProcesses(t *testing.T) {
	if dir := os.Getenv("DELTA_CACHE_WORKER_DIR"); dir != "" {
		w, _ := strconv.Atoi(os.Getenv("DELTA_CACHE_WORKER"))
		if err := cacheWorker(dir, w); err != nil {
			t.Fatal(err)
		}
		return
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	outs := make([]*bytes.Buffer, 4)
	for w := range outs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCacheSharedByProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), "DELTA_CACHE_WORKER_DIR="+dir, "DELTA_CACHE_WORKER="+strconv.Itoa(w))
		outs[w] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[w], outs[w]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for w, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("worker process %d: %v\n%s", w, err, outs[w])
		}
	}
	// Whatever the interleaving, the cache ends within its cap and with
	// no temporary files left.
	var total int64
	filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	if total > 30000+6000*4 { // each process may overshoot by the entry it keeps
		t.Errorf("cache holds %d bytes, cap 30000", total)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("temporary files left: %d", len(ents))
	}
}
