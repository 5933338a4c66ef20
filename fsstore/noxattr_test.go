package fsstore

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/deltaglider-go/deltaglider/store"
)

// withXattrLimit makes every xattr write longer than n bytes fail with
// E2BIG, New's probe included: n = 1 acts as a file system that keeps no
// metadata xattrs at all.
func withXattrLimit(n int) Option {
	return func(o *options) error { o.xattrLimit = n; return nil }
}

// TestNoXattrFileSystem: on a file system where New's probe cannot set
// an xattr, MetadataAuto keeps metadata in sidecar files (and says so),
// objects round-trip with their metadata, a blob the proxy left in the
// xattr is still read first, and MetadataXattr refuses to open the store.
func TestNoXattrFileSystem(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(dir, WithMetadata(MetadataXattr), withXattrLimit(1)); err == nil || !strings.Contains(err.Error(), "xattr") {
		t.Errorf("New(MetadataXattr) without xattrs = %v, want an error about xattrs", err)
	}
	s, err := New(dir, withXattrLimit(1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m := s.MetadataMode(); m != MetadataSidecar {
		t.Fatalf("MetadataMode() = %v, want sidecar", m)
	}
	ctx := t.Context()
	const b = "bkt"
	if err := s.CreateBucket(ctx, b); err != nil {
		t.Fatal(err)
	}
	md := map[string]string{"dg-file-size": "3", "note": "héllo"}
	put := mustPut(t, s, b, "dir/k", []byte("abc"), md)
	p := filepath.Join(dir, b, "dir", "k")
	if _, err := unix.Getxattr(p, XattrName, make([]byte, 1024)); !errors.Is(err, unix.ENODATA) {
		t.Errorf("data file has an xattr (or: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, b, ".dg", "meta", "dir", "k.dgmeta")); err != nil {
		t.Errorf("no sidecar: %v", err)
	}
	info, err := s.Stat(ctx, b, "dir/k")
	if err != nil || !maps.Equal(info.Metadata, md) || info.ETag != put.ETag {
		t.Errorf("Stat = %+v, %v; want metadata %q and ETag %q", info, err, md, put.ETag)
	}
	// The xattr wins over the sidecar when both exist (a file the proxy
	// wrote on a file system that has xattrs, copied here with them).
	if err := unix.Setxattr(p, XattrName, []byte(`{"note":"delta","user_metadata":{"from":"proxy"}}`), 0); err != nil {
		t.Fatal(err)
	}
	info, err = s.Stat(ctx, b, "dir/k")
	if want := map[string]string{"dg-note": "delta", "from": "proxy"}; err != nil || !maps.Equal(info.Metadata, want) {
		t.Errorf("Stat with a proxy xattr = %q, %v; want %q", info.Metadata, err, want)
	}
	// Delete removes the sidecar with the data.
	if err := s.Delete(ctx, b, "dir/k"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, b, ".dg", "meta", "dir", "k.dgmeta")); !os.IsNotExist(err) {
		t.Errorf("sidecar survived Delete: %v", err)
	}
	if _, err := s.Stat(ctx, b, "dir/k"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Stat after Delete: %v", err)
	}
}
