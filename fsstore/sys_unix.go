//go:build linux || darwin

package fsstore

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// withFd runs fn on f's descriptor without putting it in blocking mode.
func withFd(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// getXattr returns the metadata blob of f, or (nil, nil) if it has none.
func getXattr(f *os.File) ([]byte, error) {
	var out []byte
	err := withFd(f, func(fd int) error {
		buf := make([]byte, 4096)
		for {
			n, err := unix.Fgetxattr(fd, XattrName, buf)
			switch {
			case err == nil:
				out = buf[:n]
				return nil
			case errors.Is(err, unix.ENODATA), errors.Is(err, noAttr), errors.Is(err, unix.ENOTSUP):
				return nil
			case errors.Is(err, unix.ERANGE) && len(buf) < maxBlob:
				buf = make([]byte, maxBlob)
			default:
				return err
			}
		}
	})
	if err != nil {
		return nil, &os.PathError{Op: "getxattr", Path: f.Name(), Err: err}
	}
	return out, nil
}

// setXattr stores the metadata blob on f.
func setXattr(f *os.File, data []byte) error {
	err := withFd(f, func(fd int) error { return unix.Fsetxattr(fd, XattrName, data, 0) })
	if err != nil {
		return &os.PathError{Op: "setxattr", Path: f.Name(), Err: err}
	}
	return nil
}

// xattrUnsupported reports whether err means "this file system cannot
// keep this xattr" (not supported at all, or the value is too large).
func xattrUnsupported(err error) bool {
	return errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.E2BIG) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.ERANGE)
}

// flock takes (exclusive or shared) or releases an advisory lock on f.
func flock(f *os.File, how int) error {
	return withFd(f, func(fd int) error {
		for {
			err := unix.Flock(fd, how)
			if err != syscall.EINTR {
				return err
			}
		}
	})
}

const (
	lockEx = unix.LOCK_EX
	lockSh = unix.LOCK_SH
)

// inode returns the inode number of fi (0 if unknown).
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
