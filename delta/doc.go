// Package delta is the delta object store: it keeps many versions of large
// files as one reference per "deltaspace" plus small VCDIFF deltas, on any
// store.Store (a local directory, S3, or memory), in the bucket layout of
// DeltaGlider (the Python CLI and the Rust proxy) so that buckets can be
// shared with those tools in both directions.
//
// # Layout
//
// The deltaspace of a key is its parent prefix (everything before the last
// "/"). For a logical key P/name the store holds one of:
//
//   - P/name.delta: a VCDIFF (or, for executables, bsdiff) patch of the
//     object against P/reference.bin,
//     for delta-eligible objects (archives, packages, images, executables:
//     chosen by file extension and by sniffing the first bytes);
//   - P/name: the object stored directly, for everything else, for small
//     objects, when the caller asks for NoDelta, and when the delta would be
//     larger than MaxRatio × the original (the ratio guard really falls back);
//   - nothing of ours at all: objects without DeltaGlider metadata are plain
//     objects and are served as they are.
//
// P/reference.bin is a verbatim copy of the first delta-eligible object put
// into P/. As the Python tool does, that first object also gets a "zero-diff"
// delta against itself, so every eligible object reads as reference + delta
// and the Python tool can find it under its own name (its dg-note is
// "delta", as the proxy writes it: the proxy's filesystem backend refuses
// the Python tool's "zero-diff (reference identical)", which we read). reference.bin is
// created with a conditional create, so two writers racing on an empty
// deltaspace agree on one reference. Keys named reference.bin or ending in
// .delta are reserved and rejected (ErrReservedKey).
//
// # Metadata
//
// Every object we write carries the canonical DeltaGlider v6 metadata
// (dg-tool, dg-original-name, dg-file-sha256, dg-file-size, dg-created-at,
// dg-note, the proxy's dg-md5 of the original; dg-source-name for
// references; for deltas dg-ref-key, dg-ref-path, dg-ref-sha256,
// dg-delta-size, dg-delta-cmd; dg-compression=none for direct objects):
// what the Python tool reads, and every field the proxy needs, also from
// the user.dg.metadata xattr fsstore writes. Readers accept the
// four historical spellings of every field (dg-file-sha256, dg_file_sha256,
// file_sha256, file-sha256). dg-codec names the delta codec (absent means
// vcdiff, the xdelta3-compatible format every DeltaGlider reads). VCDIFF
// deltas carry xdelta3's LZMA secondary compression by default, as stock
// xdelta3 -9 writes them (WithSecondary).
//
// # Codecs
//
// By default (CodecAuto) executables and shared libraries — ELF, PE and
// Mach-O by their first bytes, or .exe/.dll/.so/.dylib by name — and
// uncompressed tar archives whose bytes are mostly such files, up to
// AutoBsdiffMaxInput, are stored as bsdiff deltas (dg-codec: bsdiff),
// typically a third of the VCDIFF delta's size: a rebuilt binary shifts
// addresses on every page, which bsdiff's approximate matches absorb and
// exact-match VCDIFF cannot. Neither DeltaGlider tool reads bsdiff deltas;
// WithCodec(CodecVCDIFF) keeps every delta readable by them. Everything
// else is VCDIFF.
//
// # Integrity
//
// The SHA-256 of every original is recorded when it is written and checked
// on every whole-object read while the data streams: the reader returned by
// Get reports ErrIntegrity instead of io.EOF when the bytes do not match.
// A range read of a delta without secondary compression decodes only the
// windows it needs (each checked by its Adler-32, against a reference whose
// SHA-256 is checked); set GetOptions.VerifyWhole to decode everything and
// check the SHA-256. Deltas written
// by xdelta3 with external compression (app header fields /G/, /B/, /X/, /Z/,
// /Y/ — the Python tool writes them for .gz inputs) are reconstructed only if
// recompression reproduces the recorded SHA-256 (ErrExternalCompression
// otherwise); this package never writes them.
//
// # Memory and streaming
//
// Targets are never held in memory: Put hashes a regular file in place or
// spools any other reader to an unlinked temporary file, and streams it
// through the encoder; deltas are spooled to disk so the ratio guard can
// decide before anything is stored. The encoder keeps the reference and
// its index in memory (see vcdiff.WithLevel), the decoder one window.
// References are read from a local content-addressed cache (Cache).
//
// # References and deletion
//
// Delete never removes reference.bin, unlike the Python tool: removing it
// while another writer encodes a delta against it would orphan that delta.
// Unused references are reclaimed by Purge, which re-checks for deltas after
// deleting and repairs any that appeared meanwhile; writers likewise re-check
// that their reference still exists after storing a delta.
//
// # Concurrent writers of one key
//
// A Put writes its own variant of the key (key or key.delta) and then
// removes the other one. Two concurrent Puts of the same key that store it
// differently (one as a delta, one directly) could each remove the other's
// object; so before returning, a Put checks that the key still resolves and
// stores its object again if it does not (up to four attempts, then an
// error). Every removal is followed by its writer's check, so whenever a
// Put has returned success the key holds one of the concurrently written
// objects (which one is not defined, as with plain S3 overwrites); it is
// never left empty. When both variants exist (a writer stopped between
// writing and removing), readers take the newer one.
package delta
