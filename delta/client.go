package delta

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/deltaglider-go/deltaglider/store"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// Client is a delta object store over a store.Store. It is safe for
// concurrent use, also by several processes sharing one bucket.
type Client struct {
	s     store.Store
	o     options
	cache *Cache
	now   func() time.Time

	bsdiffSem chan struct{} // one bsdiff encode at a time (memory)
	sources   *sourceCache  // indexed references (nil: WithSourceMemory(0))
}

// New returns a Client storing into s.
func New(s store.Store, opts ...Option) (*Client, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidOption)
	}
	o, err := defaultOptions()
	if err != nil {
		return nil, err
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c := &Client{s: s, o: o, cache: o.cache, now: time.Now, bsdiffSem: make(chan struct{}, 1)}
	if o.sourceMemory > 0 {
		c.sources = newSourceCache(o.sourceMemory)
	}
	if c.cache == nil && !o.noCache {
		max, err := DefaultCacheMaxBytes()
		if err != nil {
			return nil, err
		}
		if c.cache, err = NewCache(DefaultCacheDir(), max); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ReleaseSources drops the references the client keeps read and indexed
// between puts (see WithSourceMemory), returning their memory to the
// garbage collector now rather than after they have been idle for 30 s.
// The client stays usable: later puts read and index their references
// again.
func (c *Client) ReleaseSources() {
	if c.sources != nil {
		c.sources.clear()
	}
}

// Store returns the underlying store.
func (c *Client) Store() store.Store { return c.s }

// StoredAs says how an object is kept.
type StoredAs int

const (
	// Plain: an object without DeltaGlider metadata, served as it is.
	Plain StoredAs = iota
	// Direct: stored whole under its own key, with DeltaGlider metadata.
	Direct
	// Delta: stored as key.delta against the deltaspace's reference.
	Delta
)

func (s StoredAs) String() string {
	switch s {
	case Direct:
		return "direct"
	case Delta:
		return "delta"
	}
	return "plain"
}

// Info describes one logical object (like the Python SDK's
// DeltaGliderInfo).
type Info struct {
	Bucket string
	Key    string // logical key
	// StoredKey is the object actually stored: Key or Key+".delta".
	StoredKey string
	StoredAs  StoredAs
	// Size is the original size; StoredSize what the store holds for it
	// (the delta, for deltas; the reference is not counted).
	Size       int64
	StoredSize int64
	SHA256     string // of the original; "" for plain objects
	// MD5 is the hex MD5 of the original when recorded (dg-md5, which
	// this package and the proxy write; the Python tool does not).
	MD5 string
	// ContentType and Metadata are the caller's, DeltaGlider fields removed.
	ContentType string
	Metadata    map[string]string
	// Tags are the object's tags as set by Put or Copy. Stat, Get and
	// List leave them nil (S3 returns tags only from a request of their
	// own): use Client.Tags.
	Tags    map[string]string
	ModTime time.Time
	ETag    string // of the stored object
	// RefKey and RefSHA256 name the reference of a delta.
	RefKey    string
	RefSHA256 string
	Codec     string
	// CreatedReference is set by Put when this object seeded its
	// deltaspace's reference.
	CreatedReference bool
	// Reason says why Put stored the object directly: "not-eligible",
	// "small", "no-delta" or "ratio" (the delta exceeded MaxRatio).
	Reason string
}

// Ratio is StoredSize / Size (0 for empty objects).
func (i Info) Ratio() float64 {
	if i.Size <= 0 {
		return 0
	}
	return float64(i.StoredSize) / float64(i.Size)
}

// Progress reports how far an operation is. Done and Total count bytes for
// Put, Get and Verify and objects for List, Stats and the recursive
// operations; Total is -1 when unknown.
type Progress struct {
	Op    string // "put", "get", "verify", "list", "stats", "delete", "copy", "purge"
	Key   string
	Done  int64
	Total int64
}

// ProgressFunc receives progress reports. It is called from the goroutine
// doing the work and must be quick.
type ProgressFunc func(Progress)

// PutOptions controls Put.
type PutOptions struct {
	// Size is the body's length, or store.SizeUnknown (0, the zero value,
	// is also taken as unknown; an empty body is stored either way). A body
	// of another length is an error and nothing is stored.
	Size        int64
	ContentType string
	// Metadata is user metadata; keys must not use DeltaGlider names.
	Metadata map[string]string
	// NoDelta stores the object directly, whatever its type.
	NoDelta bool
	// MaxRatio overrides the client's ratio guard when > 0.
	MaxRatio float64
	// Tags are S3 object tags (see store.NormalizeTags for the rules),
	// set on the object stored for the key: its delta or the object
	// itself, never the deltaspace's reference (which other keys share).
	// Client.Tags reads them back.
	Tags     map[string]string
	Progress ProgressFunc
}

// source is a target materialised for random access with its digests.
type source struct {
	r      io.ReaderAt
	size   int64
	sha256 string
	md5    string
	head   []byte
	clean  func()
}

func (c *Client) tempDir() string {
	if c.o.tempDir != "" {
		return c.o.tempDir
	}
	return os.TempDir()
}

// materialize makes r readable at random with a known size and SHA-256:
// a regular *os.File is hashed in place; anything else is spooled to an
// unlinked temporary file (never to memory).
func (c *Client) materialize(ctx context.Context, r io.Reader, size int64, prog func(int64)) (*source, error) {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil {
				n := fi.Size() - off
				if size >= 0 && size != n {
					return nil, fmt.Errorf("delta: body is %d bytes, expected %d", n, size)
				}
				sec := io.NewSectionReader(f, off, n)
				h, m := sha256.New(), md5.New()
				if _, err := io.Copy(io.MultiWriter(h, m), ctxReader{ctx, progressReader{sec, prog, 0}.reader()}); err != nil {
					return nil, err
				}
				head := make([]byte, min(n, SniffLen))
				if _, err := sec.ReadAt(head, 0); err != nil && err != io.EOF {
					return nil, err
				}
				return &source{r: sec, size: n, sha256: hex.EncodeToString(h.Sum(nil)), md5: hex.EncodeToString(m.Sum(nil)),
					head: head, clean: func() {}}, nil
			}
		}
	}
	tmp, err := os.CreateTemp(c.tempDir(), "deltaglider-put-*")
	if err != nil {
		return nil, err
	}
	os.Remove(tmp.Name()) // unlinked: nothing is left behind, even on a crash
	h, m := sha256.New(), md5.New()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h, m), 1<<20)
	n, err := io.Copy(bw, ctxReader{ctx, progressReader{r, prog, 0}.reader()})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("delta: body is %d bytes, expected %d", n, size)
	}
	if err != nil {
		tmp.Close()
		return nil, err
	}
	head := make([]byte, min(n, SniffLen))
	if _, err := tmp.ReadAt(head, 0); err != nil && err != io.EOF {
		tmp.Close()
		return nil, err
	}
	return &source{r: tmp, size: n, sha256: hex.EncodeToString(h.Sum(nil)), md5: hex.EncodeToString(m.Sum(nil)),
		head: head, clean: func() { tmp.Close() }}, nil
}

