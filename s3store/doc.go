// Package s3store implements store.Store on any S3-compatible service
// (AWS S3, versitygw, MinIO, Ceph RGW, ...) through aws-sdk-go-v2.
//
// Store depends only on API, a narrow interface that *s3.Client satisfies,
// so tests and callers can wrap or instrument the client. NewFromConfig
// builds a client the usual way: the standard credential chain
// (environment, shared config and profiles, SSO, EC2/ECS metadata), a
// region, an optional custom endpoint (AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_S3 are honoured by the SDK; Config.Endpoint overrides
// them) and optional path-style addressing.
//
// Behaviour worth knowing:
//
//   - Put never hands the SDK an unseekable body: it reads the body in
//     parts of PartSize bytes into reusable buffers. A body that fits in
//     one part is sent with a single PutObject; a larger or unknown-size
//     body is sent as a multipart upload with at most Concurrency parts in
//     flight, so memory stays bounded by (Concurrency+1) x PartSize. Any
//     error or cancellation aborts the multipart upload; nothing becomes
//     visible under the key. Because a part request the client gave up on
//     may still complete on the server and re-create the upload, the
//     abort is checked with ListParts and repeated if needed (AWS
//     documents this). If the server cannot be reached at all, the error
//     says that the upload could not be aborted; its parts are invisible
//     and left to lifecycle rules or an operator. Completion sends only
//     part numbers and ETags (no part checksums), which every server
//     accepts. Part buffers are reused across Puts.
//   - PutOptions.IfNotExists is sent as If-None-Match: * on PutObject and
//     on CompleteMultipartUpload; 412 PreconditionFailed and 409
//     ConditionalRequestConflict become store.ErrExist.
//   - User metadata travels in x-amz-meta-* headers. Values that are not
//     plain printable ASCII (or that could be mistaken for an encoded word)
//     are written as RFC 2047 B-encoded words and decoded on read, so any
//     UTF-8 value round-trips.
//   - Keys are checked before any request: besides the store contract
//     (1..1024 bytes of UTF-8, no NUL) keys with a leading "/", empty, "."
//     or ".." segments are rejected with store.ErrInvalidKey, because
//     filesystem-backed S3 servers normalise or reject them.
//   - Native errors are mapped onto the portable store errors in one
//     function (mapError); the returned *Error keeps the native error too.
//     Retries are the SDK's standard retryer (throttling, 5xx, transient
//     network errors, with exponential backoff and jitter); client errors
//     (4xx) are not retried. Config.MaxAttempts sets the attempt count.
//   - Ranged reads disable response checksum validation (a checksum covers
//     the whole object, never a range); whole-object reads keep the
//     client's setting.
//   - Objects larger than 5 GiB are copied with UploadPartCopy.
//   - Download fetches a whole object with parallel ranged GETs, all
//     pinned to one ETag with If-Match (store.ErrObjectChanged if the
//     object is replaced meanwhile).
//
// Tests run against a real versitygw (see server_test.go for how the
// server is found or started); the 1 GiB test runs only with LONG=1.
package s3store
