package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

// APIError is an S3 error response: an HTTP status, an S3 error code and a
// message. Handlers return it (possibly wrapped); the server writes it as
// the S3 XML error document.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErr(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// S3 error constructors used in more than one place.
func errAccessDenied(msg string) *APIError {
	return apiErr(http.StatusForbidden, "AccessDenied", "%s", msg)
}
func errSignature() *APIError {
	return apiErr(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
}
func errAuthMalformed(msg string) *APIError {
	return apiErr(http.StatusBadRequest, "AuthorizationHeaderMalformed", "%s", msg)
}
func errMalformedXML() *APIError {
	return apiErr(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema.")
}
func errNotImplemented(what string) *APIError {
	return apiErr(http.StatusNotImplemented, "NotImplemented", "%s is not implemented by deltaglider serve", what)
}
func errNoSuchUpload() *APIError {
	return apiErr(http.StatusNotFound, "NoSuchUpload",
		"The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}
func errInvalidArgument(format string, args ...any) *APIError {
	return apiErr(http.StatusBadRequest, "InvalidArgument", format, args...)
}

// toAPIError maps any error to the S3 error sent to the client. This is the
// one place where store and delta errors become S3 codes.
func toAPIError(err error) *APIError {
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrBucketNotExist):
		return apiErr(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
	case errors.Is(err, store.ErrNotExist):
		return apiErr(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	case errors.Is(err, store.ErrBucketExist):
		return apiErr(http.StatusConflict, "BucketAlreadyOwnedByYou",
			"Your previous request to create the named bucket succeeded and you already own it.")
	case errors.Is(err, store.ErrBucketNotEmpty):
		return apiErr(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
	case errors.Is(err, store.ErrInvalidBucket):
		return apiErr(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
	case errors.Is(err, store.ErrInvalidKey):
		if strings.Contains(err.Error(), "longer than") && !strings.Contains(err.Error(), "segment") {
			return apiErr(http.StatusBadRequest, "KeyTooLongError", "Your key is too long.")
		}
		return errInvalidArgument("Invalid object key: %s", cleanMsg(err))
	case errors.Is(err, delta.ErrReservedKey):
		return errInvalidArgument("Reserved object key: names reference.bin, *.delta and .deltaglider/ hold DeltaGlider internals.")
	case errors.Is(err, store.ErrInvalidRange):
		return apiErr(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable.")
	case errors.Is(err, store.ErrInvalidMetadata), errors.Is(err, delta.ErrInvalidMetadata):
		return errInvalidArgument("Invalid metadata: %s", cleanMsg(err))
	case errors.Is(err, store.ErrInvalidTags):
		return apiErr(http.StatusBadRequest, "InvalidTag", "%s", cleanMsg(err))
	case errors.Is(err, store.ErrExist):
		return apiErr(http.StatusPreconditionFailed, "PreconditionFailed",
			"At least one of the pre-conditions you specified did not hold.")
	case errors.Is(err, store.ErrNotSupported):
		return errNotImplemented("this operation on this backend")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apiErr(499, "RequestCanceled", "The request was cancelled.")
	}
	return apiErr(http.StatusInternalServerError, "InternalError",
		"We encountered an internal error. Please try again.")
}

// cleanMsg keeps the last part of a wrapped error chain's message, which
// names the problem without our internal call path.
func cleanMsg(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}
