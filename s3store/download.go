package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deltaglider-go/deltaglider/store"
)

// Download writes a whole object to w with up to Concurrency ranged GETs
// of PartSize bytes in flight at once, which is faster than one stream
// for big objects on high-latency links. Every range is pinned to the
// ETag seen first (If-Match), so the result is one version of the object;
// if it is replaced meanwhile Download fails with store.ErrObjectChanged.
// Ranges are streamed into w at their offsets: memory use does not grow
// with the part size. On error, w may hold part of the object.
func (s *Store) Download(ctx context.Context, bucket, key string, w io.WriterAt) (store.ObjectInfo, error) {
	if err := checkBucketKey(bucket, key); err != nil {
		return store.ObjectInfo{}, opError("Download", bucket, key, err)
	}
	info, err := s.stat(ctx, "Download", bucket, key)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	if info.Size == 0 {
		return info, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	part := s.opt.partSize
	n := (info.Size + part - 1) / part
	next := make(chan int64)
	var wg sync.WaitGroup
	for range min(int64(s.opt.concurrency), n) {
		wg.Go(func() {
			for i := range next {
				lo := i * part
				hi := min(lo+part, info.Size) - 1
				if err := s.downloadRange(ctx, bucket, key, info.ETag, lo, hi, w); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		if e := (*Error)(nil); !errors.As(err, &e) {
			err = opError("Download", bucket, key, err)
		}
		return store.ObjectInfo{}, err
	}
	return info, nil
}

// downloadRange copies bytes [lo, hi] of version etag of the object into w.
func (s *Store) downloadRange(ctx context.Context, bucket, key, etag string, lo, hi int64, w io.WriterAt) error {
	r := "bytes=" + strconv.FormatInt(lo, 10) + "-" + strconv.FormatInt(hi, 10)
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{
		Bucket:  &bucket,
		Key:     &key,
		Range:   &r,
		IfMatch: aws.String(`"` + etag + `"`),
	}, rangeOpts)
	if err != nil {
		return mapError("Download", bucket, key, err)
	}
	defer out.Body.Close()
	got, err := io.Copy(io.NewOffsetWriter(w, lo), out.Body)
	if err != nil {
		return opError("Download", bucket, key, fmt.Errorf("range %s: %w", r, err))
	}
	if got != hi-lo+1 {
		return opError("Download", bucket, key, fmt.Errorf("range %s: got %d bytes: %w", r, got, io.ErrUnexpectedEOF))
	}
	return nil
}
