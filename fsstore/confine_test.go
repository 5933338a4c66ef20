package fsstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

// failingBody yields n bytes, then fails.
type failingBody struct{ n int }

var errBody = errors.New("body failed")

func (r *failingBody) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errBody
	}
	m := min(len(p), r.n)
	clear(p[:m])
	r.n -= m
	return m, nil
}

// cancelAfter yields n bytes, cancels, and then keeps yielding.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (r *cancelAfter) Read(p []byte) (int, error) {
	if r.n <= 0 {
		r.cancel()
	}
	m := min(len(p), max(r.n, 1))
	clear(p[:m])
	r.n -= m
	return m, nil
}

// tempFiles returns the names in the bucket's temporary directory.
func tempFiles(t *testing.T, s *Store, bucket string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(s.Dir(), bucket, ".dg", "tmp"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestFailedPutsLeaveNoTempFiles: every way a Put can fail after its
// temporary file was created (failing body, cancelled context, body
// shorter or longer than Size, lost conditional create, key colliding
// with a directory or lying below an object) removes the temporary file
// and changes nothing visible, with metadata in xattrs and in sidecars.
func TestFailedPutsLeaveNoTempFiles(t *testing.T) {
	for _, mode := range []MetadataMode{MetadataXattr, MetadataSidecar} {
		t.Run(mode.String(), func(t *testing.T) {
			s, b := newBucket(t, WithMetadata(mode))
			ctx := t.Context()
			mustPut(t, s, b, "exists", []byte("old"), map[string]string{"v": "old"})
			mustPut(t, s, b, "dir/child", []byte("child"), nil)
			big := 3 << 20 // more than one copy buffer
			cases := []struct {
				name string
				key  string
				body func(cancel context.CancelFunc) io.Reader
				opts store.PutOptions
				want error
			}{
				{"failing body", "new", func(context.CancelFunc) io.Reader { return &failingBody{n: big} },
					store.PutOptions{Size: store.SizeUnknown}, errBody},
				{"failing body over an object", "exists", func(context.CancelFunc) io.Reader { return &failingBody{n: big} },
					store.PutOptions{Size: int64(big + 1)}, errBody},
				{"cancelled", "new", func(c context.CancelFunc) io.Reader { return &cancelAfter{n: big, cancel: c} },
					store.PutOptions{Size: store.SizeUnknown}, context.Canceled},
				{"cancelled conditional", "new", func(c context.CancelFunc) io.Reader { return &cancelAfter{n: big, cancel: c} },
					store.PutOptions{Size: store.SizeUnknown, IfNotExists: true}, context.Canceled},
				{"short body", "new", func(context.CancelFunc) io.Reader { return bytes.NewReader(make([]byte, 99)) },
					store.PutOptions{Size: 100}, io.ErrUnexpectedEOF},
				{"long body", "exists", func(context.CancelFunc) io.Reader { return bytes.NewReader(make([]byte, 101)) },
					store.PutOptions{Size: 100}, nil},
				{"lost conditional create", "exists", func(context.CancelFunc) io.Reader { return strings.NewReader("new") },
					store.PutOptions{Size: 3, IfNotExists: true, Metadata: map[string]string{"v": "new"}}, store.ErrExist},
				{"key is a directory", "dir", func(context.CancelFunc) io.Reader { return strings.NewReader("x") },
					store.PutOptions{Size: 1}, store.ErrInvalidKey},
				{"key is a directory (conditional)", "dir", func(context.CancelFunc) io.Reader { return strings.NewReader("x") },
					store.PutOptions{Size: 1, IfNotExists: true}, store.ErrInvalidKey},
				{"key below an object", "exists/x", func(context.CancelFunc) io.Reader { return strings.NewReader("x") },
					store.PutOptions{Size: 1}, store.ErrInvalidKey},
			}
			for _, c := range cases {
				cctx, cancel := context.WithCancel(ctx)
				_, err := s.Put(cctx, b, c.key, c.body(cancel), c.opts)
				cancel()
				if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
					t.Errorf("%s: Put = %v, want an error wrapping %v", c.name, err, c.want)
				}
				if tmp := tempFiles(t, s, b); len(tmp) != 0 {
					t.Errorf("%s: temporary files left: %q", c.name, tmp)
				}
			}
			if got := listKeys(t, s, b, store.ListOptions{}); !slices.Equal(got, []string{"dir/child", "exists"}) {
				t.Errorf("after the failed Puts the bucket lists %q", got)
			}
			rc, info, err := s.Get(ctx, b, "exists", 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != "old" || info.Metadata["v"] != "old" {
				t.Errorf("exists holds %q with metadata %q after the failed Puts", got, info.Metadata)
			}
			// Successful Puts, overwrites and copies leave none either.
			mustPut(t, s, b, "exists", []byte("newer"), map[string]string{"v": "2"})
			if _, err := s.Copy(ctx, b, "exists", b, "copy", store.CopyOptions{}); err != nil {
				t.Fatal(err)
			}
			if tmp := tempFiles(t, s, b); len(tmp) != 0 {
				t.Errorf("temporary files left by successful writes: %q", tmp)
			}
		})
	}
}

// TestConfinedToRoot: keys that would leave the root are invalid, and
// symbolic links planted in the tree (to a file, to a directory, as a
// bucket) never let an operation read, write or delete outside it.
func TestConfinedToRoot(t *testing.T) {
	s, b := newBucket(t)
	ctx := t.Context()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	bdir := filepath.Join(s.Dir(), b)
	for name, target := range map[string]string{"file-link": secret, "dir-link": outside} {
		if err := os.Symlink(target, filepath.Join(bdir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(s.Dir(), "evil")); err != nil {
		t.Fatal(err)
	}

	// Keys naming a way out are rejected before any file access.
	for _, k := range []string{"../evil/secret", "../../x", "/etc/passwd", "a/../../x", "a\x00b", "a//b", "./x", "x/."} {
		for what, err := range map[string]error{
			"Put": func() error {
				_, err := s.Put(ctx, b, k, strings.NewReader("x"), store.PutOptions{Size: 1})
				return err
			}(),
			"Get":    func() error { _, _, err := s.Get(ctx, b, k, 0, -1); return err }(),
			"Stat":   func() error { _, err := s.Stat(ctx, b, k); return err }(),
			"Delete": s.Delete(ctx, b, k),
		} {
			if !errors.Is(err, store.ErrInvalidKey) {
				t.Errorf("%s(%q) = %v, want ErrInvalidKey", what, k, err)
			}
		}
	}

	// Through the planted links: nothing outside is read...
	for _, k := range []string{"file-link", "dir-link/secret"} {
		if _, _, err := s.Get(ctx, b, k, 0, -1); !errors.Is(err, store.ErrNotExist) {
			t.Errorf("Get(%q) = %v, want ErrNotExist", k, err)
		}
	}
	if _, err := s.Stat(ctx, "evil", "secret"); err == nil {
		t.Errorf("Stat through a bucket that links outside succeeded")
	}
	// ... written ...
	if _, err := s.Put(ctx, b, "dir-link/new", strings.NewReader("x"), store.PutOptions{Size: 1}); err == nil {
		t.Errorf("Put through a directory link succeeded")
	}
	if _, err := s.Put(ctx, b, "dir-link/secret", strings.NewReader("overwritten"), store.PutOptions{Size: 11}); err == nil {
		t.Errorf("Put over a file behind a directory link succeeded")
	}
	if _, err := s.Put(ctx, "evil", "new", strings.NewReader("x"), store.PutOptions{Size: 1}); err == nil {
		t.Errorf("Put into a bucket that links outside succeeded")
	}
	if _, err := s.Copy(ctx, b, "file-link", b, "copied", store.CopyOptions{}); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Copy from a file link = %v, want ErrNotExist", err)
	}
	// ... or deleted.
	_ = s.Delete(ctx, b, "dir-link/secret")
	_ = s.DeleteMany(ctx, b, []string{"dir-link/secret", "file-link"})
	_ = s.Delete(ctx, "evil", "secret")
	_ = s.DeleteBucket(ctx, "evil")

	if got, err := os.ReadFile(secret); err != nil || string(got) != "secret" {
		t.Errorf("the file outside the root: %q, %v", got, err)
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the directory outside the root holds %q", names)
	}
	if got := listKeys(t, s, b, store.ListOptions{}); len(got) != 0 {
		t.Errorf("listing shows %q", got)
	}
}
