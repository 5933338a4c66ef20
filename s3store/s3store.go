package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/deltaglider-go/deltaglider/store"
)

// API is the part of *s3.Client that Store uses.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)

	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	UploadPartCopy(context.Context, *s3.UploadPartCopyInput, ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListParts(context.Context, *s3.ListPartsInput, ...func(*s3.Options)) (*s3.ListPartsOutput, error)

	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	DeleteBucket(context.Context, *s3.DeleteBucketInput, ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
	ListBuckets(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

var _ API = (*s3.Client)(nil)

// Limits of S3 multipart uploads.
const (
	MinPartSize = 5 << 20
	MaxPartSize = 5 << 30
	maxParts    = 10000
	// deleteBatch is the most keys one DeleteObjects request may name.
	deleteBatch = 1000
)

// Copy limits (variables so that tests can lower them).
var (
	// maxCopySize is the largest object CopyObject can copy in one request.
	maxCopySize int64 = 5 << 30
	// copyPartSize is the part size of multipart copies.
	copyPartSize int64 = 512 << 20
)

// Default tuning: memory used by one Put is at most (Concurrency+1) x
// PartSize, i.e. 40 MiB.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 4
)

type options struct {
	partSize    int64
	concurrency int
	location    string
	abortWait   time.Duration
}

// Option configures a Store.
type Option func(*options) error

// WithPartSize sets the multipart part size (and the largest body sent
// with a single PutObject), between MinPartSize and MaxPartSize.
// A known-size body too large for 10000 parts uses bigger parts.
func WithPartSize(n int64) Option {
	return func(o *options) error {
		if n < MinPartSize || n > MaxPartSize {
			return fmt.Errorf("s3store: part size %d outside [%d, %d]", n, int64(MinPartSize), int64(MaxPartSize))
		}
		o.partSize = n
		return nil
	}
}

// WithConcurrency sets how many parts of one Put (or ranges of one
// Download) are transferred at once, between 1 and 64.
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("s3store: concurrency %d outside [1, 64]", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithLocationConstraint sets the LocationConstraint sent by CreateBucket
// (the region new buckets are created in). Empty, the default, sends
// none, which AWS reads as us-east-1.
func WithLocationConstraint(region string) Option {
	return func(o *options) error {
		o.location = region
		return nil
	}
}

// Store is a store.Store on an S3-compatible service. It is safe for
// concurrent use.
type Store struct {
	api   API
	opt   options
	parts sync.Pool // *[]byte of opt.partSize bytes, reused across Puts
}

var _ store.Store = (*Store)(nil)

// New returns a Store that sends its requests through api (normally an
// *s3.Client).
func New(api API, opts ...Option) (*Store, error) {
	if api == nil {
		return nil, errors.New("s3store: nil API client")
	}
	s := &Store{api: api, opt: options{
		partSize:    DefaultPartSize,
		concurrency: DefaultConcurrency,
		abortWait:   30 * time.Second,
	}}
	for _, o := range opts {
		if err := o(&s.opt); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// rangeOpts turns off response checksum validation: a stored checksum
// covers the whole object and cannot validate a range.
func rangeOpts(o *s3.Options) {
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}

// trimETag removes the quotes S3 puts around ETags.
func trimETag(p *string) string { return strings.Trim(aws.ToString(p), `"`) }

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, bucket, key string, offset, length int64) (io.ReadCloser, store.ObjectInfo, error) {
	if err := checkBucketKey(bucket, key); err != nil {
		return nil, store.ObjectInfo{}, opError("Get", bucket, key, err)
	}
	if offset < 0 {
		return nil, store.ObjectInfo{}, opError("Get", bucket, key,
			fmt.Errorf("%w: negative offset %d", store.ErrInvalidRange, offset))
	}
	if length == 0 {
		return s.emptyRange(ctx, bucket, key, offset)
	}
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	var optFns []func(*s3.Options)
	if offset > 0 || length > 0 {
		r := "bytes=" + strconv.FormatInt(offset, 10) + "-"
		if length > 0 && offset <= (1<<62)-length {
			r += strconv.FormatInt(offset+length-1, 10)
		}
		in.Range = &r
		optFns = append(optFns, rangeOpts)
	}
	out, err := s.api.GetObject(ctx, in, optFns...)
	if err != nil {
		err = mapError("Get", bucket, key, err)
		if errors.Is(err, store.ErrInvalidRange) {
			// S3 refuses every range of an empty object and a range
			// starting exactly at the end; the contract wants an empty
			// body there.
			return s.emptyRange(ctx, bucket, key, offset)
		}
		return nil, store.ObjectInfo{}, err
	}
	info := store.ObjectInfo{
		Bucket:      bucket,
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ModTime:     aws.ToTime(out.LastModified),
		ETag:        trimETag(out.ETag),
		ContentType: aws.ToString(out.ContentType),
		Metadata:    decodeMetadata(out.Metadata),
	}
	if in.Range != nil && out.ContentRange == nil && offset == 0 {
		// The server ignored the range and sent the whole object.
		return limitBody(out.Body, length), info, nil
	}
	if in.Range != nil {
		total, ok := contentRangeTotal(aws.ToString(out.ContentRange))
		if !ok {
			out.Body.Close()
			return nil, store.ObjectInfo{}, opError("Get", bucket, key,
				fmt.Errorf("server sent no usable Content-Range (%q) for range %s", aws.ToString(out.ContentRange), *in.Range))
		}
		info.Size = total
	}
	return out.Body, info, nil
}

// limitBody returns rc cut after n bytes (n < 0: not cut).
func limitBody(rc io.ReadCloser, n int64) io.ReadCloser {
	if n < 0 {
		return rc
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(rc, n), rc}
}

// emptyRange serves a read of zero bytes at offset: an empty body when
// offset <= size, ErrInvalidRange beyond the end.
func (s *Store) emptyRange(ctx context.Context, bucket, key string, offset int64) (io.ReadCloser, store.ObjectInfo, error) {
	info, err := s.stat(ctx, "Get", bucket, key)
	if err != nil {
		return nil, store.ObjectInfo{}, err
	}
	if offset > info.Size {
		return nil, store.ObjectInfo{}, opError("Get", bucket, key,
			fmt.Errorf("%w: offset %d beyond size %d", store.ErrInvalidRange, offset, info.Size))
	}
	return io.NopCloser(bytes.NewReader(nil)), info, nil
}

// contentRangeTotal parses the complete length out of "bytes a-b/total".
func contentRangeTotal(cr string) (int64, bool) {
	i := strings.LastIndexByte(cr, '/')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(cr[i+1:], 10, 64)
	return n, err == nil && n >= 0
}

// Tags implements store.Store with GetObjectTagging (one request; Stat
// does not make it).
func (s *Store) Tags(ctx context.Context, bucket, key string) (map[string]string, error) {
	if err := checkBucketKey(bucket, key); err != nil {
		return nil, opError("Tags", bucket, key, err)
	}
	out, err := s.api.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, s.notFound(ctx, "Tags", bucket, key, mapError("Tags", bucket, key, err))
	}
	if len(out.TagSet) == 0 {
		return nil, nil
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// encodeTags renders tags as the x-amz-tagging header wants them: URL
// query form, keys sorted (nil for no tags).
func encodeTags(tags map[string]string) *string {
	if len(tags) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(tags))
	var b strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(esc(k))
		b.WriteByte('=')
		b.WriteString(esc(tags[k]))
	}
	return aws.String(b.String())
}

// Stat implements store.Store.
func (s *Store) Stat(ctx context.Context, bucket, key string) (store.ObjectInfo, error) {
	if err := checkBucketKey(bucket, key); err != nil {
		return store.ObjectInfo{}, opError("Stat", bucket, key, err)
	}
	return s.stat(ctx, "Stat", bucket, key)
}

func (s *Store) stat(ctx context.Context, op, bucket, key string) (store.ObjectInfo, error) {
	out, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return store.ObjectInfo{}, s.notFound(ctx, op, bucket, key, mapError(op, bucket, key, err))
	}
	return store.ObjectInfo{
		Bucket:      bucket,
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ModTime:     aws.ToTime(out.LastModified),
		ETag:        trimETag(out.ETag),
		ContentType: aws.ToString(out.ContentType),
		Metadata:    decodeMetadata(out.Metadata),
	}, nil
}

// notFound refines a bare 404 from a HEAD request, which says nothing of
// whether the object or the whole bucket is missing, by asking about the
// bucket. Other errors are returned as they are.
func (s *Store) notFound(ctx context.Context, op, bucket, key string, err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Kind != store.ErrNotExist {
		return err
	}
	if ok, berr := s.BucketExists(ctx, bucket); berr == nil && !ok {
		e.Kind = store.ErrBucketNotExist
	}
	return err
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if err := checkBucketKey(bucket, key); err != nil {
		return opError("Delete", bucket, key, err)
	}
	_, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
	err = mapError("Delete", bucket, key, err)
	if errors.Is(err, store.ErrNotExist) {
		return nil
	}
	return err
}

// DeleteMany implements store.Store. Keys are deleted in batches of 1000
// with DeleteObjects; invalid keys and per-key failures are reported (the
// first one) after every key has been tried.
func (s *Store) DeleteMany(ctx context.Context, bucket string, keys []string) error {
	if err := checkBucket(bucket); err != nil {
		return opError("DeleteMany", bucket, "", err)
	}
	var first error
	note := func(err error) {
		if first == nil && err != nil && !errors.Is(err, store.ErrNotExist) {
			first = err
		}
	}
	batch := make([]types.ObjectIdentifier, 0, min(len(keys), deleteBatch))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := s.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &bucket,
			Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)},
		})
		batch = batch[:0]
		if err != nil {
			return mapError("DeleteMany", bucket, "", err)
		}
		for _, e := range out.Errors {
			note(mapError("DeleteMany", bucket, aws.ToString(e.Key),
				&smithy.GenericAPIError{Code: aws.ToString(e.Code), Message: aws.ToString(e.Message)}))
		}
		return nil
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			note(opError("DeleteMany", bucket, k, err))
			continue
		}
		batch = append(batch, types.ObjectIdentifier{Key: aws.String(k)})
		if len(batch) == deleteBatch {
			if err := flush(); err != nil {
				return err // the whole request failed: the bucket is gone, ctx done, ...
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return first
}

// copySource formats bucket/key for x-amz-copy-source: every byte but
// unreserved characters and "/" percent-encoded.
func copySource(bucket, key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteString(bucket)
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Copy implements store.Store with CopyObject, or for objects larger than
// 5 GiB with a multipart upload of UploadPartCopy parts.
func (s *Store) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts store.CopyOptions) (store.ObjectInfo, error) {
	if err := checkBucketKey(srcBucket, srcKey); err != nil {
		return store.ObjectInfo{}, opError("Copy", srcBucket, srcKey, err)
	}
	if err := checkBucketKey(dstBucket, dstKey); err != nil {
		return store.ObjectInfo{}, opError("Copy", dstBucket, dstKey, err)
	}
	src, err := s.stat(ctx, "Copy", srcBucket, srcKey)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	// The copy requests below carry x-amz-copy-source-if-match with the
	// ETag just read, so checking it against IfMatch here makes the
	// whole copy conditional on IfMatch.
	if opts.IfMatch != "" && src.ETag != opts.IfMatch {
		return store.ObjectInfo{}, &Error{Op: "Copy", Bucket: srcBucket, Key: srcKey, Kind: store.ErrObjectChanged,
			Err: fmt.Errorf("ETag is %q, not %q", src.ETag, opts.IfMatch)}
	}
	info := src
	info.Bucket, info.Key = dstBucket, dstKey
	if opts.ReplaceMetadata {
		md, err := store.NormalizeMetadata(opts.Metadata)
		if err != nil {
			return store.ObjectInfo{}, opError("Copy", dstBucket, dstKey, err)
		}
		info.Metadata, info.ContentType = md, opts.ContentType
	}
	meta, err := encodeMetadata(info.Metadata)
	if err != nil {
		return store.ObjectInfo{}, opError("Copy", dstBucket, dstKey, err)
	}
	tags, err := store.NormalizeTags(opts.Tags)
	if err != nil {
		return store.ObjectInfo{}, opError("Copy", dstBucket, dstKey, err)
	}
	if srcBucket == dstBucket && srcKey == dstKey && !opts.ReplaceMetadata && !opts.ReplaceTags {
		return info, nil // S3 refuses a copy onto itself that changes nothing
	}
	if src.Size > maxCopySize {
		if !opts.ReplaceTags {
			// UploadPartCopy copies bytes only: carry the tags over.
			if tags, err = s.Tags(ctx, srcBucket, srcKey); err != nil {
				return store.ObjectInfo{}, err
			}
		}
		return s.copyMultipart(ctx, src, info, meta, tags)
	}
	in := &s3.CopyObjectInput{
		Bucket:            &dstBucket,
		Key:               &dstKey,
		CopySource:        aws.String(copySource(srcBucket, srcKey)),
		MetadataDirective: types.MetadataDirectiveCopy,
		TaggingDirective:  types.TaggingDirectiveCopy,
		CopySourceIfMatch: aws.String(`"` + src.ETag + `"`),
	}
	if opts.ReplaceTags {
		in.TaggingDirective = types.TaggingDirectiveReplace
		in.Tagging = encodeTags(tags)
		if in.Tagging == nil {
			in.Tagging = aws.String("")
		}
	}
	if opts.ReplaceMetadata || (srcBucket == dstBucket && srcKey == dstKey) {
		// A copy onto itself must replace the metadata (with the same
		// metadata when only the tags change), or S3 refuses it.
		in.MetadataDirective = types.MetadataDirectiveReplace
		in.Metadata = meta
		if info.ContentType != "" {
			in.ContentType = aws.String(info.ContentType)
		}
	}
	out, err := s.api.CopyObject(ctx, in)
	if err != nil {
		// A failed CopySourceIfMatch (the source changed after Stat) is
		// mapped to ErrObjectChanged.
		return store.ObjectInfo{}, mapError("Copy", dstBucket, dstKey, err)
	}
	if r := out.CopyObjectResult; r != nil {
		info.ETag = trimETag(r.ETag)
		info.ModTime = aws.ToTime(r.LastModified)
	}
	return info, nil
}

// lowerKeys returns md with lower-cased keys (what Stat will return).
func lowerKeys(md map[string]string) map[string]string {
	if len(md) == 0 {
		return nil
	}
	out := make(map[string]string, len(md))
	for k, v := range md {
		out[strings.ToLower(k)] = v
	}
	return out
}

// List implements store.Store with ListObjectsV2, one page (at most 1000
// entries) in memory at a time.
func (s *Store) List(ctx context.Context, bucket string, opts store.ListOptions, fn func(store.Entry) error) error {
	if err := checkBucket(bucket); err != nil {
		return opError("List", bucket, "", err)
	}
	// Keys may hold characters XML 1.0 cannot carry, so ask for URL-encoded
	// keys; decode them only if the server says it encoded them (some
	// servers, versitygw among them, ignore the request and send keys as
	// they are).
	in := &s3.ListObjectsV2Input{Bucket: &bucket, EncodingType: types.EncodingTypeUrl}
	if opts.Prefix != "" {
		in.Prefix = aws.String(opts.Prefix)
	}
	if opts.Delimiter != "" {
		in.Delimiter = aws.String(opts.Delimiter)
	}
	if opts.StartAfter != "" {
		in.StartAfter = aws.String(opts.StartAfter)
	}
	last := opts.StartAfter
	for {
		out, err := s.api.ListObjectsV2(ctx, in)
		if err != nil {
			return mapError("List", bucket, "", err)
		}
		if out.EncodingType == types.EncodingTypeUrl {
			if err := urlDecodeListing(out); err != nil {
				return opError("List", bucket, "", err)
			}
		}
		objs, pfx := out.Contents, out.CommonPrefixes
		// Merge the two sorted lists of the page into key order.
		for len(objs) > 0 || len(pfx) > 0 {
			var e store.Entry
			if len(pfx) == 0 || len(objs) > 0 && aws.ToString(objs[0].Key) < aws.ToString(pfx[0].Prefix) {
				o := objs[0]
				objs = objs[1:]
				e.Bucket, e.Key = bucket, aws.ToString(o.Key)
				e.Size = aws.ToInt64(o.Size)
				e.ModTime = aws.ToTime(o.LastModified)
				e.ETag = trimETag(o.ETag)
			} else {
				e.Bucket, e.Key, e.IsPrefix = bucket, aws.ToString(pfx[0].Prefix), true
				pfx = pfx[1:]
			}
			// S3 may repeat a common prefix on the next page, or report
			// one that sorts before StartAfter: the contract wants each
			// entry once, in strictly ascending order.
			if e.Key <= last {
				continue
			}
			last = e.Key
			if err := fn(e); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		if out.NextContinuationToken == nil || aws.ToString(out.NextContinuationToken) == aws.ToString(in.ContinuationToken) {
			return opError("List", bucket, "", errors.New("truncated listing without a new continuation token"))
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// urlDecodeListing decodes the keys and prefixes of a listing sent with
// encoding-type=url (form encoding: "+" is a space, as AWS sends it).
func urlDecodeListing(out *s3.ListObjectsV2Output) error {
	for i := range out.Contents {
		k, err := url.QueryUnescape(aws.ToString(out.Contents[i].Key))
		if err != nil {
			return fmt.Errorf("undecodable key %q in listing: %w", aws.ToString(out.Contents[i].Key), err)
		}
		out.Contents[i].Key = &k
	}
	for i := range out.CommonPrefixes {
		p, err := url.QueryUnescape(aws.ToString(out.CommonPrefixes[i].Prefix))
		if err != nil {
			return fmt.Errorf("undecodable prefix %q in listing: %w", aws.ToString(out.CommonPrefixes[i].Prefix), err)
		}
		out.CommonPrefixes[i].Prefix = &p
	}
	return nil
}

// CreateBucket implements store.Store.
func (s *Store) CreateBucket(ctx context.Context, bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return opError("CreateBucket", bucket, "", err)
	}
	in := &s3.CreateBucketInput{Bucket: &bucket}
	if s.opt.location != "" && s.opt.location != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.opt.location),
		}
	}
	_, err := s.api.CreateBucket(ctx, in)
	return mapError("CreateBucket", bucket, "", err)
}

// DeleteBucket implements store.Store.
func (s *Store) DeleteBucket(ctx context.Context, bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return opError("DeleteBucket", bucket, "", err)
	}
	_, err := s.api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
	return mapError("DeleteBucket", bucket, "", err)
}

