package s3store

import "github.com/deltaglider-go/deltaglider/store"

// Keys, bucket names and metadata are checked with the store package's
// shared rules before any request is made, so that every backend accepts
// the same keys (S3 itself would accept "a//b" or "../x", which
// filesystem-backed servers normalise or reject).

func checkKey(key string) error       { return store.ValidateKey(key) }
func checkBucket(bucket string) error { return store.ValidateBucket(bucket) }

// checkBucketKey validates both, bucket first.
func checkBucketKey(bucket, key string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	return checkKey(key)
}
