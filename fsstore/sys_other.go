//go:build !(linux || darwin)

package fsstore

import (
	"errors"
	"os"
)

// On other systems metadata always lives in sidecar files and
// cross-process locking of sidecar updates is not available.

func getXattr(*os.File) ([]byte, error) { return nil, nil }
func setXattr(*os.File, []byte) error   { return errors.ErrUnsupported }
func xattrUnsupported(err error) bool   { return errors.Is(err, errors.ErrUnsupported) }
func flock(*os.File, int) error         { return nil }
func inode(os.FileInfo) uint64          { return 0 }

const (
	lockEx = 2
	lockSh = 1
)
