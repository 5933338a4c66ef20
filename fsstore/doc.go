// Package fsstore is a store.Store on a local directory: the embedded
// default backend of deltaglider.
//
// # Layout
//
// Each bucket is a subdirectory of the store's directory and each key a
// file below it ("releases/v1/app.zip" in bucket "b" is the file
// b/releases/v1/app.zip). Every path is resolved through an os.Root, so no
// key can reach outside the directory; keys are also checked by
// store.ValidateKey ("../x", "/x", NUL bytes, empty, "." and ".." segments
// are store.ErrInvalidKey). The first segment ".dg" is reserved: the
// directory bucket/.dg holds the store's temporary files (.dg/tmp),
// sidecar metadata (.dg/meta) and lock files (.dg/locks) and is never
// listed. As on file-system-backed S3 servers, a key cannot also be a
// "/"-prefix of another key ("a" and "a/b"); such a Put fails with
// store.ErrInvalidKey.
//
// # Writes
//
// Put streams the body into a temporary file in bucket/.dg/tmp while
// computing its MD5, attaches the metadata, fsyncs the file, moves it to
// the key with rename(2) and fsyncs the directory (and the parents of any
// directories it had to create). Readers therefore see the old or the new
// object, never a partial one, and a crash leaves at most a temporary file,
// which New and Cleanup remove once it is older than an hour (see
// WithTempMaxAge). A conditional create (PutOptions.IfNotExists) publishes
// with link(2) instead, which fails if the key exists: among any number of
// writers, in any number of processes, exactly one wins.
//
// # Metadata and ETag
//
// Metadata, content type and ETag are one JSON object in the extended
// attribute user.dg.metadata of the data file, the attribute the DeltaGlider
// proxy's filesystem backend uses. The object follows the proxy's
// FileMetadata layout: the DeltaGlider keys it knows (dg-tool,
// dg-file-sha256, dg-file-size, dg-ref-key, ...) are top-level fields
// (tool, file_sha256, file_size, ref_key, ...), other keys are under
// "user_metadata", the content type is "content_type", and this package's
// own facts are under "dg_store". Blobs written by the proxy are read the
// same way, so their dg-* metadata appears as it would through S3. The
// xattr travels with the file (cp -a, rsync -X, tar --xattrs) and is
// replaced together with the data by the rename.
//
// Where xattrs are not supported (or for a blob too large for the file
// system, or when forced with WithMetadata(MetadataSidecar)) the same JSON
// goes to a sidecar file bucket/.dg/meta/<key>.dgmeta. The sidecar records
// the inode of its data file, so a sidecar left from another version is
// ignored; writers and readers of one key are serialized with flock(2)
// (cross-process) so a reader never pairs new data with old metadata.
//
// The ETag is the hex MD5 of the content computed during Put (what S3
// reports for a single-part upload), stored in the blob with the file's
// size and modification time. If the file no longer matches them (it was
// written by another tool, or the metadata was lost in a copy), the ETag
// is derived from inode, size and modification time ("w-<ino>-<size>-
// <mtime>"), which still changes whenever the file is replaced.
//
// # Listing
//
// List walks the tree depth first in byte order of the keys, reading one
// directory at a time, so memory grows with the largest directory on the
// current path, not with the number of keys; subtrees before StartAfter,
// outside the prefix or folded into a common prefix are not read.
package fsstore
