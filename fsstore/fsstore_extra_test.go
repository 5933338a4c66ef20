package fsstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/deltaglider-go/deltaglider/store"
)

func mustPut(t *testing.T, s *Store, bucket, key string, body []byte, md map[string]string) store.ObjectInfo {
	t.Helper()
	info, err := s.Put(t.Context(), bucket, key, bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), Metadata: md})
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func listKeys(t *testing.T, s *Store, bucket string, opts store.ListOptions) []string {
	t.Helper()
	var keys []string
	if err := s.List(t.Context(), bucket, opts, func(e store.Entry) error {
		keys = append(keys, e.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// fastTempDir returns a temporary directory on tmpfs (/dev/shm) where
// there is one, for tests that write many files; else t.TempDir().
func fastTempDir(t *testing.T) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "fsstore-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

func newBucket(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	s := newTestStore(t, opts...)
	if err := s.CreateBucket(t.Context(), "bkt"); err != nil {
		t.Fatal(err)
	}
	return s, "bkt"
}

// TestListManyKeys lists 20k keys in a mix of flat and nested directories
// and checks order, completeness and StartAfter resumption.
func TestListManyKeys(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	s, err := New(fastTempDir(t), WithoutSync()) // auto: tmpfs may lack user xattrs
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := "bkt"
	if err := s.CreateBucket(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := range n {
		var k string
		switch i % 4 {
		case 0:
			k = fmt.Sprintf("flat-%06d", i)
		case 1:
			k = fmt.Sprintf("d%02d/k%06d", i%37, i)
		case 2:
			k = fmt.Sprintf("d%02d-x/%06d.bin", i%11, i)
		default:
			k = fmt.Sprintf("deep/%d/%d/%06d", i%5, i%3, i)
		}
		keys = append(keys, k)
	}
	// Writers in parallel: on a virtual disk most of a Put is waiting.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := s.Put(t.Context(), b, keys[i], strings.NewReader(keys[i]), store.PutOptions{Size: int64(len(keys[i]))}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	slices.Sort(keys)
	got := listKeys(t, s, b, store.ListOptions{})
	if !slices.Equal(got, keys) {
		t.Fatalf("listing of %d keys differs (got %d keys)", len(keys), len(got))
	}
	mid := keys[len(keys)/2]
	got = listKeys(t, s, b, store.ListOptions{StartAfter: mid})
	if !slices.Equal(got, keys[len(keys)/2+1:]) {
		t.Fatalf("listing after %q differs", mid)
	}
	got = listKeys(t, s, b, store.ListOptions{Delimiter: "/"})
	var want []string
	for _, k := range keys {
		if i := strings.IndexByte(k, '/'); i >= 0 {
			k = k[:i+1]
		}
		if len(want) == 0 || want[len(want)-1] != k {
			want = append(want, k)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("delimited listing: got %d entries, want %d", len(got), len(want))
	}
}

// TestCrossProcessConditionalCreate races 8 processes (this test binary
// re-executed) on one conditional create: exactly one may win.
func TestCrossProcessConditionalCreate(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, mode := range []MetadataMode{MetadataXattr, MetadataSidecar} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			s, err := New(dir, WithMetadata(mode))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.CreateBucket(t.Context(), "bkt"); err != nil {
				t.Fatal(err)
			}
			goFile := filepath.Join(t.TempDir(), "go")
			const procs = 8
			cmds := make([]*exec.Cmd, procs)
			outs := make([]*bytes.Buffer, procs)
			for i := range procs {
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperConditionalPut$", "-test.count=1")
				cmd.Env = append(os.Environ(), "FSSTORE_HELPER_DIR="+dir, "FSSTORE_HELPER_GO="+goFile,
					fmt.Sprintf("FSSTORE_HELPER_ID=%d", i), "FSSTORE_HELPER_MODE="+mode.String())
				outs[i] = new(bytes.Buffer)
				cmd.Stdout, cmd.Stderr = outs[i], outs[i]
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				cmds[i] = cmd
			}
			time.Sleep(100 * time.Millisecond) // let them reach the starting line
			if err := os.WriteFile(goFile, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			won, lost := -1, 0
			for i, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Errorf("process %d: %v\n%s", i, err, outs[i])
					continue
				}
				switch out := outs[i].String(); {
				case strings.Contains(out, "RESULT:won"):
					if won >= 0 {
						t.Errorf("processes %d and %d both won", won, i)
					}
					won = i
				case strings.Contains(out, "RESULT:exist"):
					lost++
				default:
					t.Errorf("process %d: %s", i, out)
				}
			}
			if won < 0 || lost != procs-1 {
				t.Fatalf("winner %d, %d losers; want one winner and %d losers", won, lost, procs-1)
			}
			rc, info, err := s.Get(t.Context(), "bkt", "race", 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			var buf bytes.Buffer
			buf.ReadFrom(rc)
			if want := helperBody(won); !bytes.Equal(buf.Bytes(), want) || info.Metadata["writer"] != fmt.Sprint(won) {
				t.Errorf("stored object is not the winner's (metadata %q)", info.Metadata)
			}
		})
	}
}

func helperBody(id int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("writer %d\n", id)), 5000+id)
}

// TestHelperConditionalPut is the child of TestCrossProcessConditionalCreate.
func TestHelperConditionalPut(t *testing.T) {
	dir := os.Getenv("FSSTORE_HELPER_DIR")
	if dir == "" {
		t.Skip("child process of TestCrossProcessConditionalCreate")
	}
	var id int
	fmt.Sscan(os.Getenv("FSSTORE_HELPER_ID"), &id)
	mode := MetadataXattr
	if os.Getenv("FSSTORE_HELPER_MODE") == "sidecar" {
		mode = MetadataSidecar
	}
	s, err := New(dir, WithMetadata(mode))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(os.Getenv("FSSTORE_HELPER_GO")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never started")
		}
		time.Sleep(time.Millisecond)
	}
	body := helperBody(id)
	_, err = s.Put(t.Context(), "bkt", "race", bytes.NewReader(body), store.PutOptions{
		Size: int64(len(body)), IfNotExists: true, Metadata: map[string]string{"writer": fmt.Sprint(id)}})
	switch {
	case err == nil:
		fmt.Println("RESULT:won")
	case errors.Is(err, store.ErrExist):
		fmt.Println("RESULT:exist")
	default:
		t.Fatal(err)
	}
}

