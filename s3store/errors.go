package s3store

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/deltaglider-go/deltaglider/store"
)

// Error is the error returned by every Store method that failed in or
// after a request to the server. It matches (errors.Is) both its portable
// Kind (one of the store.Err* sentinels, or nil when the failure has no
// portable meaning) and the native SDK error it came from, which can be
// inspected with errors.As (smithy.APIError, *awshttp.ResponseError).
type Error struct {
	Op     string // Store method, e.g. "Put"
	Bucket string
	Key    string // empty for bucket operations
	Kind   error  // portable store error, or nil
	Err    error  // native error
}

func (e *Error) Error() string {
	where := e.Bucket
	if e.Key != "" {
		where += "/" + e.Key
	}
	msg := "s3store: " + e.Op + " " + where + ": "
	if e.Kind == nil {
		return msg + e.Err.Error()
	}
	if code := apiCode(e.Err); code != "" {
		return msg + e.Kind.Error() + " (" + code + ")"
	}
	return msg + e.Kind.Error() + ": " + e.Err.Error()
}

// Unwrap returns the portable kind (if any) and the native error.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// apiCode returns the S3 error code of err ("NoSuchKey", ...), or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status code of the response err came from,
// or 0 when there was no response.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// mapError is the one place where native S3 errors are mapped onto the
// portable store errors. It returns nil for a nil err, and otherwise an
// *Error naming the operation and object.
//
// The mapping goes by S3 error code first and by HTTP status when the
// response carried no code (HEAD responses have no body), then takes the
// request into account: op is the Store method, key is empty for
// bucket-level requests. Bucket-level and key-level "not found" cannot be
// told apart for HeadObject (both are a bare 404); Stat asks about the
// bucket afterwards (see Store.notFound).
func mapError(op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	var kind error
	switch apiCode(err) {
	case "NoSuchKey", "NotFound":
		kind = store.ErrNotExist
	case "NoSuchBucket":
		kind = store.ErrBucketNotExist
	case "PreconditionFailed", "ConditionalRequestConflict":
		// We only ever send If-None-Match: *, so a failed precondition
		// means the key exists (409 when a concurrent conditional write
		// raced with ours).
		kind = store.ErrExist
	case "InvalidRange":
		kind = store.ErrInvalidRange
	case "BucketAlreadyExists", "BucketAlreadyOwnedByYou":
		kind = store.ErrBucketExist
	case "BucketNotEmpty":
		kind = store.ErrBucketNotEmpty
	case "InvalidBucketName":
		kind = store.ErrInvalidBucket
	case "InvalidTag":
		// Tags the server refuses although NormalizeTags accepted them
		// (versitygw v1.8.0 measures keys and values URL-encoded).
		kind = store.ErrInvalidTags
	case "KeyTooLongError",
		// versitygw (posix backend) cannot store both "a" and "a/b", nor
		// data under a key ending in "/".
		"ObjectParentIsFile", "ExistingObjectIsDirectory", "DirectoryObjectContainsData":
		kind = store.ErrInvalidKey
	case "NotImplemented":
		kind = store.ErrNotSupported
	default:
		switch httpStatus(err) {
		case 404:
			kind = store.ErrNotExist
		case 412:
			kind = store.ErrExist
		case 416:
			kind = store.ErrInvalidRange
		case 501:
			kind = store.ErrNotSupported
		}
	}
	switch {
	case kind == store.ErrExist && (op == "Copy" || op == "Download"):
		// These send only If-Match / x-amz-copy-source-if-match on an
		// ETag read just before: the object was replaced meanwhile.
		kind = store.ErrObjectChanged
	case kind == store.ErrNotExist && bucket != "" && key == "":
		// A bare 404 on a bucket-level request (HeadBucket, ...).
		kind = store.ErrBucketNotExist
	}
	return &Error{Op: op, Bucket: bucket, Key: key, Kind: kind, Err: err}
}

// opError wraps an error that did not come from the server (bad argument,
// failing body reader, ...) with the operation and object it concerns.
func opError(op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	where := bucket
	if key != "" {
		where += "/" + key
	}
	return fmt.Errorf("s3store: %s %s: %w", op, where, err)
}
