package fsstore

import (
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
	"github.com/deltaglider-go/deltaglider/store/storetest"
)

func newTestStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := New(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func conformance(fast bool, opts ...Option) storetest.NewStoreFunc {
	return func(t *testing.T) (store.Store, string) {
		dir := t.TempDir()
		if fast {
			dir = fastTempDir(t)
		}
		s, err := New(dir, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.CreateBucket(t.Context(), "bucket"); err != nil {
			t.Fatal(err)
		}
		return s, "bucket"
	}
}

// TestConformanceXattr runs the suite on the default test directory
// (a real disk file system, with fsync).
func TestConformanceXattr(t *testing.T) {
	storetest.Run(t, conformance(false, WithMetadata(MetadataXattr)))
}

// TestConformanceSidecar runs the suite with metadata forced into sidecar
// files, on tmpfs where available (the code paths do not depend on it).
func TestConformanceSidecar(t *testing.T) {
	storetest.Run(t, conformance(true, WithMetadata(MetadataSidecar)))
}