func TestInternalFilesHiddenAndCleaned(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "bkt", "k", []byte("v"), map[string]string{"a": "b"})
	// Leftovers of crashed writers: one old, one recent.
	tmp := filepath.Join(dir, "bkt", ".dg", "tmp")
	old, recent := filepath.Join(tmp, "old.tmp"), filepath.Join(tmp, "recent.tmp")
	for _, p := range []string{old, recent} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if got := listKeys(t, s, "bkt", store.ListOptions{}); !slices.Equal(got, []string{"k"}) {
		t.Errorf("listing shows %q", got)
	}
	s.Close()
	s, err = New(dir) // cleans temp files older than an hour
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("stale temp file survived New: %v", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("recent temp file removed: %v", err)
	}
	if err := s.Cleanup(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(recent); !os.IsNotExist(err) {
		t.Errorf("Cleanup(0) left %s", recent)
	}
	// The internal directory cannot be reached through keys.
	for _, k := range []string{".dg", ".dg/tmp/x", ".dg/meta/k.dgmeta"} {
		_, err := s.Put(ctx, "bkt", k, strings.NewReader("x"), store.PutOptions{Size: 1})
		if !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
		}
		if _, err := s.Stat(ctx, "bkt", k); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	// ".dg" is reserved only as the first segment.
	mustPut(t, s, "bkt", "x/.dg", []byte("ok"), nil)
	mustPut(t, s, "bkt", ".dgx", []byte("ok"), nil)
	if got := listKeys(t, s, "bkt", store.ListOptions{}); !slices.Equal(got, []string{".dgx", "k", "x/.dg"}) {
		t.Errorf("listing shows %q", got)
	}
}

func TestKeyConflicts(t *testing.T) {
	s, b := newBucket(t)
	ctx := t.Context()
	mustPut(t, s, b, "a/b", []byte("1"), nil)
	for _, ifne := range []bool{false, true} {
		for _, k := range []string{"a", "a/b/c"} {
			_, err := s.Put(ctx, b, k, strings.NewReader("x"), store.PutOptions{Size: 1, IfNotExists: ifne})
			if !errors.Is(err, store.ErrInvalidKey) {
				t.Errorf("Put(%q, IfNotExists %v) next to a/b = %v, want ErrInvalidKey", k, ifne, err)
			}
		}
	}
	// Once a/b is gone (and its directory pruned) "a" is a fine key.
	if err := s.Delete(ctx, b, "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), b, "a")); !os.IsNotExist(err) {
		t.Errorf("empty directory not pruned: %v", err)
	}
	mustPut(t, s, b, "a", []byte("2"), nil)
}

