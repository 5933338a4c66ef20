package delta

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zeebo/blake3"
)

// Cache is a local, content-addressed cache of reference files, shared by
// every process that opens the same directory.
//
// Layout under the directory:
//
//	objects/ab/<blake3 hex>   reference contents, named by their BLAKE3
//	index/<blake3 hex of id>  "<content blake3> <sha256> <size>" for one
//	                          stored object version (bucket, key, ETag, size)
//	tmp/                      files being written
//
// Every file appears by rename of a complete temporary file, so no process
// ever sees a partial entry. Every use re-hashes the content with BLAKE3, so
// an entry corrupted on disk is detected, removed and fetched again. Least
// recently used contents (by modification time, touched on every use) are
// evicted when the total exceeds the size cap; a process that still has an
// evicted file open keeps reading it. References larger than the cap are
// not cached.
type Cache struct {
	dir string
	max int64
}

// DefaultCacheSize is the cache size cap when DG_CACHE_SIZE_MB is unset.
const DefaultCacheSize = 2 << 30

// DefaultCacheDir returns $DG_CACHE_DIR, else <os.UserCacheDir>/deltaglider,
// else a directory under os.TempDir.
func DefaultCacheDir() string {
	if d := os.Getenv("DG_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "deltaglider")
	}
	return filepath.Join(os.TempDir(), "deltaglider-cache-"+strconv.Itoa(os.Getuid()))
}

// DefaultCacheMaxBytes returns DG_CACHE_SIZE_MB in bytes, else
// DefaultCacheSize.
func DefaultCacheMaxBytes() (int64, error) {
	v := os.Getenv("DG_CACHE_SIZE_MB")
	if v == "" {
		return DefaultCacheSize, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 1<<43 {
		return 0, fmt.Errorf("%w: DG_CACHE_SIZE_MB=%q", ErrInvalidOption, v)
	}
	return n << 20, nil
}

// NewCache opens (creating it, mode 0700) a cache directory with a size
// cap in bytes.
func NewCache(dir string, maxBytes int64) (*Cache, error) {
	if dir == "" || maxBytes < 0 {
		return nil, fmt.Errorf("%w: cache dir %q, size %d", ErrInvalidOption, dir, maxBytes)
	}
	for _, sub := range []string{"objects", "index", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("delta: cache: %w", err)
		}
	}
	c := &Cache{dir: dir, max: maxBytes}
	c.cleanTmp()
	return c, nil
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// refFile is an open local copy of a reference.
type refFile struct {
	*os.File
	Size    int64
	SHA256  string // hex
	release func()
}

func (r *refFile) Close() error {
	err := r.File.Close()
	if r.release != nil {
		r.release()
	}
	return err
}

func cacheID(bucket, key, etag string, size int64) string {
	h := blake3.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d", bucket, key, etag, size)
	return hex.EncodeToString(h.Sum(nil))
}

func (c *Cache) objPath(sum string) string {
	return filepath.Join(c.dir, "objects", sum[:2], sum)
}

// open returns the cached copy for id, verifying its content, or ok=false.
func (c *Cache) open(id string, size int64) (*refFile, bool) {
	idx, err := os.ReadFile(filepath.Join(c.dir, "index", id))
	if err != nil {
		return nil, false
	}
	f := strings.Fields(string(idx))
	if len(f) != 3 || len(f[0]) != 64 || !isHexSHA256(f[1]) {
		os.Remove(filepath.Join(c.dir, "index", id))
		return nil, false
	}
	sum, sha := f[0], f[1]
	if n, err := strconv.ParseInt(f[2], 10, 64); err != nil || n != size {
		os.Remove(filepath.Join(c.dir, "index", id))
		return nil, false
	}
	p := c.objPath(sum)
	fh, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	h := blake3.New()
	n, err := io.Copy(h, bufio.NewReaderSize(fh, 1<<20))
	if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != sum {
		// Corrupt or truncated entry: drop it; the caller refetches.
		fh.Close()
		os.Remove(p)
		return nil, false
	}
	now := time.Now()
	os.Chtimes(p, now, now) // LRU clock
	return &refFile{File: fh, Size: size, SHA256: sha}, true
}

// drop forgets the entry for id (its content may be shared by other ids
// and is left to eviction).
func (c *Cache) drop(id string) { os.Remove(filepath.Join(c.dir, "index", id)) }

// fill downloads a reference with fetch into the cache (or into an unlinked
// temporary file when it exceeds the cap) and returns it open.
func (c *Cache) fill(id string, size int64, fetch func(w io.Writer) error) (*refFile, error) {
	tmp, err := os.CreateTemp(filepath.Join(c.dir, "tmp"), "ref-*")
	if err != nil {
		return nil, fmt.Errorf("delta: cache: %w", err)
	}
	b3, sh := blake3.New(), sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, b3, sh), 1<<20)
	cw := &countWriter{w: bw}
	err = fetch(cw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && cw.n != size {
		err = fmt.Errorf("%w (got %d bytes, expected %d)", errRefChanged, cw.n, size)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	sum := hex.EncodeToString(b3.Sum(nil))
	sha := hex.EncodeToString(sh.Sum(nil))
	if size > c.max {
		// Too big to keep: unlink now, the open handle stays readable.
		os.Remove(tmp.Name())
		return &refFile{File: tmp, Size: size, SHA256: sha}, nil
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("delta: cache: %w", err)
	}
	p := c.objPath(sum)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
		err = os.Rename(tmp.Name(), p)
		if err == nil {
			c.writeIndex(id, sum, sha, size)
			c.evict(p)
		}
	}
	os.Remove(tmp.Name()) // no-op after a successful rename
	return &refFile{File: tmp, Size: size, SHA256: sha}, nil
}

