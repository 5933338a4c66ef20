package fsstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/deltaglider-go/deltaglider/store"
)

// Names inside a bucket directory that belong to the store. Keys whose
// first segment is internalDir are rejected with store.ErrInvalidKey and
// the directory is never listed.
const (
	internalDir = ".dg"
	tmpDir      = internalDir + "/tmp"
	metaDir     = internalDir + "/meta"
	lockDir     = internalDir + "/locks"
	// metaSuffix ends every sidecar file name, so that the sidecar of key
	// "a" (meta/a.dgmeta) never collides with the directory of "a/b".
	metaSuffix  = ".dgmeta"
	lockStripes = 256
)

// MetadataMode selects where object metadata is kept.
type MetadataMode int

const (
	// MetadataAuto keeps metadata in the xattr user.dg.metadata where the
	// file system supports it and in a sidecar file otherwise (decided
	// once by New, and again per object when an xattr write is refused,
	// for example because the blob is too large). The default.
	MetadataAuto MetadataMode = iota
	// MetadataXattr requires xattrs: New fails where they do not work.
	MetadataXattr
	// MetadataSidecar always uses sidecar files (bucket/.dg/meta/<key>.dgmeta).
	MetadataSidecar
)

func (m MetadataMode) String() string {
	switch m {
	case MetadataAuto:
		return "auto"
	case MetadataXattr:
		return "xattr"
	case MetadataSidecar:
		return "sidecar"
	}
	return fmt.Sprintf("MetadataMode(%d)", int(m))
}

type options struct {
	mode      MetadataMode
	noSync    bool
	tmpMaxAge time.Duration
	perm      fs.FileMode
	// xattrLimit, if positive, makes blobs longer than it (New's probe
	// included) fail as too large for an xattr (tests only: real limits
	// depend on the file system, e.g. about 4 KiB on ext4).
	xattrLimit int
}

// Option configures New.
type Option func(*options) error

// WithMetadata selects where metadata is stored (default MetadataAuto).
func WithMetadata(m MetadataMode) Option {
	return func(o *options) error {
		if m < MetadataAuto || m > MetadataSidecar {
			return fmt.Errorf("fsstore: invalid metadata mode %d", int(m))
		}
		o.mode = m
		return nil
	}
}

// WithoutSync skips fsync of files and directories. Writes stay atomic
// (readers never see a partial object) but are not durable across a power
// failure. For tests and benchmarks.
func WithoutSync() Option {
	return func(o *options) error { o.noSync = true; return nil }
}

// WithTempMaxAge sets how old a temporary file must be before New (and
// Cleanup with age 0) removes it as left over from a crash. Default one
// hour; a negative value disables the cleanup in New.
func WithTempMaxAge(d time.Duration) Option {
	return func(o *options) error { o.tmpMaxAge = d; return nil }
}

// Store is a store.Store on a local directory. It is safe for concurrent
// use, also by several processes sharing the directory.
type Store struct {
	root    *os.Root
	dir     string
	opts    options
	sidecar bool // metadata in sidecar files by default
}

var _ store.Store = (*Store)(nil)

// New opens (creating it if needed) the directory dir as a store. Each
// bucket is a subdirectory. Temporary files older than the configured age
// are removed.
func New(dir string, opts ...Option) (*Store, error) {
	o := options{tmpMaxAge: time.Hour, perm: 0o644}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fsstore: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("fsstore: %w", err)
	}
	s := &Store{root: root, dir: dir, opts: o, sidecar: o.mode == MetadataSidecar}
	if o.mode != MetadataSidecar {
		err := s.probeXattr()
		if o.mode == MetadataAuto && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
			// A read-only store: nothing will be written, and reads look
			// for the xattr first and the sidecar second anyway.
			err = nil
		}
		if err != nil {
			if o.mode == MetadataXattr || !xattrUnsupported(err) {
				root.Close()
				return nil, fmt.Errorf("fsstore: %s does not support xattrs: %w", dir, err)
			}
			s.sidecar = true
		}
	}
	if o.tmpMaxAge >= 0 {
		if err := s.Cleanup(context.Background(), o.tmpMaxAge); err != nil {
			root.Close()
			return nil, err
		}
	}
	return s, nil
}

// probeXattr checks that an xattr can be set on a file in the root.
func (s *Store) probeXattr() error {
	name := ".dg-probe-" + randomName()
	f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer s.root.Remove(name)
	defer f.Close()
	probe := []byte("{}")
	if s.opts.xattrLimit > 0 && len(probe) > s.opts.xattrLimit {
		return errXattrTooLarge
	}
	return setXattr(f, probe)
}

// Close releases the store's handle on its directory.
func (s *Store) Close() error { return s.root.Close() }

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// MetadataMode reports where new metadata is written: MetadataXattr or
// MetadataSidecar.
func (s *Store) MetadataMode() MetadataMode {
	if s.sidecar {
		return MetadataSidecar
	}
	return MetadataXattr
}

