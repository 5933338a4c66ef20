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

func conformance(opts ...Option) storetest.NewStoreFunc {
	return func(t *testing.T) (store.Store, string) {
		s := newTestStore(t, opts...)
		if err := s.CreateBucket(t.Context(), "bucket"); err != nil {
			t.Fatal(err)
		}
		return s, "bucket"
	}
}

func TestConformanceXattr(t *testing.T) {
	storetest.Run(t, conformance(WithMetadata(MetadataXattr)))
}

func TestConformanceSidecar(t *testing.T) {
	storetest.Run(t, conformance(WithMetadata(MetadataSidecar)))
}
