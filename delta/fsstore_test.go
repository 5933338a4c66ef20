package delta

import (
	"testing"

	"github.com/deltaglider-go/deltaglider/fsstore"
	"github.com/deltaglider-go/deltaglider/store"
)

func init() {
	moreStores = append(moreStores, struct {
		name string
		open func(t *testing.T) store.Store
	}{"fsstore", func(t *testing.T) store.Store {
		s, err := fsstore.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}})
}
