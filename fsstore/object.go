package fsstore

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"

	"github.com/deltaglider-go/deltaglider/store"
)

// errXattrTooLarge simulates a blob too large for the file system's xattrs.
var errXattrTooLarge = fmt.Errorf("fsstore: metadata blob too large for an xattr: %w", syscall.E2BIG)

// objPath is the path of an object's data file relative to the root.
func objPath(bucket, key string) string { return bucket + "/" + key }

// sidecarPath is the path of an object's sidecar metadata file.
// A name too long for the suffix is replaced by its SHA-256 and a
// different suffix, so the sidecar name never exceeds store.MaxSegmentLen.
func sidecarPath(bucket, key string) string {
	dir, name := "", key
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		dir, name = key[:i+1], key[i+1:]
	}
	if len(name)+len(metaSuffix) > store.MaxSegmentLen {
		sum := sha256.Sum256([]byte(name))
		name = hex.EncodeToString(sum[:]) + metaSuffix + "-h"
	} else {
		name += metaSuffix
	}
	return bucket + "/" + metaDir + "/" + dir + name
}

// errConflict reports a key that collides with the directory of other
// keys, or whose parent path is an object.
func errConflict(bucket, key string) error {
	return fmt.Errorf("%w %q in %s: it is, or lies below, another key's path (a key may not be a \"/\"-prefix of another key)", store.ErrInvalidKey, key, bucket)
}

// lockStripe opens and locks (how = lockEx or lockSh) the lock file that
// serializes sidecar updates of key with its readers, across processes.
// The caller closes the file to unlock.
func (s *Store) lockStripe(bucket, key string, how int) (*os.File, error) {
	h := fnv.New32a()
	h.Write([]byte(key))
	name := fmt.Sprintf("%s/%s/%02x", bucket, lockDir, h.Sum32()%lockStripes)
	f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if berr := s.bucketDir(bucket); berr != nil {
			return nil, berr
		}
		if err = s.root.MkdirAll(path.Join(bucket, lockDir), 0o755); err == nil {
			f, err = s.root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fsstore: lock: %w", err)
	}
	if err := flock(f, how); err != nil {
		f.Close()
		return nil, fmt.Errorf("fsstore: lock: %w", err)
	}
	return f, nil
}

// createTemp creates a new temporary file in the bucket's temp directory.
func (s *Store) createTemp(bucket string) (*os.File, string, error) {
	for range 2 {
		name := bucket + "/" + tmpDir + "/" + randomName() + ".tmp"
		f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, s.opts.perm)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("fsstore: %w", err)
		}
		if err := s.bucketDir(bucket); err != nil {
			return nil, "", err
		}
		if err := s.root.MkdirAll(bucket+"/"+tmpDir, 0o755); err != nil {
			return nil, "", fmt.Errorf("fsstore: %w", err)
		}
	}
	return nil, "", fmt.Errorf("fsstore: cannot create a temporary file in %s", bucket)
}

