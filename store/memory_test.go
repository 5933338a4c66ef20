package store_test

import (
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
	"github.com/deltaglider-go/deltaglider/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, string) {
		s := store.NewMemory()
		if err := s.CreateBucket(t.Context(), "bucket"); err != nil {
			t.Fatal(err)
		}
		return s, "bucket"
	})
}