// ListBuckets implements store.Store.
func (s *Store) ListBuckets(ctx context.Context) ([]string, error) {
	var names []string
	in := &s3.ListBucketsInput{}
	for {
		out, err := s.api.ListBuckets(ctx, in)
		if err != nil {
			return nil, mapError("ListBuckets", "", "", err)
		}
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
		if aws.ToString(out.ContinuationToken) == "" || aws.ToString(out.ContinuationToken) == aws.ToString(in.ContinuationToken) {
			break
		}
		in.ContinuationToken = out.ContinuationToken
	}
	slices.Sort(names)
	return names, nil
}

// BucketExists implements store.Store.
func (s *Store) BucketExists(ctx context.Context, bucket string) (bool, error) {
	if err := checkBucket(bucket); err != nil {
		return false, opError("BucketExists", bucket, "", err)
	}
	_, err := s.api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	err = mapError("BucketExists", bucket, "", err)
	if errors.Is(err, store.ErrBucketNotExist) {
		return false, nil
	}
	return err == nil, err
}

// responseDate returns the Date header of the response behind md (the
// server's clock when it stored an object), or the local time.
func responseDate(md middleware.Metadata) time.Time {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && r != nil {
		if t, err := http.ParseTime(r.Header.Get("Date")); err == nil {
			return t
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}
