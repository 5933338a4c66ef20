// Package vcdiff implements the VCDIFF delta format (RFC 3284) as written and
// read by xdelta3 3.0.x, including its extensions: per-window Adler-32
// checksums, the application header, and LZMA and DJW secondary compression
// of the data, instruction and address sections. It also reads open-vcdiff's
// 'S' variant (interleaved sections, varint checksum).
//
// The API follows compress/flate: a patch is decoded from an io.Reader
// against a source given as an io.ReaderAt plus its size, and encoded to an
// io.Writer from a target stream. One-shot helpers work on byte slices.
//
// Encoding (NewEncoder, NewEncoderSource, Encode) matches the target
// against the whole source through a sampled index and writes plain VCDIFF
// (no secondary compression); WithSecondaryHint tunes the parse for the
// compressor a Recoder will then apply. A Recoder (Recode) rewrites any
// patch with LZMA or DJW sections in the framing stock xdelta3 -d reads:
// LZMA through this package's own LZMA2 encoder: a fast mode (one symbol at
// a time, one byte of lookahead, hash chains) at recode levels 1-6, and a
// price-driven optimal parse over a binary-tree match finder at 7-9.
//
// Decoding holds one target window (at most 16 MiB by default) plus section
// buffers in memory, never the whole target. Every length declared by a patch
// is checked against the remaining input and against configurable caps before
// anything is allocated; malformed input yields an error, never a panic.
package vcdiff