// Put writes the body to a temporary file while hashing it, syncs it,
// attaches the metadata and publishes it under the key with one rename
// (or, for IfNotExists, one link(2), which fails if the key exists - also
// against other processes). Readers see the old or the new object, never
// a partial one; a failed or cancelled Put leaves nothing behind but, after
// a crash, a temporary file that Cleanup removes.
func (s *Store) Put(ctx context.Context, bucket, key string, r io.Reader, opts store.PutOptions) (store.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, err
	}
	if err := checkKey(key); err != nil {
		return store.ObjectInfo{}, err
	}
	md, err := store.NormalizeMetadata(opts.Metadata)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	tags, err := store.NormalizeTags(opts.Tags)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	if opts.Size < store.SizeUnknown {
		return store.ObjectInfo{}, fmt.Errorf("fsstore: invalid size %d", opts.Size)
	}
	if err := store.ValidateBucket(bucket); err != nil {
		return store.ObjectInfo{}, err
	}
	f, tmp, err := s.createTemp(bucket) // checks that the bucket exists
	if err != nil {
		return store.ObjectInfo{}, err
	}
	published := false
	defer func() {
		if f != nil {
			f.Close()
		}
		if !published {
			_ = s.root.Remove(tmp)
		}
	}()

	h := md5.New()
	n, err := copyBody(ctx, f, h, r, opts.Size)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		return store.ObjectInfo{}, fmt.Errorf("fsstore: %w", err)
	}
	info := store.ObjectInfo{
		Bucket:      bucket,
		Key:         key,
		Size:        n,
		ModTime:     fi.ModTime(),
		ETag:        hex.EncodeToString(h.Sum(nil)),
		ContentType: opts.ContentType,
		Metadata:    md,
	}
	si := &storeInfo{Version: 1, ETag: info.ETag, Size: n, MtimeNs: fi.ModTime().UnixNano(), Tags: tags}
	useSidecar := s.sidecar
	if !useSidecar {
		data, err := encodeBlob(blob{contentType: opts.ContentType, metadata: md, store: si})
		if err != nil {
			return store.ObjectInfo{}, err
		}
		err = errXattrTooLarge
		if s.opts.xattrLimit <= 0 || len(data) <= s.opts.xattrLimit {
			err = setXattr(f, data)
		}
		if err != nil {
			if s.opts.mode == MetadataXattr || !xattrUnsupported(err) {
				return store.ObjectInfo{}, fmt.Errorf("fsstore: %w", err)
			}
			useSidecar = true
		}
	}
	if !s.opts.noSync {
		if err := f.Sync(); err != nil {
			return store.ObjectInfo{}, fmt.Errorf("fsstore: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		f = nil
		return store.ObjectInfo{}, fmt.Errorf("fsstore: %w", err)
	}
	f = nil
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, err
	}

	var sidecar []byte
	if useSidecar {
		si.Ino = inode(fi)
		if sidecar, err = encodeBlob(blob{contentType: opts.ContentType, metadata: md, store: si}); err != nil {
			return store.ObjectInfo{}, err
		}
		lk, err := s.lockStripe(bucket, key, lockEx)
		if err != nil {
			return store.ObjectInfo{}, err
		}
		defer lk.Close()
	}
	if err := s.publish(bucket, key, tmp, opts.IfNotExists); err != nil {
		return store.ObjectInfo{}, err
	}
	published = true
	if useSidecar {
		if err := s.writeSidecar(bucket, key, sidecar); err != nil {
			return store.ObjectInfo{}, err
		}
	} else if s.sidecar || s.opts.mode == MetadataAuto {
		// An older sidecar of this key would be ignored (the xattr wins)
		// but would linger; remove it.
		_ = s.root.Remove(sidecarPath(bucket, key))
	}
	return info, nil
}

// copyBody copies r to f (and h), honouring ctx and the declared size.
var bufPool = sync.Pool{New: func() any { return new([256 << 10]byte) }}

func copyBody(ctx context.Context, f *os.File, h hash.Hash, r io.Reader, size int64) (int64, error) {
	bp := bufPool.Get().(*[256 << 10]byte)
	defer bufPool.Put(bp)
	buf := bp[:]
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			if size >= 0 && n+int64(m) > size {
				return n, fmt.Errorf("fsstore: body longer than the declared size %d", size)
			}
			h.Write(buf[:m])
			if _, err := f.Write(buf[:m]); err != nil {
				return n, fmt.Errorf("fsstore: %w", err)
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, fmt.Errorf("fsstore: reading body: %w", rerr)
		}
	}
	if err := ctx.Err(); err != nil {
		return n, err
	}
	if size >= 0 && n != size {
		return n, fmt.Errorf("fsstore: body of %d bytes, declared size %d: %w", n, size, io.ErrUnexpectedEOF)
	}
	return n, nil
}

// mkdirs creates the parent directories of rel (a path below the root
// whose first segment exists), fsyncing the parent of each one created.
func (s *Store) mkdirs(rel string) error {
	segs := strings.Split(rel, "/")
	p := segs[0]
	for _, seg := range segs[1 : len(segs)-1] {
		parent := p
		p += "/" + seg
		err := s.root.Mkdir(p, 0o755)
		switch {
		case err == nil:
			if err := s.syncDir(parent); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			fi, serr := s.root.Lstat(p)
			if serr == nil && !fi.IsDir() {
				return syscall.ENOTDIR
			}
		default:
			return err
		}
	}
	return nil
}

// publish moves the finished temporary file to the key.
func (s *Store) publish(bucket, key, tmp string, ifNotExists bool) error {
	dst := objPath(bucket, key)
	var err error
	// A concurrent Delete may prune a parent directory between mkdirs and
	// the rename; try again in that case.
	for i := range 8 {
		if i > 0 {
			if err = s.mkdirs(dst); err != nil {
				break
			}
		}
		if ifNotExists {
			err = s.root.Link(tmp, dst)
			if err == nil {
				_ = s.root.Remove(tmp)
			}
		} else {
			err = s.root.Rename(tmp, dst)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist) && ifNotExists:
		if fi, serr := s.root.Lstat(dst); serr == nil && fi.IsDir() {
			return errConflict(bucket, key)
		}
		return fmt.Errorf("%w: %s/%s", store.ErrExist, bucket, key)
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR), isNotEmpty(err):
		return errConflict(bucket, key)
	default:
		return fmt.Errorf("fsstore: %w", err)
	}
	if err := s.syncDir(path.Dir(dst)); err != nil {
		return fmt.Errorf("fsstore: %w", err)
	}
	return nil
}

