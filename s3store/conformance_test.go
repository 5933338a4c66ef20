package s3store_test

import (
	"testing"

	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
	"github.com/deltaglider-go/deltaglider/store/storetest"
)

// TestConformance runs the store conformance suite against the S3 test
// server (versitygw), one fresh bucket per subtest.
func TestConformance(t *testing.T) {
	ep := endpoint(t)
	s := newClientStore(t, ep)
	storetest.Run(t, func(t *testing.T) (store.Store, string) {
		return s, newBucket(t, s)
	})
}

// TestConformanceMultipart runs the suite again with the smallest part
// size, so that the suite's large objects (6 MiB + 123 bytes) and its
// cancelled and failing 4 MiB bodies go through the multipart path.
func TestConformanceMultipart(t *testing.T) {
	ep := endpoint(t)
	s := newClientStore(t, ep, s3store.WithPartSize(s3store.MinPartSize), s3store.WithConcurrency(2))
	storetest.Run(t, func(t *testing.T) (store.Store, string) {
		return s, newBucket(t, s)
	}, storetest.LargeSize(3*s3store.MinPartSize+12345))
}