func (s *source) reader() io.Reader { return io.NewSectionReader(s.r, 0, s.size) }

// maxPutAttempts bounds retries when the reference changes under a writer.
const maxPutAttempts = 4

// Put stores the object read from r under bucket/key: as a delta against
// the deltaspace's reference when the object is delta-eligible and the delta
// is small enough, directly otherwise. It replaces any previous object under
// the logical key, whichever way that was stored.
func (c *Client) Put(ctx context.Context, bucket, key string, r io.Reader, opts PutOptions) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	if err := checkUserMeta(opts.Metadata); err != nil {
		return Info{}, err
	}
	tags, err := store.NormalizeTags(opts.Tags)
	if err != nil {
		return Info{}, fmt.Errorf("delta: Put %s: %w", key, err)
	}
	opts.Tags = tags
	size := opts.Size
	if size == 0 && r != nil {
		size = store.SizeUnknown // treat the zero value as "unknown", not "empty"
	}
	if r == nil {
		return Info{}, fmt.Errorf("delta: Put %s: nil body", key)
	}
	prog := func(n int64) {
		if opts.Progress != nil {
			opts.Progress(Progress{Op: "put", Key: key, Done: n, Total: size})
		}
	}
	src, err := c.materialize(ctx, r, size, prog)
	if err != nil {
		return Info{}, fmt.Errorf("delta: Put %s: reading body: %w", key, err)
	}
	defer src.clean()

	_, name := deltaspace(key)
	reason := ""
	switch {
	case opts.NoDelta:
		reason = "no-delta"
	case !EligibleByName(name) && !EligibleByContent(src.head):
		reason = "not-eligible"
	case src.size < c.o.minDeltaSize:
		reason = "small"
	}
	maxRatio := c.o.maxRatio
	if opts.MaxRatio > 0 {
		maxRatio = opts.MaxRatio
	}
	var lastErr error
	for attempt := 0; attempt < maxPutAttempts; attempt++ {
		var info Info
		var retry bool
		if reason != "" {
			info, err = c.putDirect(ctx, bucket, key, src, opts, reason)
		} else {
			info, retry, err = c.putDelta(ctx, bucket, key, src, opts, maxRatio)
		}
		if retry {
			lastErr = err
			continue
		}
		if err != nil {
			return info, err
		}
		// Each Put removes the other variant of the key (key or
		// key.delta) after writing its own. Two concurrent Puts of one key
		// that store it differently can each remove the other's object,
		// leaving nothing; so a Put returns only after seeing that the key
		// still resolves, and stores again otherwise. The last removal of
		// all is followed by its writer's check, so when any Put returns
		// success the key holds one of the written objects.
		ok, err := c.visible(ctx, bucket, key, info.StoredKey)
		if err != nil {
			return Info{}, fmt.Errorf("delta: Put %s: checking the stored object: %w", key, err)
		}
		if ok {
			info.Tags = opts.Tags
			return info, nil
		}
		lastErr = errors.New("a concurrent Put of the same key removed this one's object")
	}
	return Info{}, fmt.Errorf("delta: Put %s: gave up after %d attempts: %w", key, maxPutAttempts, lastErr)
}

