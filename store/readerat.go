package store

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
)

// ReaderAtOption configures NewReaderAt.
type ReaderAtOption func(*readerAtOptions) error

type readerAtOptions struct {
	blockSize int
	blocks    int
	readAhead int
	info      *ObjectInfo
}

// KnownInfo gives NewReaderAt the object's description (from an earlier
// Stat, Get or Put), which saves it a Stat. Its Size and ETag must be the
// object's; a wrong ETag makes every read fail with ErrObjectChanged.
func KnownInfo(info ObjectInfo) ReaderAtOption {
	return func(o *readerAtOptions) error {
		if info.Size < 0 {
			return fmt.Errorf("store: KnownInfo with negative size %d", info.Size)
		}
		info = info.clone()
		o.info = &info
		return nil
	}
}

// Defaults of NewReaderAt: 16 blocks of 1 MiB (at most 16 MiB cached),
// reading 4 blocks at a time when access is sequential.
const (
	DefaultBlockSize   = 1 << 20
	DefaultCacheBlocks = 16
	DefaultReadAhead   = 4
)

// BlockSize sets the size of the cache blocks, which is also the smallest
// range fetched (4 KiB to 64 MiB).
func BlockSize(n int) ReaderAtOption {
	return func(o *readerAtOptions) error {
		if n < 4<<10 || n > 64<<20 {
			return fmt.Errorf("store: block size %d out of range [4 KiB, 64 MiB]", n)
		}
		o.blockSize = n
		return nil
	}
}

// CacheBlocks sets how many blocks the cache holds at most (at least 1).
// Memory use is bounded by CacheBlocks × BlockSize plus the blocks being
// fetched.
func CacheBlocks(n int) ReaderAtOption {
	return func(o *readerAtOptions) error {
		if n < 1 || n > 1<<16 {
			return fmt.Errorf("store: cache of %d blocks out of range [1, 65536]", n)
		}
		o.blocks = n
		return nil
	}
}

// ReadAhead sets how many blocks one ranged Get fetches when reads are
// sequential (1 disables read-ahead). It is capped at half the cache.
func ReadAhead(n int) ReaderAtOption {
	return func(o *readerAtOptions) error {
		if n < 1 || n > 1024 {
			return fmt.Errorf("store: read-ahead of %d blocks out of range [1, 1024]", n)
		}
		o.readAhead = n
		return nil
	}
}

// ReaderAt is an io.ReaderAt over one stored object, reading it with
// ranged Gets through an LRU cache of fixed-size blocks, so that a codec
// can use an object in the store as its source without downloading it
// first. It is safe for concurrent use; concurrent reads of one block
// share one fetch. If the object is replaced while it is being read, reads
// that need the store fail with an error wrapping ErrObjectChanged (by
// ETag), so a ReaderAt never mixes two versions.
type ReaderAt struct {
	ctx    context.Context
	s      Store
	bucket string
	key    string
	info   ObjectInfo
	opts   readerAtOptions

	mu     sync.Mutex
	blocks map[int64]*block
	lru    list.List // of *block, most recent at the front
	next   int64     // block after the last one read: sequential detection
	closed bool
}

type block struct {
	idx  int64
	data []byte
	err  error
	done chan struct{}
	elem *list.Element
}

// NewReaderAt returns a ReaderAt over bucket/key. It Stats the object
// once (unless given KnownInfo); ctx is used for every later Get
// (cancelling it makes reads fail).
func NewReaderAt(ctx context.Context, s Store, bucket, key string, opts ...ReaderAtOption) (*ReaderAt, error) {
	o := readerAtOptions{blockSize: DefaultBlockSize, blocks: DefaultCacheBlocks, readAhead: DefaultReadAhead}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	o.readAhead = max(1, min(o.readAhead, o.blocks/2))
	var info ObjectInfo
	if o.info != nil {
		info = *o.info
	} else {
		var err error
		if info, err = s.Stat(ctx, bucket, key); err != nil {
			return nil, err
		}
	}
	return &ReaderAt{ctx: ctx, s: s, bucket: bucket, key: key, info: info, opts: o, blocks: map[int64]*block{}}, nil
}

