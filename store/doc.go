// Package store defines Store, the small object-storage interface that the
// delta engine runs on, its contract, portable errors, an in-memory
// implementation, and helpers shared by all implementations. The
// conformance suite every implementation must pass lives in
// store/storetest.
//
// Implementations: NewMemory (tests), fsstore (a local directory, the
// embedded default) and s3store (any S3-compatible service).
//
// The contract is written on the Store interface. The rules that make all
// backends agree are implemented here once, for every implementation to
// call: ValidateKey and ValidateBucket (the same keys are valid
// everywhere, even where S3 itself would accept more), NormalizeMetadata
// (lower-cased keys, values any UTF-8 text), CheckRange (the semantics of
// Get's offset and length) and ListFolder (prefix, delimiter and
// StartAfter semantics of List). CopyViaGetPut implements Copy for
// backends without a server-side copy.
//
// NewReaderAt turns a stored object into an io.ReaderAt with a bounded
// block cache and read-ahead, so that a codec can use an object as its
// source straight from the store.
//
// Errors are sentinels to test with errors.Is:
//
//	if _, err := s.Stat(ctx, bucket, key); errors.Is(err, store.ErrNotExist) {
//		// create it
//	}
package store
