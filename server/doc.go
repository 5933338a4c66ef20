// Package server is the S3-compatible HTTP endpoint of `deltaglider serve`:
// any S3 client (aws CLI, boto3, aws-sdk-go-v2, rclone) talks to it and gets
// transparent delta compression from a delta.Client, on the embedded
// filesystem store or in front of a real S3 bucket.
//
// # Operations
//
// Path-style addressing (http://host/bucket/key). ListBuckets, CreateBucket,
// HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning (always
// unversioned), PutObject (If-None-Match: * and If-Match), GetObject and
// HeadObject (single byte Range, If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since, response-* overrides),
// DeleteObject, DeleteObjects, CopyObject (COPY/REPLACE directives,
// x-amz-copy-source-if-*), ListObjectsV2 and ListObjects (prefix,
// delimiter, paging, encoding-type=url), and the multipart calls
// CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts and
// ListMultipartUploads. Object tags are taken from x-amz-tagging on
// PutObject, CreateMultipartUpload and CopyObject (x-amz-tagging-directive)
// and returned by GetObjectTagging. Other sub-resources (ACLs, changing
// tags in place, policies, versions...) answer 501 NotImplemented. Errors are S3 XML documents with
// S3 error codes; one function (toAPIError) maps store and delta errors
// onto them.
//
// Clients see logical keys only: deltas appear under their own names with
// their original sizes, references and .deltaglider/ are never listed, the
// reserved names (reference.bin, *.delta) are rejected on writes and read
// as missing. Every object response carries x-deltaglider-storage: delta or
// direct.
//
// # Authentication
//
// AWS Signature Version 4, verified with crypto/hmac and compared in
// constant time: the Authorization header, presigned URLs (X-Amz-Expires,
// at most 7 days), and aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-
// PAYLOAD with its chunk signature chain, the -TRAILER variant with its
// trailer signature, and STREAMING-UNSIGNED-PAYLOAD-TRAILER). Signed
// requests more than 15 minutes off the server clock get
// RequestTimeTooSkewed. Declared digests (x-amz-content-sha256,
// Content-MD5, x-amz-checksum-crc32/crc32c/crc64nvme/sha1/sha256 as headers
// or trailers) are checked as the body streams; a mismatch fails the read
// before EOF, so nothing is stored. With no credentials configured the
// server accepts every request; `deltaglider serve` refuses to listen on a
// non-loopback address that way unless told --insecure-no-auth.
//
// # Streaming and memory
//
// PUT bodies stream into the delta engine, which spools them to an unlinked
// temporary file (never to memory) before encoding; GET bodies stream out
// of the decoder with a fixed 256 KiB copy buffer. Multipart parts are
// spooled to files under Config.SpoolDir and concatenated from disk on
// completion. Objects larger than RAM therefore work both ways.
//
// # Operations endpoints
//
// GET /-/health (and /health) answers {"status":"ok"}; GET /-/metrics (and
// /metrics) serves Prometheus text-format metrics written by hand: bytes
// received and sent, original and stored bytes of objects written, savings
// ratio, objects by storage kind, requests by operation and status, and a
// latency histogram per operation. The short forms answer only unsigned
// requests without a query, so a bucket named "health" or "metrics" still
// works for signed S3 calls. Every request is logged as one structured
// log/slog line (request id, operation, status, bytes, latency, storage).
//
// # Limits
//
// Path-style addressing only (no virtual-hosted buckets). Keys follow
// store.ValidateKey: no empty, "." or ".." segments, so folder markers
// ("dir/") and "a//b" are refused with InvalidArgument where AWS accepts
// them. Signature Version 2 is accepted for presigned URLs only (what the
// aws CLI v1's `s3 presign` makes); signed requests need SigV4. Multipart
// uploads live in this process's memory (their parts on disk) and do not
// survive a restart; completing one spools the object once more for the
// delta engine, so a multipart object needs up to three times its size in
// temporary disk. There is no cap on concurrent uploads or spool space.
// Request headers over Config.MaxHeaderBytes (default 16 KiB) get
// RequestHeaderSectionTooLarge; beyond 1 MiB net/http itself refuses the
// request with a plain 431 before any handler runs.
// Bucket creation dates are the server's start time (the Store interface
// keeps none). ETags are the stored object's opaque version tag, not an
// MD5 of the content (parts' ETags are MD5s).
//
// # Why the protocol layer is hand-written
//
// Evaluated: github.com/johannesboyne/gofakes3 v1.2.0 (the newest the module
// proxy serves). Its Backend interface could sit on delta.Client, but it
// keeps multipart parts as []byte in memory and assembles the whole object
// in memory on completion, verifies no signatures (it only strips
// aws-chunked framing), and has no hook for our response header; the
// streaming and auth requirements would have meant forking it.
// versitygw's s3api packages are full-featured but pull about 60 modules
// (Fiber, Azure SDK, NATS, Kafka...) into the build. The S3 REST surface
// needed here is small and well specified, so it is written against
// net/http directly; SigV4 is about 300 lines on crypto/hmac.
package server