// Cleanup removes temporary files older than maxAge left in every bucket
// by crashed or killed writers (files of writers still running are
// younger, so choose maxAge well above the longest Put).
func (s *Store) Cleanup(ctx context.Context, maxAge time.Duration) error {
	buckets, err := s.ListBuckets(ctx)
	if err != nil {
		return err
	}
	cutoff := time.Now().Add(-maxAge)
	for _, b := range buckets {
		d, err := s.root.Open(path.Join(b, tmpDir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("fsstore: cleanup: %w", err)
		}
		for {
			ents, err := d.ReadDir(256)
			for _, e := range ents {
				if err := ctx.Err(); err != nil {
					d.Close()
					return err
				}
				if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
					_ = s.root.Remove(path.Join(b, tmpDir, e.Name()))
				}
			}
			if err != nil || len(ents) == 0 {
				break
			}
		}
		d.Close()
	}
	return nil
}

func randomName() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// checkKey applies store.ValidateKey and the store's own reservation.
func checkKey(key string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	if key == internalDir || strings.HasPrefix(key, internalDir+"/") {
		return fmt.Errorf("%w %q: the first segment %q is reserved by fsstore", store.ErrInvalidKey, key, internalDir)
	}
	return nil
}

// bucketDir checks that bucket is valid and exists.
func (s *Store) bucketDir(bucket string) error {
	if err := store.ValidateBucket(bucket); err != nil {
		return err
	}
	fi, err := s.root.Stat(bucket)
	if err == nil && fi.IsDir() {
		return nil
	}
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %s", store.ErrBucketNotExist, bucket)
	}
	return fmt.Errorf("fsstore: %w", err)
}

// notFound maps an error from opening an object's path: missing files,
// missing buckets and non-files (directories, symlinks) are ErrNotExist
// (or ErrBucketNotExist); anything else is an I/O error.
func (s *Store) notFound(bucket, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EISDIR) {
		if berr := s.bucketDir(bucket); berr != nil {
			return berr
		}
		return fmt.Errorf("%w: %s/%s", store.ErrNotExist, bucket, key)
	}
	if s.viaSymlink(bucket, key) {
		// os.Root refused a link leading out of the root.
		return fmt.Errorf("%w: %s/%s", store.ErrNotExist, bucket, key)
	}
	return fmt.Errorf("fsstore: %s/%s: %w", bucket, key, err)
}

// viaSymlink reports whether the path of key crosses a symbolic link.
func (s *Store) viaSymlink(bucket, key string) bool {
	p := bucket
	for seg := range strings.SplitSeq(key, "/") {
		p += "/" + seg
		fi, err := s.root.Lstat(p)
		if err != nil {
			return false
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return true
		}
	}
	return false
}

func (s *Store) syncDir(name string) error {
	if s.opts.noSync {
		return nil
	}
	d, err := s.root.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// CreateBucket creates the bucket's directory.
func (s *Store) CreateBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.ValidateBucket(bucket); err != nil {
		return err
	}
	if err := s.root.Mkdir(bucket, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", store.ErrBucketExist, bucket)
		}
		return fmt.Errorf("fsstore: %w", err)
	}
	if err := s.syncDir("."); err != nil {
		return fmt.Errorf("fsstore: %w", err)
	}
	return nil
}

// DeleteBucket removes a bucket that holds no objects (empty directories
// and the store's internal files do not count).
func (s *Store) DeleteBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.bucketDir(bucket); err != nil {
		return err
	}
	has, err := s.hasObject(ctx, bucket, "")
	if err != nil {
		return err
	}
	if has {
		return fmt.Errorf("%w: %s", store.ErrBucketNotEmpty, bucket)
	}
	if err := s.root.RemoveAll(path.Join(bucket, internalDir)); err != nil {
		return fmt.Errorf("fsstore: %w", err)
	}
	if err := s.removeEmptyTree(bucket); err != nil {
		if isNotEmpty(err) {
			return fmt.Errorf("%w: %s", store.ErrBucketNotEmpty, bucket)
		}
		return fmt.Errorf("fsstore: %w", err)
	}
	return s.syncDir(".")
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}

// removeEmptyTree removes dir and the empty directories below it, with
// Remove only, so a file created meanwhile makes it fail instead of being
// lost.
func (s *Store) removeEmptyTree(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := s.removeEmptyTree(path.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return s.root.Remove(dir)
}

// ListBuckets lists the subdirectories of the root whose names are valid
// bucket names.
func (s *Store) ListBuckets(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := s.root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("fsstore: %w", err)
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("fsstore: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && store.ValidateBucket(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// BucketExists reports whether the bucket's directory exists.
func (s *Store) BucketExists(ctx context.Context, bucket string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	err := s.bucketDir(bucket)
	if errors.Is(err, store.ErrBucketNotExist) {
		return false, nil
	}
	return err == nil, err
}
