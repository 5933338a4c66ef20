package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// Portable errors. Every implementation maps its native errors onto these
// (in exactly one function) so that callers can use errors.Is.
var (
	// ErrNotExist: the object does not exist.
	ErrNotExist = errors.New("store: object does not exist")
	// ErrExist: a conditional create found the key already present.
	ErrExist = errors.New("store: object already exists")
	// ErrInvalidKey: the key breaks the rules of ValidateKey (empty, too
	// long, not valid UTF-8, a NUL byte, an empty, "." or ".." segment, a
	// leading or trailing "/", a segment over 255 bytes). Every backend
	// applies the same rules, even S3 which would accept some of these.
	// A backend may also reject a key that collides with its own layout
	// (fsstore: a key whose first segment is ".dg"; a key that is a
	// "/"-prefix of an existing key or vice versa) with this error.
	ErrInvalidKey = errors.New("store: invalid key")
	// ErrInvalidBucket: the bucket name is not acceptable to the backend.
	ErrInvalidBucket = errors.New("store: invalid bucket name")
	// ErrBucketNotExist: the bucket does not exist.
	ErrBucketNotExist = errors.New("store: bucket does not exist")
	// ErrBucketExist: CreateBucket found the bucket already present.
	ErrBucketExist = errors.New("store: bucket already exists")
	// ErrBucketNotEmpty: DeleteBucket on a bucket that still holds objects.
	ErrBucketNotEmpty = errors.New("store: bucket is not empty")
	// ErrInvalidRange: a read starts beyond the end of the object.
	ErrInvalidRange = errors.New("store: range not satisfiable")
	// ErrNotSupported: the backend does not offer this operation.
	ErrNotSupported = errors.New("store: operation not supported")
	// ErrInvalidMetadata: a metadata key is empty, not an HTTP token
	// (ASCII letters, digits and !#$%&'*+-.^_`|~), or two keys differ only
	// in case; or a value is not valid UTF-8 or contains a control
	// character; or the whole exceeds MaxMetadataSize (see
	// NormalizeMetadata).
	ErrInvalidMetadata = errors.New("store: invalid metadata")
	// ErrObjectChanged: an object was replaced while a ReaderAt was
	// reading it (its ETag changed).
	ErrObjectChanged = errors.New("store: object changed while reading")
	// ErrInvalidTags: object tags that break S3's tagging rules (see
	// NormalizeTags).
	ErrInvalidTags = errors.New("store: invalid object tags")
)

// SizeUnknown is passed as PutOptions.Size when the length of the body is
// not known in advance.
const SizeUnknown = -1

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Bucket  string
	Key     string
	Size    int64
	ModTime time.Time
	// ETag is an opaque version tag: it changes whenever the object's
	// content changes. It is not guaranteed to be an MD5.
	ETag string
	// ContentType as given to Put; empty if none.
	ContentType string
	// Metadata is the user metadata given to Put. Keys are returned in
	// lower case (S3 semantics); values are returned exactly as given,
	// including non-ASCII UTF-8. Nil or empty when there is none. List does
	// not fill it in (use Stat).
	Metadata map[string]string
}

// PutOptions controls Put.
type PutOptions struct {
	// Size is the exact length of the body, or SizeUnknown. A body that
	// yields a different number of bytes than a known Size is an error
	// and nothing is stored.
	Size int64
	// Metadata is user metadata stored with the object. Keys must be HTTP
	// tokens (see NormalizeMetadata); they are stored lower-cased. Values
	// may be any valid UTF-8 without control characters or leading and
	// trailing white space. The map is not retained.
	Metadata map[string]string
	// ContentType is stored with the object.
	ContentType string
	// IfNotExists makes Put a conditional create: if the key already
	// exists, Put stores nothing and returns an error wrapping ErrExist.
	// Among concurrent conditional creates of one key, exactly one wins,
	// also across processes.
	IfNotExists bool
	// Tags are the object's tags (S3 object tagging): at most 10, under
	// the rules of NormalizeTags. An overwrite replaces the old object's
	// tags (none if Tags is empty). The map is not retained.
	Tags map[string]string
}

// CopyOptions controls Copy.
type CopyOptions struct {
	// ReplaceMetadata, when true, stores Metadata and ContentType on the
	// copy instead of the source object's.
	ReplaceMetadata bool
	Metadata        map[string]string
	ContentType     string
	// ReplaceTags, when true, gives the copy Tags instead of the source
	// object's tags (which a copy keeps otherwise, as S3 does).
	ReplaceTags bool
	Tags        map[string]string
	// IfMatch, when not empty, makes the copy conditional: it is made
	// only if the source's ETag is IfMatch, and fails with
	// ErrObjectChanged otherwise, writing nothing. A caller that read the
	// source's metadata earlier uses it to copy exactly that version.
	IfMatch string
}

