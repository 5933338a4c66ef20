package bsdiff

import "encoding/binary"

// Format identifies a patch container. Both share the bsdiff model
// (control triples, a bytewise-difference stream and an extra stream) and
// differ in framing and entropy coding.
type Format int

const (
	// FormatUnknown is what Detect returns for anything else.
	FormatUnknown Format = iota
	// FormatBSDIFF40 is Colin Percival's classic format (bsdiff 4.x, the
	// Debian/FreeBSD bsdiff and bspatch): a 32-byte header "BSDIFF40",
	// compressed control length, compressed diff length, new size, then
	// three bzip2 streams (control, diff, extra).
	FormatBSDIFF40
	// FormatBSDIFF43 is the format of mendsley/bsdiff (and of the Go
	// bindings built on it): a 24-byte header "ENDSLEY/BSDIFF43" plus the
	// new size, then one bzip2 stream of interleaved control triples, diff
	// bytes and extra bytes.
	FormatBSDIFF43
)

const (
	magic40 = "BSDIFF40"
	magic43 = "ENDSLEY/BSDIFF43"

	header40Len = 32 // magic + ctrlLen + diffLen + newSize
	header43Len = 24 // magic + newSize
)

// String returns the format's magic-derived name.
func (f Format) String() string {
	switch f {
	case FormatBSDIFF40:
		return "BSDIFF40"
	case FormatBSDIFF43:
		return "ENDSLEY/BSDIFF43"
	}
	return "unknown"
}

// Detect reports the format of a patch from its first bytes (16 bytes are
// enough for every format; fewer may yield FormatUnknown).
func Detect(magic []byte) Format {
	switch {
	case len(magic) >= len(magic43) && string(magic[:len(magic43)]) == magic43:
		return FormatBSDIFF43
	case len(magic) >= len(magic40) && string(magic[:len(magic40)]) == magic40:
		return FormatBSDIFF40
	}
	return FormatUnknown
}

// putInt stores x as bsdiff's 8-byte sign-magnitude little-endian integer
// (magnitude in the low 63 bits, sign in the top bit of the last byte).
func putInt(b []byte, x int64) {
	u := uint64(x)
	if x < 0 {
		u = uint64(-x) | 1<<63
	}
	binary.LittleEndian.PutUint64(b, u)
}

// getInt reads a sign-magnitude integer written by putInt. "Negative zero"
// reads as 0. The magnitude is at most 1<<63-1, so the result never
// overflows.
func getInt(b []byte) int64 {
	u := binary.LittleEndian.Uint64(b)
	m := int64(u &^ (1 << 63))
	if u>>63 != 0 {
		return -m
	}
	return m
}
