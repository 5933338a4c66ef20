// Package djw implements xdelta3's "DJW" secondary compressor (VCDIFF
// secondary-compressor ID 1): a semi-static, multi-table Huffman coder in the
// style of bzip2's entropy stage, applied independently to one VCDIFF section
// (data, instructions or addresses) of one window. No state carries over
// between sections or windows.
//
// The caller frames a compressed section as varint(decoded size) followed by
// the DJW bytes; this package sees only the DJW bytes and is told the decoded
// size, exactly like xdelta3's xd3_decode_secondary. The format, written from
// the facts of xdelta3 3.0.11 (xdelta3-djw.h, xdelta3-second.h):
//
// Bits. Bits fill each byte starting at its least significant bit. A
// fixed-width field of n bits is written most significant bit first; a
// Huffman code is written starting with its first (most significant) bit.
// A decoder pulls a new byte only when it needs a bit, so a stream consists
// of exactly ceil(bits/8) bytes and the unused high bits of the last byte
// are padding (written as zero).
//
// Stream layout:
//
//	3 bits   G-1, the number of code tables ("groups"), G in 1..8
//	5 bits   only if G > 1: S/5-1, the sector size S in 5..160 bytes
//	         (with G == 1 the whole section is one sector)
//	4 bits   E; the next 7+E code-length-code lengths are present
//	4 bits   × (7+E): lengths of the code-length code over 22 symbols
//	         (RUN_0, RUN_1, MTF positions 1..20), 0 = unused, max 15;
//	         missing trailing entries are 0
//	...      the G×256 symbol code lengths (max 20 bits, 0 = unused),
//	         move-to-front + run-length coded with the code-length code
//	         (see below); the MTF list starts as
//	         0 4 5 6 7 8 9 10 3 11 2 12 13 1 14 15 16 17 18 19 20.
//	         For tables after the first, symbols whose length in the
//	         previous table is 0 are skipped (implicitly 0, no bits).
//	3 bits   × (G+1): only if G > 1: lengths of the selector code over
//	         G+1 symbols (RUN_0, RUN_1, MTF positions 1..G-1), max 7
//	...      only if G > 1: one table number per sector, move-to-front
//	         (list starts 0..G-1) + run-length coded with the selector code
//	...      the section's bytes, each sector coded with its table
//
// Move-to-front + run-length ("1-2 coding", after bzip2): a value found at
// MTF position j > 0 is sent as symbol j+1 and moved to the front; a run of
// r > 0 repeats of the front value is sent as the bijective base-2 digits of
// r, least significant first, RUN_0 meaning digit 1 and RUN_1 digit 2.
//
// Huffman codes are canonical: codes are assigned in order of increasing
// length and, within one length, increasing symbol value.
//
// The decoder accepts every stream stock xdelta3 writes and rejects
// over-subscribed codes, undefined codes, truncated input, input left over
// after the last symbol and decoded sizes the input cannot possibly hold.
// The encoder writes streams stock xdelta3 -d decodes.
package djw