// ListOptions controls List.
type ListOptions struct {
	// Prefix restricts the listing to keys that start with it.
	Prefix string
	// Delimiter, when non-empty (normally "/"), groups keys that contain
	// it after the prefix into a single CommonPrefix entry, as S3 does.
	Delimiter string
	// StartAfter lists only keys (and common prefixes) strictly greater
	// than it; this is how a caller resumes an interrupted listing.
	StartAfter string
}

// Entry is one item of a listing: an object, or (with a delimiter) a
// common prefix, in which case only Key is set and IsPrefix is true.
type Entry struct {
	ObjectInfo
	IsPrefix bool
}

// Store is a flat key/value object store with buckets.
//
// Contract (checked by store/storetest):
//   - Keys are checked by ValidateKey, bucket names by ValidateBucket and
//     metadata by NormalizeMetadata, in every method, and rejected with
//     ErrInvalidKey / ErrInvalidBucket / ErrInvalidMetadata. A key that is
//     a strict "/"-prefix of another key (both "a" and "a/b") need not be
//     supported.
//   - Put is atomic: readers see the old object or the whole new one,
//     never a partial one. If the body reader fails or ctx is cancelled,
//     Put returns an error and nothing new is visible under the key.
//   - Put to an existing key replaces it (unless IfNotExists).
//   - Get(offset, length) returns bytes [offset, offset+length) of the
//     object; length < 0 means "to the end"; a range running past the end
//     is cut at the end; offset > size is ErrInvalidRange (offset == size
//     yields an empty body; a negative offset is ErrInvalidRange too;
//     length 0 yields an empty body). The returned info describes the
//     whole object (Size is the object's size, not the range's). The body
//     is one version of the object even if it is replaced meanwhile.
//   - Every method on a missing object returns an error wrapping
//     ErrNotExist (ErrBucketNotExist when the bucket itself is missing);
//     Delete of a missing key is not an error (idempotent); Delete in a
//     missing bucket may return nil or ErrBucketNotExist.
//   - List calls fn for each entry in ascending byte order of Key, without
//     ever holding the whole listing in memory; fn returning an error
//     stops the listing and List returns that error. Objects written
//     before List starts and not deleted during it are listed exactly once.
//     With a Delimiter, each common prefix is one entry, placed in key
//     order. An entry (key or common prefix) is delivered only if it is
//     strictly greater than StartAfter, so a listing resumed with
//     StartAfter = the last entry delivered (even a common prefix) goes on
//     exactly after it. ListFolder implements these rules. List does not
//     fill in Metadata or ContentType.
//   - All methods honour ctx cancellation and are safe for concurrent use.
type Store interface {
	// Put stores the body read from r under bucket/key.
	Put(ctx context.Context, bucket, key string, r io.Reader, opts PutOptions) (ObjectInfo, error)
	// Get opens a range of an object for reading. The caller must close
	// the returned reader.
	Get(ctx context.Context, bucket, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)
	// Stat returns an object's size, modification time, ETag and metadata.
	Stat(ctx context.Context, bucket, key string) (ObjectInfo, error)
	// Tags returns an object's tags (nil when it has none); ErrNotExist
	// if there is no object. Tags are not part of ObjectInfo because S3
	// returns them only from a request of their own.
	Tags(ctx context.Context, bucket, key string) (map[string]string, error)
	// Delete removes an object. Deleting a missing object succeeds.
	Delete(ctx context.Context, bucket, key string) error
	// DeleteMany removes several objects of one bucket; missing ones are
	// ignored. It returns the first error met, after trying every key.
	DeleteMany(ctx context.Context, bucket string, keys []string) error
	// Copy copies an object, server-side where the backend can.
	Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error)
	// List enumerates a bucket; see the contract above.
	List(ctx context.Context, bucket string, opts ListOptions, fn func(Entry) error) error

	// CreateBucket creates a bucket (ErrBucketExist if it exists).
	CreateBucket(ctx context.Context, bucket string) error
	// DeleteBucket removes an empty bucket (ErrBucketNotEmpty otherwise).
	DeleteBucket(ctx context.Context, bucket string) error
	// ListBuckets returns the names of all buckets in ascending order.
	ListBuckets(ctx context.Context) ([]string, error)
	// BucketExists reports whether a bucket exists.
	BucketExists(ctx context.Context, bucket string) (bool, error)
}
