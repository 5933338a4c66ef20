package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/deltaglider-go/deltaglider/store"
)

// errBodyTooLong and errBodyTooShort report a body that disagrees with a
// known PutOptions.Size.
var (
	errBodyTooLong  = errors.New("body is longer than the declared size")
	errBodyTooShort = fmt.Errorf("body is shorter than the declared size: %w", io.ErrUnexpectedEOF)
)

// chunker cuts a body into parts and knows, when it hands out a part,
// whether it is the last one (it reads one byte ahead), so that no empty
// trailing part is ever uploaded.
type chunker struct {
	r       io.Reader
	peek    [1]byte
	hasPeek bool
	n       int64 // bytes handed out so far
}

// next fills buf as far as the body allows and reports whether the body
// ended with it.
func (c *chunker) next(buf []byte) (n int, last bool, err error) {
	if c.hasPeek && len(buf) > 0 {
		buf[0] = c.peek[0]
		n, c.hasPeek = 1, false
	}
	m, err := io.ReadFull(c.r, buf[n:])
	n += m
	c.n += int64(n)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return n, true, nil
	case err != nil:
		return n, false, err
	case c.hasPeek:
		return n, false, nil // buf was empty; the peeked byte is still pending
	}
	for {
		k, err := c.r.Read(c.peek[:])
		if k == 1 {
			c.hasPeek = true
			return n, false, nil
		}
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
}

// Put implements store.Store. See the package documentation for how the
// body is sent.
func (s *Store) Put(ctx context.Context, bucket, key string, r io.Reader, opts store.PutOptions) (store.ObjectInfo, error) {
	if err := checkBucketKey(bucket, key); err != nil {
		return store.ObjectInfo{}, opError("Put", bucket, key, err)
	}
	if opts.Size < 0 && opts.Size != store.SizeUnknown {
		return store.ObjectInfo{}, opError("Put", bucket, key, fmt.Errorf("invalid size %d", opts.Size))
	}
	meta, err := encodeMetadata(opts.Metadata)
	if err != nil {
		return store.ObjectInfo{}, opError("Put", bucket, key, err)
	}
	if opts.Tags, err = store.NormalizeTags(opts.Tags); err != nil {
		return store.ObjectInfo{}, opError("Put", bucket, key, err)
	}
	if err := ctx.Err(); err != nil {
		return store.ObjectInfo{}, opError("Put", bucket, key, err)
	}
	info := store.ObjectInfo{
		Bucket:      bucket,
		Key:         key,
		ContentType: opts.ContentType,
		Metadata:    lowerKeys(opts.Metadata),
	}
	partSize := s.opt.partSize
	if opts.Size > partSize*maxParts {
		// Grow parts (in MiB steps) so that the body fits in 10000.
		partSize = ((opts.Size+maxParts-1)/maxParts + 1<<20 - 1) &^ (1<<20 - 1)
		if partSize > MaxPartSize {
			return store.ObjectInfo{}, opError("Put", bucket, key,
				fmt.Errorf("object of %d bytes is larger than S3 allows", opts.Size))
		}
	}
	c := &chunker{r: r}
	if opts.Size == store.SizeUnknown || opts.Size <= partSize {
		want := partSize
		if opts.Size != store.SizeUnknown {
			want = opts.Size
		}
		var buf []byte
		if opts.Size == store.SizeUnknown {
			buf = s.getPart(partSize)
		} else {
			buf = make([]byte, want)
		}
		n, last, err := c.next(buf)
		if err != nil {
			return store.ObjectInfo{}, opError("Put", bucket, key, fmt.Errorf("reading body: %w", err))
		}
		if last {
			if opts.Size != store.SizeUnknown && int64(n) != opts.Size {
				return store.ObjectInfo{}, opError("Put", bucket, key, errBodyTooShort)
			}
			info, err := s.putSingle(ctx, info, buf[:n], meta, opts)
			if err == nil {
				// Only now: after a failed request the HTTP transport
				// may still be reading the body in the background.
				s.putPart(buf)
			}
			return info, err
		}
		if opts.Size != store.SizeUnknown {
			return store.ObjectInfo{}, opError("Put", bucket, key, errBodyTooLong)
		}
		// Unknown size and more than one part: the first part is read.
		return s.putMultipart(ctx, info, c, partSize, buf[:n], meta, opts)
	}
	return s.putMultipart(ctx, info, c, partSize, nil, meta, opts)
}