// writeSidecar atomically replaces the sidecar of key.
func (s *Store) writeSidecar(bucket, key string, data []byte) error {
	f, tmp, err := s.createTemp(bucket)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && !s.opts.noSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	dst := sidecarPath(bucket, key)
	if err == nil {
		if err = s.root.Rename(tmp, dst); errors.Is(err, fs.ErrNotExist) {
			if err = s.mkdirs(dst); err == nil {
				err = s.root.Rename(tmp, dst)
			}
		}
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return fmt.Errorf("fsstore: sidecar: %w", err)
	}
	return nil
}

// open opens an object's data file and describes it. The caller closes
// the file.
func (s *Store) open(ctx context.Context, bucket, key string) (*os.File, store.ObjectInfo, error) {
	f, info, _, err := s.openTags(ctx, bucket, key)
	return f, info, err
}

// openTags is open that also returns the object's tags.
func (s *Store) openTags(ctx context.Context, bucket, key string) (*os.File, store.ObjectInfo, map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, store.ObjectInfo{}, nil, err
	}
	if err := store.ValidateBucket(bucket); err != nil {
		return nil, store.ObjectInfo{}, nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, store.ObjectInfo{}, nil, err
	}
	if s.sidecar {
		// Hold off sidecar writers while data and sidecar are read.
		lk, err := s.lockStripe(bucket, key, lockSh)
		if err != nil {
			return nil, store.ObjectInfo{}, nil, err
		}
		defer lk.Close()
	}
	f, err := s.openData(bucket, key)
	if err != nil {
		return nil, store.ObjectInfo{}, nil, err
	}
	info, tags, err := s.describeTags(f, bucket, key, true)
	if err != nil {
		f.Close()
		return nil, store.ObjectInfo{}, nil, err
	}
	return f, info, tags, nil
}

// openData opens the data file of key. Symbolic links are not objects
// (List skips them too), whether they point inside the root or, which
// os.Root refuses anyway, outside it.
func (s *Store) openData(bucket, key string) (*os.File, error) {
	p := objPath(bucket, key)
	f, err := s.root.OpenFile(p, os.O_RDONLY, 0)
	if fi, lerr := s.root.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if f != nil {
			f.Close()
		}
		return nil, s.notFound(bucket, key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, s.notFound(bucket, key, err)
	}
	return f, nil
}

// describe builds the ObjectInfo of an open data file: size and modtime
// from fstat; metadata, content type and ETag from the xattr or else the
// sidecar. The stored ETag is trusted only while size and modtime (and,
// for a sidecar, the inode) still match; otherwise, e.g. for a file
// written by another tool, the ETag is derived from inode, size and
// modtime ("w-..."), which still changes whenever the file is replaced.
//
// With full false (listings) only the ETag is decoded and a corrupt blob
// is ignored; with full true a corrupt blob is an error, since serving an
// object without the metadata that says how to read it would be wrong.
func (s *Store) describe(f *os.File, bucket, key string, full bool) (store.ObjectInfo, error) {
	info, _, err := s.describeTags(f, bucket, key, full)
	return info, err
}

// describeTags is describe that also returns the object's tags (with full
// set; listings never need them).
func (s *Store) describeTags(f *os.File, bucket, key string, full bool) (store.ObjectInfo, map[string]string, error) {
	fi, err := f.Stat()
	if err != nil {
		return store.ObjectInfo{}, nil, fmt.Errorf("fsstore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return store.ObjectInfo{}, nil, fmt.Errorf("%w: %s/%s", store.ErrNotExist, bucket, key)
	}
	info := store.ObjectInfo{Bucket: bucket, Key: key, Size: fi.Size(), ModTime: fi.ModTime()}
	raw, err := getXattr(f)
	if err != nil {
		return store.ObjectInfo{}, nil, fmt.Errorf("fsstore: %w", err)
	}
	fromSidecar := false
	if raw == nil && (s.sidecar || s.opts.mode == MetadataAuto) {
		raw, err = s.root.ReadFile(sidecarPath(bucket, key))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			raw, err = nil, nil
		}
		if err != nil {
			return store.ObjectInfo{}, nil, fmt.Errorf("fsstore: sidecar: %w", err)
		}
		if len(raw) > maxBlob {
			raw = nil
		}
		fromSidecar = true
	}
	var b blob
	if raw != nil {
		if full {
			b, err = decodeBlob(raw)
		} else {
			b.store, err = decodeStoreInfo(raw)
		}
		if err != nil && full {
			return store.ObjectInfo{}, nil, fmt.Errorf("%w (%s/%s)", err, bucket, key)
		}
		if fromSidecar && (b.store == nil || b.store.Ino != inode(fi)) {
			b = blob{} // the sidecar of an earlier version
		}
	}
	info.ContentType, info.Metadata = b.contentType, b.metadata
	if st := b.store; st != nil && st.ETag != "" && st.Size == fi.Size() && st.MtimeNs == fi.ModTime().UnixNano() {
		info.ETag = st.ETag
	} else {
		info.ETag = fmt.Sprintf("w-%x-%x-%x", inode(fi), fi.Size(), fi.ModTime().UnixNano())
	}
	var tags map[string]string
	if b.store != nil {
		tags = b.store.Tags
	}
	return info, tags, nil
}