// visible reports whether the logical key is stored at all: under stored
// (the variant just written), or else under the other variant.
func (c *Client) visible(ctx context.Context, bucket, key, stored string) (bool, error) {
	other := key + DeltaSuffix
	if stored == other {
		other = key
	}
	for _, k := range []string{stored, other} {
		_, err := c.s.Stat(ctx, bucket, k)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotExist) {
			return false, err
		}
	}
	return false, nil
}

func (c *Client) baseMeta(name string, src *source) meta {
	return meta{Tool: c.o.tool, OriginalName: name, FileSHA256: src.sha256, FileSize: src.size,
		CreatedAt: timestamp(c.now()), DeltaSize: -1, MD5: src.md5}
}

func (c *Client) putDirect(ctx context.Context, bucket, key string, src *source, opts PutOptions, reason string) (Info, error) {
	_, name := deltaspace(key)
	m := c.baseMeta(name, src)
	m.Compression, m.Note = "none", notePassthru // Python reads the first, the proxy the second
	oi, err := c.s.Put(ctx, bucket, key, src.reader(), store.PutOptions{
		Size: src.size, Metadata: m.encode(opts.Metadata), ContentType: opts.ContentType, Tags: opts.Tags})
	if err != nil {
		return Info{}, fmt.Errorf("delta: Put %s: %w", key, err)
	}
	// The logical key is now the direct object: drop a delta variant.
	if err := c.s.Delete(ctx, bucket, key+DeltaSuffix); err != nil {
		return Info{}, fmt.Errorf("delta: Put %s: removing the old delta: %w", key, err)
	}
	return Info{Bucket: bucket, Key: key, StoredKey: key, StoredAs: Direct, Size: src.size,
		StoredSize: oi.Size, SHA256: src.sha256, MD5: src.md5, ContentType: opts.ContentType, Metadata: opts.Metadata,
		ModTime: oi.ModTime, ETag: oi.ETag, Reason: reason}, nil
}