func TestSymlinksIgnored(t *testing.T) {
	s, b := newBucket(t)
	mustPut(t, s, b, "real", []byte("data"), nil)
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("secret"), 0o644)
	bdir := filepath.Join(s.Dir(), b)
	os.Symlink("real", filepath.Join(bdir, "inside-link"))
	os.Symlink(outside, filepath.Join(bdir, "outside-link"))
	os.Symlink(filepath.Dir(outside), filepath.Join(bdir, "dir-link"))
	for _, k := range []string{"inside-link", "outside-link", "dir-link/secret"} {
		if _, err := s.Stat(t.Context(), b, k); !errors.Is(err, store.ErrNotExist) {
			t.Errorf("Stat(%q) = %v, want ErrNotExist", k, err)
		}
	}
	if got := listKeys(t, s, b, store.ListOptions{}); !slices.Equal(got, []string{"real"}) {
		t.Errorf("listing shows %q", got)
	}
}

// TestProxyMetadata reads a file written the way the DeltaGlider proxy's
// filesystem backend writes it (FileMetadata JSON in user.dg.metadata).
func TestProxyMetadata(t *testing.T) {
	s, b := newBucket(t, WithMetadata(MetadataXattr))
	p := filepath.Join(s.Dir(), b, "releases", "app-1.1.zip.delta")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte("delta bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	blob := `{"tool":"deltaglider/0.8.0","original_name":"app-1.1.zip","file_sha256":"ab12",` +
		`"file_size":1048576,"md5":"0f0f","created_at":"2026-05-01T10:00:00Z","content_type":"application/zip",` +
		`"user_metadata":{"Owner":"ops"},"note":"delta","ref_key":"releases/reference.bin","ref_sha256":"cd34",` +
		`"delta_size":11,"delta_cmd":"xdelta3 -e -9 -s reference.bin app-1.1.zip app-1.1.zip.delta"}`
	if err := unix.Setxattr(p, XattrName, []byte(blob), 0); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(t.Context(), b, "releases/app-1.1.zip.delta")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"dg-tool": "deltaglider/0.8.0", "dg-original-name": "app-1.1.zip", "dg-file-sha256": "ab12",
		"dg-file-size": "1048576", "dg-md5": "0f0f", "dg-created-at": "2026-05-01T10:00:00Z", "owner": "ops",
		"dg-note": "delta", "dg-ref-key": "releases/reference.bin", "dg-ref-sha256": "cd34", "dg-delta-size": "11",
		"dg-delta-cmd": "xdelta3 -e -9 -s reference.bin app-1.1.zip app-1.1.zip.delta",
	}
	if fmt.Sprint(info.Metadata) != fmt.Sprint(want) || info.ContentType != "application/zip" || info.Size != 11 {
		t.Errorf("proxy object read as %q %q size %d\nwant %q", info.Metadata, info.ContentType, info.Size, want)
	}
	if !strings.HasPrefix(info.ETag, "w-") {
		t.Errorf("ETag of a foreign file = %q, want a derived w- tag", info.ETag)
	}
	// What we write is what the proxy reads: known keys as typed fields.
	mustPut(t, s, b, "ours", []byte("x"), map[string]string{"dg-file-size": "42", "dg-delta-size": "007", "dg-note": "reference", "x": "y"})
	raw := make([]byte, 4096)
	n, err := unix.Getxattr(filepath.Join(s.Dir(), b, "ours"), XattrName, raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"file_size":42`, `"note":"reference"`, `"user_metadata":{`, `"dg-delta-size":"007"`, `"x":"y"`, `"dg_store":{`} {
		if !strings.Contains(string(raw[:n]), frag) {
			t.Errorf("blob %s lacks %s", raw[:n], frag)
		}
	}
}

// TestForeignFiles checks files written into a bucket by other tools.
func TestForeignFiles(t *testing.T) {
	s, b := newBucket(t)
	p := filepath.Join(s.Dir(), b, "dropped.txt")
	os.WriteFile(p, []byte("one"), 0o644)
	i1, err := s.Stat(t.Context(), b, "dropped.txt")
	if err != nil || i1.Size != 3 || i1.ETag == "" {
		t.Fatalf("Stat = %+v, %v", i1, err)
	}
	// Our own object edited in place by another tool: the stored MD5 no
	// longer applies and the ETag must change.
	i2 := mustPut(t, s, b, "ours", []byte("version one"), nil)
	f, _ := os.OpenFile(filepath.Join(s.Dir(), b, "ours"), os.O_WRONLY, 0)
	f.WriteAt([]byte("VERSION"), 0)
	later := time.Now().Add(time.Second)
	f.Close()
	os.Chtimes(filepath.Join(s.Dir(), b, "ours"), later, later)
	i3, err := s.Stat(t.Context(), b, "ours")
	if err != nil || i3.ETag == i2.ETag {
		t.Errorf("ETag after an in-place edit: %q (was %q), %v", i3.ETag, i2.ETag, err)
	}
}

// TestAutoFallsBackToSidecar stores metadata too large for the file
// system's xattrs.
func TestAutoFallsBackToSidecar(t *testing.T) {
	s, b := newBucket(t)    // MetadataAuto
	s.opts.xattrLimit = 512 // as if the file system took only 512 bytes
	big := map[string]string{}
	for i := range 8 {
		big[fmt.Sprintf("k%d", i)] = strings.Repeat("v", 200)
	}
	mustPut(t, s, b, "big", []byte("x"), big)
	info, err := s.Stat(t.Context(), b, "big")
	if err != nil || len(info.Metadata) != 8 || info.Metadata["k3"] != big["k3"] {
		t.Fatalf("Stat after large metadata = %d keys, %v", len(info.Metadata), err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), b, ".dg", "meta", "big.dgmeta")); err != nil {
		t.Errorf("no sidecar written: %v", err)
	}
	// Overwriting with small metadata goes back to the xattr and the
	// sidecar is removed.
	mustPut(t, s, b, "big", []byte("y"), map[string]string{"small": "1"})
	info, _ = s.Stat(t.Context(), b, "big")
	if len(info.Metadata) != 1 {
		t.Errorf("metadata after overwrite: %q", info.Metadata)
	}
	if s.MetadataMode() == MetadataXattr {
		if _, err := os.Stat(filepath.Join(s.Dir(), b, ".dg", "meta", "big.dgmeta")); !os.IsNotExist(err) {
			t.Errorf("stale sidecar kept: %v", err)
		}
	}
}

// TestSidecarOfOtherVersionIgnored: a sidecar that belongs to another
// inode (e.g. a crash between data rename and sidecar rename) is ignored.
func TestSidecarOfOtherVersionIgnored(t *testing.T) {
	s, b := newBucket(t, WithMetadata(MetadataSidecar))
	mustPut(t, s, b, "k", []byte("one"), map[string]string{"v": "1"})
	// Replace the data file behind the store's back.
	p := filepath.Join(s.Dir(), b, "k")
	os.WriteFile(p+".new", []byte("two"), 0o644)
	os.Rename(p+".new", p)
	info, err := s.Stat(t.Context(), b, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Metadata) != 0 || !strings.HasPrefix(info.ETag, "w-") {
		t.Errorf("stale sidecar used: %q etag %q", info.Metadata, info.ETag)
	}
}

// TestKilledWriter kills a process in the middle of a Put (SIGKILL, as a
// crash would): nothing is visible under the key, the leftover temporary
// file is never listed, and Cleanup removes it.
func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSlowPut$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FSSTORE_HELPER_DIR="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child has written at least 1 MiB of the body.
	tmp := filepath.Join(dir, "bkt", ".dg", "tmp")
	deadline := time.Now().Add(20 * time.Second)
	for {
		ents, _ := os.ReadDir(tmp)
		if len(ents) == 1 {
			if fi, err := ents[0].Info(); err == nil && fi.Size() >= 1<<20 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child never wrote its body: %s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := s.Stat(ctx, "bkt", "victim"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Stat after the writer was killed: %v, want ErrNotExist", err)
	}
	if got := listKeys(t, s, "bkt", store.ListOptions{}); len(got) != 0 {
		t.Errorf("listing after the writer was killed: %q", got)
	}
	if err := s.Cleanup(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("Cleanup left %d temporary files", len(ents))
	}
}

// TestHelperSlowPut is the child of TestKilledWriter: a Put whose body
// delivers 2 MiB and then blocks until the process is killed.
func TestHelperSlowPut(t *testing.T) {
	dir := os.Getenv("FSSTORE_HELPER_DIR")
	if dir == "" {
		t.Skip("child process of TestKilledWriter")
	}
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() {
		pw.Write(bytes.Repeat([]byte("z"), 2<<20))
		select {} // never finishes: the parent kills the process
	}()
	s.Put(t.Context(), "bkt", "victim", pr, store.PutOptions{Size: 4 << 20})
	t.Fatal("Put returned")
}

// TestCorruptMetadata: a damaged blob makes Stat and Get fail (serving
// the bytes without their metadata could be wrong), but listings go on.
func TestCorruptMetadata(t *testing.T) {
	s, b := newBucket(t, WithMetadata(MetadataXattr))
	mustPut(t, s, b, "good", []byte("1"), nil)
	mustPut(t, s, b, "bad", []byte("2"), map[string]string{"k": "v"})
	if err := unix.Setxattr(filepath.Join(s.Dir(), b, "bad"), XattrName, []byte(`{"user_metadata":`), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(t.Context(), b, "bad"); err == nil || errors.Is(err, store.ErrNotExist) {
		t.Errorf("Stat with a corrupt blob: %v", err)
	}
	if _, _, err := s.Get(t.Context(), b, "bad", 0, -1); err == nil {
		t.Errorf("Get with a corrupt blob succeeded")
	}
	if got := listKeys(t, s, b, store.ListOptions{}); !slices.Equal(got, []string{"bad", "good"}) {
		t.Errorf("listing: %q", got)
	}
	// Overwriting repairs it.
	mustPut(t, s, b, "bad", []byte("3"), nil)
	if _, err := s.Stat(t.Context(), b, "bad"); err != nil {
		t.Error(err)
	}
}

// FuzzDecodeBlob: any xattr content decodes without panicking, and what
// decodes re-encodes to a blob that decodes to the same metadata.
func FuzzDecodeBlob(f *testing.F) {
	f.Add([]byte(`{"tool":"deltaglider/0.8.0","file_size":12,"user_metadata":{"A":"b"},"content_type":"x/y","dg_store":{"v":1,"etag":"e","size":1,"mtime_ns":2}}`))
	f.Add([]byte(`{"delta_size":"not a number"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeBlob(data)
		decodeStoreInfo(data)
		if err != nil {
			return
		}
		enc, err := encodeBlob(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := decodeBlob(enc)
		if err != nil {
			t.Fatalf("re-encoded blob %s does not decode: %v", enc, err)
		}
		if fmt.Sprint(b.metadata) != fmt.Sprint(b2.metadata) || b.contentType != b2.contentType {
			t.Fatalf("round trip changed %q/%q to %q/%q", b.metadata, b.contentType, b2.metadata, b2.contentType)
		}
	})
}

// TestEmptyDirectories: directories without objects (left by other tools
// or a crash) are not common prefixes and do not keep a bucket alive.
func TestEmptyDirectories(t *testing.T) {
	s, b := newBucket(t)
	ctx := t.Context()
	os.MkdirAll(filepath.Join(s.Dir(), b, "empty", "sub", "subsub"), 0o755)
	mustPut(t, s, b, "full/k", []byte("x"), nil)
	got := listKeys(t, s, b, store.ListOptions{Delimiter: "/"})
	if !slices.Equal(got, []string{"full/"}) {
		t.Errorf("delimited listing: %q", got)
	}
	if err := s.DeleteBucket(ctx, b); !errors.Is(err, store.ErrBucketNotEmpty) {
		t.Errorf("DeleteBucket with an object: %v", err)
	}
	if err := s.Delete(ctx, b, "full/k"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, b); err != nil {
		t.Errorf("DeleteBucket with only empty directories: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), b)); !os.IsNotExist(err) {
		t.Errorf("bucket directory still there: %v", err)
	}
}

// TestSidecarConsistency: with metadata in sidecar files, a reader never
// pairs one version's data with another version's metadata.
func TestSidecarConsistency(t *testing.T) {
	s, b := newBucket(t, WithMetadata(MetadataSidecar), WithoutSync())
	ctx := t.Context()
	body := func(v int) []byte { return bytes.Repeat([]byte{byte('a' + v)}, 1000+v) }
	mustPut(t, s, b, "k", body(0), map[string]string{"v": "0"})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 100 {
				v := (w*3 + i) % 6
				if _, err := s.Put(ctx, b, "k", bytes.NewReader(body(v)), store.PutOptions{Size: int64(len(body(v))), Metadata: map[string]string{"v": fmt.Sprint(v)}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for range 150 {
				rc, info, err := s.Get(ctx, b, "k", 0, -1)
				if err != nil {
					t.Error(err)
					return
				}
				got, _ := io.ReadAll(rc)
				rc.Close()
				var v int
				if _, err := fmt.Sscan(info.Metadata["v"], &v); err != nil || !bytes.Equal(got, body(v)) {
					t.Errorf("data of %d bytes with metadata %q", len(got), info.Metadata)
					return
				}
			}
		})
	}
	wg.Wait()
}
