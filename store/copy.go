package store

import (
	"context"
	"fmt"
)

// CopyViaGetPut implements Store.Copy for backends without a server-side
// copy: it streams the source through Get into Put on dst. The copy is
// atomic like any Put. If the source changes while it is being read, the
// result is one consistent version as far as the backend's Get guarantees
// it (an open file, a single S3 GET).
func CopyViaGetPut(ctx context.Context, s Store, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error) {
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
	if !opts.ReplaceTags {
		// Read before the body: tags changed between the two reads would
		// be a newer object's (the Get below would see it too, or an
		// even newer one).
		if tags, err = s.Tags(ctx, srcBucket, srcKey); err != nil {
			return ObjectInfo{}, err
		}
	}
	rc, info, err := s.Get(ctx, srcBucket, srcKey, 0, -1)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer rc.Close()
	if opts.IfMatch != "" && info.ETag != opts.IfMatch {
		return ObjectInfo{}, fmt.Errorf("%w: %s/%s has ETag %q, not %q", ErrObjectChanged, srcBucket, srcKey, info.ETag, opts.IfMatch)
	}
	po := PutOptions{Size: info.Size, Metadata: md, ContentType: opts.ContentType, Tags: tags}
	if !opts.ReplaceMetadata {
		po.Metadata, po.ContentType = info.Metadata, info.ContentType
	}
	return s.Put(ctx, dstBucket, dstKey, rc, po)
}