// errTooBig aborts an encode whose output passed the ratio limit.
var errTooBig = errors.New("delta larger than the ratio limit")

type limitWriter struct {
	w        io.Writer
	n        int64
	limit    int64
	exceeded bool
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n+int64(len(p)) > l.limit {
		l.exceeded = true
		return 0, errTooBig
	}
	n, err := l.w.Write(p)
	l.n += int64(n)
	return n, err
}

// putDelta makes one attempt at storing key as a delta. retry reports that
// the reference changed underneath and the attempt should be repeated.
func (c *Client) putDelta(ctx context.Context, bucket, key string, src *source, opts PutOptions, maxRatio float64) (info Info, retry bool, err error) {
	space, name := deltaspace(key)
	rk := join(space, ReferenceName)
	seeded := false
	var ref *refFile
	refInfo, err := c.s.Stat(ctx, bucket, rk)
	switch {
	case errors.Is(err, store.ErrNotExist):
		// Seed the deltaspace. The conditional create makes exactly one
		// racing writer the seeder; the others use its reference.
		// Python writes source-name only; the proxy also needs
		// original-name and file-size (and md5) to read a reference.
		m := c.baseMeta(name, src)
		m.SourceName, m.Note = name, noteReference
		refInfo, err = c.s.Put(ctx, bucket, rk, src.reader(), store.PutOptions{
			Size: src.size, Metadata: m.encode(nil), IfNotExists: true})
		switch {
		case err == nil:
			seeded = true
			if c.cache != nil {
				c.cache.insert(cacheID(bucket, rk, refInfo.ETag, refInfo.Size), src.r, src.size)
			}
			ref = &refFile{File: nil, Size: src.size, SHA256: src.sha256}
		case errors.Is(err, store.ErrExist):
			return Info{}, true, err
		default:
			return Info{}, false, fmt.Errorf("delta: Put %s: creating %s: %w", key, rk, err)
		}
	case err != nil:
		// Never treat a failing HEAD as "absent": that would replace the
		// reference every other delta depends on.
		return Info{}, false, fmt.Errorf("delta: Put %s: looking up %s: %w", key, rk, err)
	}
	var refR io.ReaderAt
	if seeded {
		refR = src.r
	} else {
		ref, err = c.openRef(ctx, bucket, rk, refInfo, "")
		if errors.Is(err, store.ErrNotExist) || errors.Is(err, errRefChanged) || errors.Is(err, ErrWrongReference) {
			return Info{}, true, err // purged (and maybe re-seeded) meanwhile
		}
		if err != nil {
			return Info{}, false, fmt.Errorf("delta: Put %s: %w", key, err)
		}
		defer ref.Close()
		refR = ref.File
	}

	// Encode into an unlinked temporary file, aborting as soon as the delta
	// passes the ratio limit.
	tmp, err := os.CreateTemp(c.tempDir(), "deltaglider-delta-*")
	if err != nil {
		return Info{}, false, err
	}
	os.Remove(tmp.Name())
	defer tmp.Close()
	limit := int64(maxRatio * float64(src.size))
	if seeded {
		limit = src.size + 1<<20 // the zero-diff delta is always kept
	}
	codecName := c.o.codec
	switch {
	case codecName == CodecAuto:
		codecName = CodecVCDIFF
		// A freshly seeded reference gives a zero-diff delta, which
		// VCDIFF makes in a fraction of bsdiff's time.
		if !seeded && ref.Size <= autoBsdiffMax && src.size <= autoBsdiffMax &&
			(IsExecutable(name, src.head) || SniffKind(src.head) == "tar" && mostlyExecutables(src.r, src.size)) {
			codecName = CodecBSDIFF
		}
	case codecName == CodecBSDIFF && (ref.Size > bsdiffMaxInput || src.size > bsdiffMaxInput):
		codecName = CodecVCDIFF // bsdiff's encoder works in memory
	}

	cd, err := codecFor(codecName)
	if err != nil {
		return Info{}, false, err
	}
	// LZMA may bring a plain delta above the limit under it, so with
	// secondary compression the plain patch may reach the target's size.
	secondary := codecName == CodecVCDIFF && c.o.secondary != vcdiff.SecondaryNone && src.size > 0
	plainLimit := limit
	if secondary && !seeded {
		plainLimit = src.size
	}
	lw := &limitWriter{w: tmp, limit: plainLimit}
	bw := bufio.NewWriterSize(lw, 1<<20)
	params := encodeParams{level: c.o.level, secondary: c.o.secondary, appHeader: []byte(name + "//" + ReferenceName + "/")}
	if codecName == CodecVCDIFF && c.sources != nil && ref.Size > 0 {
		// The reference read and indexed once for all puts against it.
		sk := fmt.Sprintf("%s\x00%s\x00%s\x00%d", bucket, rk, ref.SHA256, c.o.level)
		params.source, err = c.sources.get(sk, func() (*vcdiff.Source, error) {
			return vcdiff.NewSource(refR, ref.Size, c.o.level)
		})
		if err != nil {
			return Info{}, false, fmt.Errorf("delta: Put %s: reading %s: %w", key, rk, err)
		}
	}
	if codecName == CodecBSDIFF {
		// One bsdiff encode at a time per Client bounds its memory.
		select {
		case c.bsdiffSem <- struct{}{}:
		case <-ctx.Done():
			return Info{}, false, ctx.Err()
		}
	}
	err = cd.encode(bw, refR, ref.Size, ctxReader{ctx, src.reader()}, src.size, params)
	if codecName == CodecBSDIFF {
		<-c.bsdiffSem
	}
	if err == nil {
		err = bw.Flush()
	}
	if errors.Is(err, errTooBig) || lw.exceeded {
		info, err := c.putDirect(ctx, bucket, key, src, opts, "ratio")
		return info, false, err
	}
	if err != nil {
		return Info{}, false, fmt.Errorf("delta: Put %s: encoding: %w", key, err)
	}
	dsize, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return Info{}, false, err
	}
	if secondary {
		if !seeded && dsize > limit && !compressible(tmp, dsize, limit) {
			info, err := c.putDirect(ctx, bucket, key, src, opts, "ratio")
			return info, false, err
		}
		tmp2, err := os.CreateTemp(c.tempDir(), "deltaglider-delta-*")
		if err != nil {
			return Info{}, false, err
		}
		os.Remove(tmp2.Name())
		defer tmp2.Close()
		lw2 := &limitWriter{w: tmp2, limit: limit}
		bw2 := bufio.NewWriterSize(lw2, 1<<20)
		err = recode(bw2, ctxReader{ctx, io.NewSectionReader(tmp, 0, dsize)}, c.o.secondary, c.o.level)
		if err == nil {
			err = bw2.Flush()
		}
		if errors.Is(err, errTooBig) || lw2.exceeded {
			info, err := c.putDirect(ctx, bucket, key, src, opts, "ratio")
			return info, false, err
		}
		if err != nil {
			return Info{}, false, fmt.Errorf("delta: Put %s: secondary compression: %w", key, err)
		}
		tmp, dsize = tmp2, lw2.n
	}
	if !seeded && float64(dsize) > maxRatio*float64(src.size) {
		info, err := c.putDirect(ctx, bucket, key, src, opts, "ratio")
		return info, false, err
	}

	m := c.baseMeta(name, src)
	m.RefKey, m.RefPath, m.RefSHA256 = rk, ReferenceName, ref.SHA256
	m.DeltaSize = dsize
	m.DeltaCmd = fmt.Sprintf("deltaglider-go %s -%d -S %s -s %s %s %s%s", codecName, c.o.level, secondaryName(c.o.secondary), ReferenceName, name, name, DeltaSuffix)
	m.Note = noteDelta // also for the zero-diff delta: see noteReference
	if codecName != CodecVCDIFF {
		m.Codec = codecName
	}
	oi, err := c.s.Put(ctx, bucket, key+DeltaSuffix, io.NewSectionReader(tmp, 0, dsize), store.PutOptions{
		Size: dsize, Metadata: m.encode(opts.Metadata), ContentType: opts.ContentType, Tags: opts.Tags})
	if err != nil {
		return Info{}, false, fmt.Errorf("delta: Put %s: %w", key, err)
	}
	// Re-check the reference now that the delta is visible: if a purge
	// removed (or replaced) it meanwhile, this delta is orphaned and the
	// whole put is redone. A purge that starts later sees the delta.
	after, err := c.s.Stat(ctx, bucket, rk)
	if errors.Is(err, store.ErrNotExist) {
		return Info{}, true, fmt.Errorf("%s removed during put", rk)
	}
	if err != nil {
		return Info{}, false, fmt.Errorf("delta: Put %s: re-checking %s: %w", key, rk, err)
	}
	if after.ETag != refInfo.ETag {
		am, _, _ := parseMeta(after.Metadata)
		if am.FileSHA256 != ref.SHA256 {
			return Info{}, true, fmt.Errorf("%s replaced during put", rk)
		}
	}
	// The logical key is now the delta: drop a direct variant.
	if err := c.s.Delete(ctx, bucket, key); err != nil {
		return Info{}, false, fmt.Errorf("delta: Put %s: removing the old direct object: %w", key, err)
	}
	return Info{Bucket: bucket, Key: key, StoredKey: key + DeltaSuffix, StoredAs: Delta, Size: src.size,
		StoredSize: dsize, SHA256: src.sha256, MD5: src.md5, ContentType: opts.ContentType, Metadata: opts.Metadata,
		ModTime: oi.ModTime, ETag: oi.ETag, RefKey: rk, RefSHA256: ref.SHA256, Codec: codecName,
		CreatedReference: seeded}, false, nil
}

