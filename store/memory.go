package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// NewMemory returns an empty in-memory Store. It honours the whole
// contract (conditional create, ranges, cancellation, listing order) and
// is meant for unit tests; objects are held in memory in full. ETags are
// the hex MD5 of the content, as S3 reports for single-part uploads.
func NewMemory() Store {
	return &memStore{buckets: map[string]*memBucket{}}
}

type memStore struct {
	mu      sync.RWMutex
	buckets map[string]*memBucket
}

type memBucket struct {
	objects map[string]*memObject
}

// memObject is immutable once stored; an overwrite replaces the pointer.
type memObject struct {
	data []byte
	info ObjectInfo
	tags map[string]string
}

func (m *memStore) bucket(name string) (*memBucket, error) {
	if err := ValidateBucket(name); err != nil {
		return nil, err
	}
	b := m.buckets[name]
	if b == nil {
		return nil, fmt.Errorf("%w: %s", ErrBucketNotExist, name)
	}
	return b, nil
}

func notExist(bucket, key string) error {
	return fmt.Errorf("%w: %s/%s", ErrNotExist, bucket, key)
}

// readAll reads r while honouring ctx and the expected size.
func readAll(ctx context.Context, r io.Reader, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(min(size, 64<<20)))
	}
	chunk := make([]byte, 32<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(chunk)
		buf.Write(chunk[:n])
		if size >= 0 && int64(buf.Len()) > size {
			return nil, fmt.Errorf("store: body longer than the declared size %d", size)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("store: reading body: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if size >= 0 && int64(buf.Len()) != size {
		return nil, fmt.Errorf("store: body of %d bytes, declared size %d: %w", buf.Len(), size, io.ErrUnexpectedEOF)
	}
	return buf.Bytes(), nil
}

func (m *memStore) Put(ctx context.Context, bucket, key string, r io.Reader, opts PutOptions) (ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	if err := ValidateBucket(bucket); err != nil {
		return ObjectInfo{}, err
	}
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	md, err := NormalizeMetadata(opts.Metadata)
	if err != nil {
		return ObjectInfo{}, err
	}
	if opts.Size < SizeUnknown {
		return ObjectInfo{}, fmt.Errorf("store: invalid size %d", opts.Size)
	}
	m.mu.RLock()
	_, err = m.bucket(bucket)
	m.mu.RUnlock()
	if err != nil {
		return ObjectInfo{}, err
	}
	tags, err := NormalizeTags(opts.Tags)
	if err != nil {
		return ObjectInfo{}, err
	}
	data, err := readAll(ctx, r, opts.Size)
	if err != nil {
		return ObjectInfo{}, err
	}
	return m.store(bucket, key, data, md, opts.ContentType, tags, opts.IfNotExists)
}

func (m *memStore) store(bucket, key string, data []byte, md map[string]string, ctype string, tags map[string]string, ifNotExists bool) (ObjectInfo, error) {
	sum := md5.Sum(data)
	obj := &memObject{data: data, tags: tags, info: ObjectInfo{
		Bucket:      bucket,
		Key:         key,
		Size:        int64(len(data)),
		ETag:        hex.EncodeToString(sum[:]),
		ContentType: ctype,
		Metadata:    md,
	}}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	if _, ok := b.objects[key]; ok && ifNotExists {
		return ObjectInfo{}, fmt.Errorf("%w: %s/%s", ErrExist, bucket, key)
	}
	obj.info.ModTime = time.Now().UTC()
	b.objects[key] = obj
	return obj.info.clone(), nil
}

func (i ObjectInfo) clone() ObjectInfo {
	if i.Metadata != nil {
		i.Metadata = maps.Clone(i.Metadata)
	}
	return i
}

func (m *memStore) lookup(ctx context.Context, bucket, key string) (*memObject, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ValidateBucket(bucket); err != nil {
		return nil, err
	}
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, err
	}
	obj := b.objects[key]
	if obj == nil {
		return nil, notExist(bucket, key)
	}
	return obj, nil
}

func (m *memStore) Get(ctx context.Context, bucket, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error) {
	obj, err := m.lookup(ctx, bucket, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	n, err := CheckRange(offset, length, obj.info.Size)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	return &ctxReader{ctx: ctx, r: bytes.NewReader(obj.data[offset : offset+n])}, obj.info.clone(), nil
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (c *ctxReader) Close() error { return nil }

func (m *memStore) Stat(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	obj, err := m.lookup(ctx, bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	return obj.info.clone(), nil
}

func (m *memStore) Tags(ctx context.Context, bucket, key string) (map[string]string, error) {
	obj, err := m.lookup(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	return maps.Clone(obj.tags), nil
}

func (m *memStore) Delete(ctx context.Context, bucket, key string) error {
	return m.DeleteMany(ctx, bucket, []string{key})
}

func (m *memStore) DeleteMany(ctx context.Context, bucket string, keys []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	var first error
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		delete(b.objects, k)
	}
	return first
}

func (m *memStore) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error) {
	if err := ValidateBucket(dstBucket); err != nil {
		return ObjectInfo{}, err
	}
	if err := ValidateKey(dstKey); err != nil {
		return ObjectInfo{}, err
	}
	md, err := NormalizeMetadata(opts.Metadata)
	if err != nil {
		return ObjectInfo{}, err
	}
	tags, err := NormalizeTags(opts.Tags)
	if err != nil {
		return ObjectInfo{}, err
	}
	src, err := m.lookup(ctx, srcBucket, srcKey)
	if err != nil {
		return ObjectInfo{}, err
	}
	if opts.IfMatch != "" && src.info.ETag != opts.IfMatch {
		return ObjectInfo{}, fmt.Errorf("%w: %s/%s has ETag %q, not %q", ErrObjectChanged, srcBucket, srcKey, src.info.ETag, opts.IfMatch)
	}
	ctype := opts.ContentType
	if !opts.ReplaceMetadata {
		md, ctype = src.info.Metadata, src.info.ContentType
	}
	if !opts.ReplaceTags {
		tags = src.tags
	}
	// Objects are immutable: the copy shares the bytes (and the tags map,
	// which is never modified).
	return m.store(dstBucket, dstKey, src.data, md, ctype, tags, false)
}

func (m *memStore) List(ctx context.Context, bucket string, opts ListOptions, fn func(Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	b, err := m.bucket(bucket)
	var keys []string
	if err == nil {
		for k := range b.objects {
			if strings.HasPrefix(k, opts.Prefix) {
				keys = append(keys, k)
			}
		}
	}
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	slices.Sort(keys)
	f := NewListFolder(opts, fn)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.Skip(k) {
			continue
		}
		m.mu.RLock()
		obj := b.objects[k]
		m.mu.RUnlock()
		if obj == nil {
			continue // deleted meanwhile
		}
		info := obj.info
		info.Metadata = nil
		if err := f.Add(info); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) CreateBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateBucket(bucket); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets[bucket] != nil {
		return fmt.Errorf("%w: %s", ErrBucketExist, bucket)
	}
	m.buckets[bucket] = &memBucket{objects: map[string]*memObject{}}
	return nil
}

func (m *memStore) DeleteBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	if len(b.objects) > 0 {
		return fmt.Errorf("%w: %s", ErrBucketNotEmpty, bucket)
	}
	delete(m.buckets, bucket)
	return nil
}

func (m *memStore) ListBuckets(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Sorted(maps.Keys(m.buckets)), nil
}

func (m *memStore) BucketExists(ctx context.Context, bucket string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := ValidateBucket(bucket); err != nil {
		return false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.buckets[bucket] != nil, nil
}