// Size returns the object's size.
func (r *ReaderAt) Size() int64 { return r.info.Size }

// Info returns the object's description as of NewReaderAt.
func (r *ReaderAt) Info() ObjectInfo { return r.info.clone() }

// Close drops the cache. Later reads fail with fs.ErrClosed.
func (r *ReaderAt) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.blocks = map[int64]*block{}
	r.lru.Init()
	return nil
}

// ReadAt implements io.ReaderAt.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("store: ReadAt: negative offset %d", off)
	}
	size := r.info.Size
	if off >= size {
		if len(p) == 0 && off == size {
			return 0, nil
		}
		return 0, io.EOF
	}
	bs := int64(r.opts.blockSize)
	n := 0
	for n < len(p) && off < size {
		idx := off / bs
		b, err := r.block(idx)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], b.data[off-idx*bs:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// block returns block idx, fetching it (and, for sequential access, the
// blocks after it) if it is not cached.
func (r *ReaderAt) block(idx int64) (*block, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, fmt.Errorf("store: ReaderAt %s/%s: %w", r.bucket, r.key, fs.ErrClosed)
	}
	if b := r.blocks[idx]; b != nil {
		r.lru.MoveToFront(b.elem)
		r.next = idx + 1
		r.mu.Unlock()
		<-b.done
		if b.err != nil {
			return nil, b.err
		}
		return b, nil
	}
	// A miss: fetch idx and, if the reader is going forward, more.
	count := int64(1)
	if idx == r.next {
		count = int64(r.opts.readAhead)
	}
	last := (r.info.Size - 1) / int64(r.opts.blockSize)
	var fetch []*block
	for i := idx; i < idx+count && i <= last; i++ {
		if r.blocks[i] != nil {
			break
		}
		b := &block{idx: i, done: make(chan struct{})}
		b.elem = r.lru.PushFront(b)
		r.blocks[i] = b
		fetch = append(fetch, b)
	}
	// The requested block goes in front of its read-ahead companions.
	r.lru.MoveToFront(fetch[0].elem)
	for r.lru.Len() > r.opts.blocks {
		old := r.lru.Remove(r.lru.Back()).(*block)
		delete(r.blocks, old.idx)
	}
	r.next = idx + 1
	r.mu.Unlock()

	err := r.fetch(fetch)
	for _, b := range fetch {
		if err != nil {
			b.err = err
			r.mu.Lock()
			if r.blocks[b.idx] == b { // let a later read try again
				delete(r.blocks, b.idx)
				r.lru.Remove(b.elem)
			}
			r.mu.Unlock()
		}
		close(b.done)
	}
	if err != nil {
		return nil, err
	}
	return fetch[0], nil
}

// fetch reads consecutive blocks with one ranged Get.
func (r *ReaderAt) fetch(bs []*block) error {
	bsz := int64(r.opts.blockSize)
	start := bs[0].idx * bsz
	end := min((bs[len(bs)-1].idx+1)*bsz, r.info.Size)
	rc, info, err := r.s.Get(r.ctx, r.bucket, r.key, start, end-start)
	if err != nil {
		if errors.Is(err, ErrNotExist) || errors.Is(err, ErrInvalidRange) {
			return fmt.Errorf("%w: %s/%s: %w", ErrObjectChanged, r.bucket, r.key, err)
		}
		return err
	}
	defer rc.Close()
	if info.ETag != r.info.ETag || info.Size != r.info.Size {
		return fmt.Errorf("%w: %s/%s: ETag %q, was %q", ErrObjectChanged, r.bucket, r.key, info.ETag, r.info.ETag)
	}
	for _, b := range bs {
		n := min(bsz, r.info.Size-b.idx*bsz)
		b.data = make([]byte, n)
		if _, err := io.ReadFull(rc, b.data); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("store: reading %s/%s: %w", r.bucket, r.key, err)
		}
	}
	return nil
}