// getPart returns a buffer of n bytes, from the pool when n is the
// configured part size.
func (s *Store) getPart(n int64) []byte {
	if n == s.opt.partSize {
		if b, ok := s.parts.Get().(*[]byte); ok {
			return *b
		}
	}
	return make([]byte, n)
}

// putPart returns a buffer from getPart to the pool.
func (s *Store) putPart(b []byte) {
	if b != nil && int64(cap(b)) == s.opt.partSize {
		b = b[:cap(b)]
		s.parts.Put(&b)
	}
}

// conditional returns the If-None-Match value for opts.
func conditional(opts store.PutOptions) *string {
	if opts.IfNotExists {
		return aws.String("*")
	}
	return nil
}

func (s *Store) putSingle(ctx context.Context, info store.ObjectInfo, body []byte, meta map[string]string, opts store.PutOptions) (store.ObjectInfo, error) {
	in := &s3.PutObjectInput{
		Bucket:        &info.Bucket,
		Key:           &info.Key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		Metadata:      meta,
		IfNoneMatch:   conditional(opts),
		Tagging:       encodeTags(opts.Tags),
	}
	if opts.ContentType != "" {
		in.ContentType = aws.String(opts.ContentType)
	}
	out, err := s.api.PutObject(ctx, in)
	if err != nil {
		return store.ObjectInfo{}, mapError("Put", info.Bucket, info.Key, err)
	}
	info.Size = int64(len(body))
	info.ETag = trimETag(out.ETag)
	info.ModTime = responseDate(out.ResultMetadata)
	return info, nil
}

// putMultipart uploads the body as a multipart upload. first, when not
// nil, is the already-read first part. At most concurrency parts are in
// flight, plus one being filled: memory is bounded by
// (concurrency+1) x partSize. On any failure the upload is aborted.
func (s *Store) putMultipart(ctx context.Context, info store.ObjectInfo, c *chunker, partSize int64, first []byte, meta map[string]string, opts store.PutOptions) (store.ObjectInfo, error) {
	bucket, key := info.Bucket, info.Key
	if opts.IfNotExists {
		// Cheap early answer before uploading a big body for nothing;
		// the If-None-Match on completion still decides races.
		_, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
		if err == nil {
			return store.ObjectInfo{}, opError("Put", bucket, key, fmt.Errorf("%w (found before uploading)", store.ErrExist))
		}
		if err := mapError("Put", bucket, key, err); !errors.Is(err, store.ErrNotExist) {
			return store.ObjectInfo{}, err
		}
	}
	cin := &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key, Metadata: meta, Tagging: encodeTags(opts.Tags)}
	if opts.ContentType != "" {
		cin.ContentType = aws.String(opts.ContentType)
	}
	cout, err := s.api.CreateMultipartUpload(ctx, cin)
	if err != nil {
		return store.ObjectInfo{}, mapError("Put", bucket, key, err)
	}
	uploadID := cout.UploadId

	parts, cut, err := s.uploadParts(ctx, bucket, key, uploadID, c, partSize, first, opts.Size)
	if err == nil {
		var out *s3.CompleteMultipartUploadOutput
		out, err = s.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          &bucket,
			Key:             &key,
			UploadId:        uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			IfNoneMatch:     conditional(opts),
		})
		if err == nil {
			info.Size = c.n
			info.ETag = trimETag(out.ETag)
			info.ModTime = responseDate(out.ResultMetadata)
			return info, nil
		}
		err = mapError("Put", bucket, key, err)
	}
	return store.ObjectInfo{}, s.abort(ctx, bucket, key, uploadID, cut, err)
}