// Get opens a range of an object. The returned reader reads the version
// that was current when Get was called, even if the key is overwritten or
// deleted meanwhile.
func (s *Store) Get(ctx context.Context, bucket, key string, offset, length int64) (io.ReadCloser, store.ObjectInfo, error) {
	f, info, err := s.open(ctx, bucket, key)
	if err != nil {
		return nil, store.ObjectInfo{}, err
	}
	n, err := store.CheckRange(offset, length, info.Size)
	if err != nil {
		f.Close()
		return nil, store.ObjectInfo{}, err
	}
	return &fileReader{ctx: ctx, f: f, r: io.NewSectionReader(f, offset, n)}, info, nil
}

type fileReader struct {
	ctx context.Context
	f   *os.File
	r   io.Reader
}

func (r *fileReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

func (r *fileReader) Close() error { return r.f.Close() }

// Stat describes an object.
// Tags returns the object's tags (kept in its metadata blob).
func (s *Store) Tags(ctx context.Context, bucket, key string) (map[string]string, error) {
	f, _, tags, err := s.openTags(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	f.Close()
	return maps.Clone(tags), nil
}

func (s *Store) Stat(ctx context.Context, bucket, key string) (store.ObjectInfo, error) {
	f, info, err := s.open(ctx, bucket, key)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	f.Close()
	return info, nil
}

// Delete removes an object and its sidecar, then the directories that
// became empty.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.bucketDir(bucket); err != nil {
		return err
	}
	return s.delete(bucket, key)
}

func (s *Store) delete(bucket, key string) error {
	if s.sidecar {
		lk, err := s.lockStripe(bucket, key, lockEx)
		if err != nil {
			return err
		}
		defer lk.Close()
	}
	p := objPath(bucket, key)
	fi, err := s.root.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fmt.Errorf("fsstore: %w", err)
	}
	if fi.IsDir() {
		return nil // the parent of other keys, not an object
	}
	if err := s.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsstore: %w", err)
	}
	if s.sidecar || s.opts.mode == MetadataAuto {
		sc := sidecarPath(bucket, key)
		if err := s.root.Remove(sc); err == nil {
			s.prune(bucket+"/"+metaDir, path.Dir(sc))
		}
	}
	s.prune(bucket, path.Dir(p))
	if err := s.syncDir(path.Dir(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsstore: %w", err)
	}
	return nil
}

// prune removes dir and its ancestors below stop while they are empty.
func (s *Store) prune(stop, dir string) {
	for dir != stop && strings.HasPrefix(dir, stop+"/") {
		if s.root.Remove(dir) != nil {
			return
		}
		dir = path.Dir(dir)
	}
}

// DeleteMany deletes each key; it validates all keys first and deletes
// the valid ones even if some are invalid.
func (s *Store) DeleteMany(ctx context.Context, bucket string, keys []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.bucketDir(bucket); err != nil {
		return err
	}
	var first error
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := checkKey(k)
		if err == nil {
			err = s.delete(bucket, k)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Copy copies an object by streaming it into a new object (local file
// systems have no server side; the copy is atomic like any Put).
func (s *Store) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts store.CopyOptions) (store.ObjectInfo, error) {
	if err := checkKey(srcKey); err != nil {
		return store.ObjectInfo{}, err
	}
	if err := checkKey(dstKey); err != nil {
		return store.ObjectInfo{}, err
	}
	return store.CopyViaGetPut(ctx, s, srcBucket, srcKey, dstBucket, dstKey, opts)
}
