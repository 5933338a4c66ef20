package main

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// opError ties an error to the operand it concerns, so that the one-line
// message can name it.
type opError struct {
	what string // e.g. "s3://b/k" or "./file"
	err  error
}

func (e *opError) Error() string { return e.what + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func wrapOp(what string, err error) error {
	if err == nil {
		return nil
	}
	var oe *opError
	if errors.As(err, &oe) {
		return err
	}
	return &opError{what: what, err: err}
}

// friendly turns an error into one line that says what went wrong and
// what to do, without SDK dumps. --debug prints err.Error() instead.
func friendly(err error) string {
	prefix := ""
	var oe *opError
	if errors.As(err, &oe) {
		prefix = oe.what + ": "
	}
	var ue usageError
	// The S3 API error of the SDK (smithy.APIError), matched by its
	// methods so that only s3store imports the SDK.
	var ae interface {
		error
		ErrorCode() string
		ErrorMessage() string
	}
	var ne *net.OpError
	var s3e *s3store.Error
	var ce *vcdiff.CorruptInputError
	msg := ""
	switch {
	case errors.As(err, &ue):
		return ue.msg
	case errors.Is(err, context.Canceled):
		msg = "interrupted; nothing partial was left behind"
	case errors.Is(err, store.ErrBucketNotExist):
		b := ""
		if errors.As(err, &s3e) {
			b = s3e.Bucket
		} else if oe != nil {
			if loc, perr := parseLocation(oe.what); perr == nil && loc.s3 {
				b = loc.bucket
			}
		}
		msg = "bucket does not exist; create it with `deltaglider mb s3://" + b + "`"
		if b == "" {
			msg = "bucket does not exist; create it with `deltaglider mb s3://BUCKET`"
		}
	case errors.Is(err, store.ErrNotExist):
		msg = "no such object; list what exists with `deltaglider ls`"
		if oe != nil {
			if loc, perr := parseLocation(oe.what); perr == nil && loc.s3 {
				dir := ""
				if i := strings.LastIndexByte(loc.key, '/'); i >= 0 {
					dir = loc.key[:i+1]
				}
				msg = "no such object; list what exists with `deltaglider ls s3://" + loc.bucket + "/" + dir + "`"
			}
		}
	case errors.Is(err, delta.ErrReservedKey):
		msg = "reserved name: keys named reference.bin or ending in .delta (and anything under .deltaglider/) hold DeltaGlider's own data; rename the file"
	case oe != nil && strings.HasPrefix(oe.what, "s3://") &&
		(errors.Is(err, vcdiff.ErrChecksum) || errors.As(err, &ce) || errors.Is(err, vcdiff.ErrSourceTooShort)):
		// A stored object's delta (the decode command reports patch
		// errors of its own files as they are).
		msg = "integrity check failed: the stored delta is damaged or no longer matches its reference, so the object cannot be reconstructed (run `deltaglider verify` on its prefix)"
	case errors.Is(err, delta.ErrIntegrity):
		msg = "integrity check failed: the reconstructed data does not match its recorded SHA-256; the object is damaged (run `deltaglider verify` on its prefix)"
	case errors.Is(err, delta.ErrMissingMetadata):
		msg = "the .delta object lost its DeltaGlider metadata (copied by a tool that drops user metadata?) and cannot be reconstructed"
	case errors.Is(err, delta.ErrWrongReference):
		msg = "the deltaspace's reference.bin is not the one this delta was made against; the object cannot be reconstructed"
	case errors.Is(err, delta.ErrExternalCompression):
		msg = "the delta was made by xdelta3 with external recompression and its original bytes cannot be reproduced"
	case errors.Is(err, delta.ErrInvalidOption):
		return lastPart(err.Error())
	case errors.Is(err, store.ErrBucketExist):
		msg = "bucket already exists"
	case errors.Is(err, store.ErrBucketNotEmpty):
		msg = "bucket is not empty; remove its objects first (`deltaglider rm -r`) or use `rb --force`"
	case errors.Is(err, store.ErrInvalidBucket):
		msg = "invalid bucket name (use 3-63 lower-case letters, digits, dots and hyphens)"
	case errors.Is(err, store.ErrInvalidKey):
		msg = "invalid object key (empty segments, \"..\", or a name that clashes with an existing \"directory\")"
	case strings.Contains(err.Error(), "failed to get shared config profile"):
		// config.SharedConfigProfileNotExistError of the SDK.
		p := strings.TrimSpace(err.Error()[strings.LastIndex(err.Error(), ",")+1:])
		msg = "AWS profile " + strconv.Quote(p) + " is not in the shared config or credentials file (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE); check --profile and AWS_PROFILE"
	case isCredentialError(err):
		msg = "no usable AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --profile, or use --store-dir DIR for the embedded store"
	case errors.As(err, &ae):
		switch ae.ErrorCode() {
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			msg = "access denied by S3 (" + ae.ErrorCode() + "); check your credentials, --profile and the bucket policy"
		default:
			msg = "S3 error " + ae.ErrorCode() + ": " + ae.ErrorMessage()
		}
	case errors.As(err, &ne):
		msg = "cannot reach the S3 endpoint (" + ne.Err.Error() + "); check --endpoint-url and that the server is running"
	default:
		msg = lastPart(firstLine(err.Error()))
	}
	return prefix + msg
}

func isCredentialError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "failed to retrieve credentials") ||
		strings.Contains(s, "no EC2 IMDS role found") ||
		strings.Contains(s, "get credentials")
}

// lastPart drops the "pkg: Op key:" chain a wrapped error accumulates and
// keeps its most specific part.
func lastPart(s string) string {
	for _, p := range []string{"delta: ", "fsstore: ", "s3store: ", "store: "} {
		if i := strings.LastIndex(s, p); i >= 0 {
			rest := s[i+len(p):]
			// "Put key: reason" -> keep the reason when there is one.
			if j := strings.LastIndex(rest, ": "); j >= 0 && j+2 < len(rest) {
				return rest[j+2:]
			}
			return rest
		}
	}
	return s
}