// abort aborts a multipart upload after err, also when ctx is already
// cancelled, and returns err (noting in it an abort that failed).
//
// cut says that part requests were given up while running (ctx cancelled,
// or another part failed). The server may still complete such a request
// after the abort and so re-create the upload; AWS documents that an abort
// may have to be repeated. Then abort checks with ListParts that the
// upload stays gone for a second, and aborts again whenever it
// reappears. Without cut, one check right after the abort suffices.
func (s *Store) abort(ctx context.Context, bucket, key string, uploadID *string, cut bool, err error) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.abortWait)
	defer cancel()
	var (
		settle  time.Duration // how long the upload must stay gone
		aerr    error
		aborted bool
		gone    time.Duration // how long it has been seen gone
		pause   = 50 * time.Millisecond
		wait    = cut // pause before checking
	)
	if cut {
		settle = time.Second
	}
loop:
	for range 12 {
		if !aborted {
			_, aerr = s.api.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
				Bucket: &bucket, Key: &key, UploadId: uploadID,
			})
			if aerr != nil && !errors.Is(mapError("", "", "", aerr), store.ErrNotExist) {
				break loop
			}
			aborted, gone = true, 0
		}
		slept := time.Duration(0)
		if wait {
			select {
			case <-time.After(pause):
				slept = pause
			case <-actx.Done():
			}
			pause = min(2*pause, 400*time.Millisecond)
		}
		_, lerr := s.api.ListParts(actx, &s3.ListPartsInput{
			Bucket: &bucket, Key: &key, UploadId: uploadID, MaxParts: aws.Int32(1),
		})
		switch {
		case errors.Is(mapError("", "", "", lerr), store.ErrNotExist): // NoSuchUpload
			if gone += slept; gone >= settle {
				return err
			}
		case lerr != nil:
			aerr = lerr
			break loop
		default: // a late part re-created it
			aborted, wait = false, true
			aerr = errors.New("upload still present after abort")
		}
	}
	return fmt.Errorf("%w (and aborting multipart upload %s failed, its parts stay invisible on the server until cleaned up: %v)",
		err, aws.ToString(uploadID), aerr)
}