// openRef returns a verified local copy of the reference at bucket/rk,
// through the cache when there is one. want, when set, is the SHA-256 the
// caller expects (a delta's dg-ref-sha256): a cached copy that matches
// neither it nor the reference's recorded checksum is not trusted, but
// dropped and fetched again from the store.
func (c *Client) openRef(ctx context.Context, bucket, rk string, oi store.ObjectInfo, want string) (*refFile, error) {
	fetch := func(w io.Writer) error {
		body, _, err := c.s.Get(ctx, bucket, rk, 0, -1)
		if err != nil {
			return err
		}
		defer body.Close()
		_, err = io.Copy(w, ctxReader{ctx, body})
		return err
	}
	recorded := ""
	if m, _, err := parseMeta(oi.Metadata); err == nil {
		recorded = m.FileSHA256
	}
	var (
		rf  *refFile
		err error
	)
	if c.cache != nil {
		id := cacheID(bucket, rk, oi.ETag, oi.Size)
		if hit, ok := c.cache.open(id, oi.Size); ok {
			if (recorded == "" || hit.SHA256 == recorded) && (want == "" || hit.SHA256 == want) {
				rf = hit
			} else {
				hit.Close()
				c.cache.drop(id)
			}
		}
		if rf == nil {
			rf, err = c.cache.fill(id, oi.Size, fetch)
		}
	} else {
		rf, err = fillTemp(c.tempDir(), oi.Size, fetch)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching reference %s: %w", rk, err)
	}
	// The reference's own recorded checksum, when it has one, must match.
	if recorded != "" && recorded != rf.SHA256 {
		rf.Close()
		return nil, fmt.Errorf("%w: %s is corrupt: its content has SHA-256 %s but its metadata records %s",
			ErrWrongReference, rk, rf.SHA256, recorded)
	}
	return rf, nil
}

// fillTemp downloads into an unlinked temporary file.
func fillTemp(dir string, size int64, fetch func(io.Writer) error) (*refFile, error) {
	tmp, err := os.CreateTemp(dir, "deltaglider-ref-*")
	if err != nil {
		return nil, err
	}
	os.Remove(tmp.Name())
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
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
		return nil, err
	}
	return &refFile{File: tmp, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// progressReader reports the running byte count.
type progressReader struct {
	r    io.Reader
	fn   func(int64)
	done int64
}

func (p progressReader) reader() io.Reader {
	if p.fn == nil {
		return p.r
	}
	return &p
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if n > 0 {
		p.fn(p.done)
	}
	return n, err
}