// insert adds a local file whose content is known (a reference this process
// just uploaded) to the cache under id. Errors are ignored: the cache is an
// optimisation.
func (c *Cache) insert(id string, src io.ReaderAt, size int64) {
	if size > c.max {
		return
	}
	rf, err := c.fill(id, size, func(w io.Writer) error {
		_, err := io.Copy(w, io.NewSectionReader(src, 0, size))
		return err
	})
	if err == nil {
		rf.Close()
	}
}

func (c *Cache) writeIndex(id, sum, sha string, size int64) {
	tmp, err := os.CreateTemp(filepath.Join(c.dir, "tmp"), "idx-*")
	if err != nil {
		return
	}
	fmt.Fprintf(tmp, "%s %s %d\n", sum, sha, size)
	if tmp.Close() != nil || os.Rename(tmp.Name(), filepath.Join(c.dir, "index", id)) != nil {
		os.Remove(tmp.Name())
	}
}

// evict removes least recently used contents until the total fits the cap.
// keep is never removed.
func (c *Cache) evict(keep string) {
	type ent struct {
		path string
		size int64
		mt   time.Time
	}
	var ents []ent
	var total int64
	filepath.WalkDir(filepath.Join(c.dir, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			ents = append(ents, ent{p, fi.Size(), fi.ModTime()})
			total += fi.Size()
		}
		return nil
	})
	if total <= c.max {
		return
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].mt.Before(ents[j].mt) })
	for _, e := range ents {
		if total <= c.max {
			break
		}
		if e.path == keep {
			continue
		}
		os.Remove(e.path) // gone either way: removed here or by another process
		total -= e.size
	}
}

// cleanTmp removes temporary files left by crashed processes (older than a
// day, so that live writers of other processes are not disturbed).
func (c *Cache) cleanTmp() {
	ents, _ := os.ReadDir(filepath.Join(c.dir, "tmp"))
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
			os.Remove(filepath.Join(c.dir, "tmp", e.Name()))
		}
	}
}

// Clear removes every cached entry.
func (c *Cache) Clear() error {
	for _, sub := range []string{"objects", "index"} {
		if err := os.RemoveAll(filepath.Join(c.dir, sub)); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(c.dir, sub), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// errRefChanged: the reference was replaced between its Stat and its
// download (a concurrent purge and re-seed).
var errRefChanged = errors.New("reference changed while downloading")

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newBlake3() *blake3.Hasher { return blake3.New() }
