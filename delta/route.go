package delta

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// eligibleExtensions is the union of the Python CLI's list
// (core/delta_extensions.py) and the Rust proxy's (file_router.rs).
// Compound extensions need no special case: a suffix match on ".gz" covers
// ".tar.gz".
var eligibleExtensions = []string{
	// both tools
	".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".jar", ".war", ".ear",
	".rar", ".7z", ".dmg", ".iso",
	// Python only
	".gz", ".bz2", ".xz", ".pkg", ".deb", ".rpm", ".apk",
	// proxy only
	".sql", ".dump", ".bak", ".backup",
	// ours: executables and libraries (see IsExecutable; bsdiff deltas);
	// versioned shared objects (".so.1.2") are matched by executableName
	".exe", ".dll", ".so", ".dylib", ".sys",
}

// executableExtensions are the names IsExecutable accepts without looking
// at the content.
var executableExtensions = []string{".exe", ".dll", ".so", ".dylib", ".sys"}

// IsExecutable reports whether a file is an executable or shared library:
// ELF, PE or Mach-O by its first bytes (head, as for SniffKind), or an
// executable extension (".so.1.2" counts as ".so"). CodecAuto sends these
// to bsdiff, whose approximate matches capture the shifted addresses that
// make every page of a rebuilt binary differ from the last.
func IsExecutable(name string, head []byte) bool {
	switch SniffKind(head) {
	case "elf", "pe", "macho", "macho-fat":
		return true
	}
	return executableName(strings.ToLower(name))
}

// executableName reports whether a lower-cased file name has an
// executable extension.
func executableName(l string) bool {
	if i := strings.Index(l, ".so."); i > 0 && strings.Trim(l[i+4:], "0123456789.") == "" {
		return true
	}
	for _, ext := range executableExtensions {
		if strings.HasSuffix(l, ext) && len(l) > len(ext) {
			return true
		}
	}
	return false
}

// EligibleByName reports whether a file name has a delta-eligible extension
// (case-insensitive).
func EligibleByName(name string) bool {
	l := strings.ToLower(name)
	for _, ext := range eligibleExtensions {
		if strings.HasSuffix(l, ext) && len(l) > len(ext) {
			return true
		}
	}
	return executableName(l)
}

// SniffLen is how many leading bytes EligibleByContent looks at.
const SniffLen = 512

// Kind names of sniffed formats.
var magics = []struct {
	kind   string
	offset int
	magic  []byte
}{
	{"zip", 0, []byte("PK\x03\x04")},
	{"zip", 0, []byte("PK\x05\x06")}, // empty zip
	{"gzip", 0, []byte{0x1f, 0x8b}},
	{"xz", 0, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{"zstd", 0, []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"bzip2", 0, []byte("BZh")},
	{"7z", 0, []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}},
	{"rar", 0, []byte("Rar!\x1a\x07")},
	{"tar", 257, []byte("ustar")},
	{"elf", 0, []byte("\x7fELF")},
	{"macho", 0, []byte{0xfe, 0xed, 0xfa, 0xce}},
	{"macho", 0, []byte{0xfe, 0xed, 0xfa, 0xcf}},
	{"macho", 0, []byte{0xce, 0xfa, 0xed, 0xfe}},
	{"macho", 0, []byte{0xcf, 0xfa, 0xed, 0xfe}},
	{"macho-fat", 0, []byte{0xca, 0xfe, 0xba, 0xbe}}, // also Java class files; both delta well
	{"rpm", 0, []byte{0xed, 0xab, 0xee, 0xdb}},
	{"ar", 0, []byte("!<arch>\n")}, // .deb, static libraries
	{"squashfs", 0, []byte("hsqs")},
	{"squashfs", 0, []byte("sqsh")},
	{"iso9660", 0x8001, []byte("CD001")}, // beyond SniffLen: only with a long head
	{"wasm", 0, []byte("\x00asm")},
	{"cpio", 0, []byte("070701")},
	{"cpio", 0, []byte("070707")},
	{"lz4", 0, []byte{0x04, 0x22, 0x4d, 0x18}},
	{"sqlite", 0, []byte("SQLite format 3\x00")},
	{"pgdump", 0, []byte("PGDMP")},
	{"qcow", 0, []byte("QFI\xfb")},
	{"vhdx", 0, []byte("vhdxfile")},
}

// SniffKind returns the format name recognised from the first bytes of a
// file, or "" if none.
func SniffKind(head []byte) string {
	for _, m := range magics {
		if len(head) >= m.offset+len(m.magic) && bytes.Equal(head[m.offset:m.offset+len(m.magic)], m.magic) {
			return m.kind
		}
	}
	// PE: "MZ" then the PE header offset at 0x3c pointing at "PE\0\0".
	if len(head) >= 0x40 && head[0] == 'M' && head[1] == 'Z' {
		off := int(binary.LittleEndian.Uint32(head[0x3c:]))
		if off+4 <= len(head) && bytes.Equal(head[off:off+4], []byte("PE\x00\x00")) {
			return "pe"
		}
		if off+4 > len(head) {
			return "pe" // MZ header with the PE header beyond what we read
		}
	}
	return ""
}

// EligibleByContent reports whether the first bytes of a file identify a
// format that delta-compresses well across versions (archives, packages,
// images, executables).
func EligibleByContent(head []byte) bool { return SniffKind(head) != "" }
