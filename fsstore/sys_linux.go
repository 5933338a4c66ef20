package fsstore

import "golang.org/x/sys/unix"

// noAttr is the error getxattr returns for a missing attribute.
const noAttr = unix.ENODATA
