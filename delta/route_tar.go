package delta

import (
	"archive/tar"
	"errors"
	"io"
)

// tarScanMaxMembers bounds the headers mostlyExecutables reads.
const tarScanMaxMembers = 20000

// mostlyExecutables reports whether an uncompressed tar archive of size
// bytes, read through r, holds mostly executables: the members whose data
// starts like an ELF, PE or Mach-O file make up at least half of the bytes
// of all regular members. Release tarballs of binaries are like that, and
// bsdiff stores their new versions in well under half of VCDIFF's bytes;
// on tars of text (sources, JavaScript) VCDIFF is smaller, so those keep
// it. Only headers and the first bytes of each member are read (the tar
// reader seeks over member data); a damaged archive counts as what was
// read before the damage.
func mostlyExecutables(r io.ReaderAt, size int64) bool {
	tr := tar.NewReader(io.NewSectionReader(r, 0, size))
	var exe, total int64
	head := make([]byte, SniffLen)
	for i := 0; i < tarScanMaxMembers; i++ {
		h, err := tr.Next()
		if err != nil {
			break // io.EOF, or a damaged or truncated archive
		}
		if h.Typeflag != tar.TypeReg || h.Size <= 0 {
			continue
		}
		total += h.Size
		n, err := io.ReadFull(tr, head[:min(int64(len(head)), h.Size)])
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if IsExecutable("", head[:n]) {
			exe += h.Size
		}
	}
	return total > 0 && 2*exe >= total
}