// uploadParts reads the body part by part and uploads the parts with
// bounded concurrency. It returns the completed parts in order; on error,
// cut reports whether part requests may have been given up while running.
func (s *Store) uploadParts(ctx context.Context, bucket, key string, uploadID *string, c *chunker, partSize int64, first []byte, size int64) (parts []types.CompletedPart, cut bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	// free holds the buffers not in use; at most concurrency+1 exist.
	free := make(chan []byte, s.opt.concurrency+1)
	allocated := 0
	if first != nil {
		allocated = 1
	}
	getBuf := func() ([]byte, error) {
		select {
		case b := <-free:
			return b, nil
		default:
		}
		if allocated <= s.opt.concurrency {
			allocated++
			return s.getPart(partSize), nil
		}
		select {
		case b := <-free:
			return b, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	upload := func(num int32, buf []byte, n int) {
		defer wg.Done()
		out, err := s.api.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        &bucket,
			Key:           &key,
			UploadId:      uploadID,
			PartNumber:    aws.Int32(num),
			Body:          bytes.NewReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			// The buffer is dropped, not reused: after a failed request
			// the HTTP transport may still be reading it. Nothing waits
			// for it: ctx is done, so getBuf returns.
			cancel(mapError("Put", bucket, key, err))
			return
		}
		free <- buf
		mu.Lock()
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		mu.Unlock()
	}

	var readErr error
	for num := int32(1); ; num++ {
		if num > maxParts {
			readErr = opError("Put", bucket, key, fmt.Errorf("body needs more than %d parts of %d bytes", maxParts, partSize))
			break
		}
		var (
			buf  []byte
			n    int
			last bool
			err  error
		)
		if num == 1 && first != nil {
			buf, n = first[:cap(first)], len(first)
		} else {
			buf, err = getBuf()
			if err != nil {
				break // an upload failed; its error is the cause
			}
			n, last, err = c.next(buf)
			if err != nil {
				free <- buf
				readErr = opError("Put", bucket, key, fmt.Errorf("reading body: %w", err))
				break
			}
		}
		if size != store.SizeUnknown && c.n > size {
			free <- buf
			readErr = opError("Put", bucket, key, errBodyTooLong)
			break
		}
		if last && size != store.SizeUnknown && c.n != size {
			free <- buf
			readErr = opError("Put", bucket, key, errBodyTooShort)
			break
		}
		if n == 0 && num > 1 {
			free <- buf
			break // defensive: chunker never yields an empty trailing part
		}
		if ctx.Err() != nil {
			free <- buf
			break
		}
		wg.Add(1)
		go upload(num, buf, n)
		if last {
			break
		}
	}
	// On a read error, let the parts in flight finish: aborting an upload
	// with no part requests running is clean.
	wg.Wait()
	for len(free) > 0 {
		s.putPart(<-free)
	}
	if err := context.Cause(ctx); err != nil {
		if e := (*Error)(nil); !errors.As(err, &e) {
			err = opError("Put", bucket, key, err) // the caller's ctx ended
		}
		return nil, true, err
	}
	if readErr != nil {
		return nil, false, readErr
	}
	// Parts finish out of order; S3 wants them ascending.
	sortParts(parts)
	return parts, false, nil
}

func sortParts(p []types.CompletedPart) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && *p[j].PartNumber < *p[j-1].PartNumber; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// copyMultipart copies src (larger than CopyObject allows) to dst with
// UploadPartCopy parts, concurrency at a time.
func (s *Store) copyMultipart(ctx context.Context, src, dst store.ObjectInfo, meta, tags map[string]string) (store.ObjectInfo, error) {
	cin := &s3.CreateMultipartUploadInput{Bucket: &dst.Bucket, Key: &dst.Key, Metadata: meta, Tagging: encodeTags(tags)}
	if dst.ContentType != "" {
		cin.ContentType = aws.String(dst.ContentType)
	}
	cout, err := s.api.CreateMultipartUpload(ctx, cin)
	if err != nil {
		return store.ObjectInfo{}, mapError("Copy", dst.Bucket, dst.Key, err)
	}
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	nparts := int((src.Size + copyPartSize - 1) / copyPartSize)
	parts := make([]types.CompletedPart, nparts)
	sem := make(chan struct{}, s.opt.concurrency)
	var wg sync.WaitGroup
	source := aws.String(copySource(src.Bucket, src.Key))
	ifMatch := aws.String(`"` + src.ETag + `"`)
	for i := range nparts {
		select {
		case sem <- struct{}{}:
		case <-pctx.Done():
		}
		if pctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			lo := int64(i) * copyPartSize
			hi := min(lo+copyPartSize, src.Size) - 1
			out, err := s.api.UploadPartCopy(pctx, &s3.UploadPartCopyInput{
				Bucket:            &dst.Bucket,
				Key:               &dst.Key,
				UploadId:          cout.UploadId,
				PartNumber:        aws.Int32(int32(i + 1)),
				CopySource:        source,
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", lo, hi)),
				CopySourceIfMatch: ifMatch,
			})
			if err != nil {
				cancel(mapError("Copy", dst.Bucket, dst.Key, err))
				return
			}
			var etag *string
			if out.CopyPartResult != nil {
				etag = out.CopyPartResult.ETag
			}
			parts[i] = types.CompletedPart{ETag: etag, PartNumber: aws.Int32(int32(i + 1))}
		}()
	}
	wg.Wait()
	err = context.Cause(pctx)
	if err == nil {
		var out *s3.CompleteMultipartUploadOutput
		out, err = s.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          &dst.Bucket,
			Key:             &dst.Key,
			UploadId:        cout.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if err == nil {
			dst.ETag = trimETag(out.ETag)
			dst.ModTime = responseDate(out.ResultMetadata)
			return dst, nil
		}
		err = mapError("Copy", dst.Bucket, dst.Key, err)
	}
	return store.ObjectInfo{}, s.abort(ctx, dst.Bucket, dst.Key, cout.UploadId, true, err)
}
