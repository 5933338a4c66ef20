package delta

import (
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

func TestEdgeCases(t *testing.T) {
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s, WithMinDeltaSize(0))
	// An empty eligible object seeds an empty reference; later objects
	// still round-trip against it.
	put(t, c, ts.bucket, "e/empty.zip", nil)
	mustGet(t, c, ts.bucket, "e/empty.zip", nil)
	vs := versions(80, 1, 10000)
	info := put(t, c, ts.bucket, "e/a.zip", vs[0])
	if info.StoredAs != Direct || info.Reason != "ratio" {
		t.Errorf("against an empty reference: %+v", info)
	}
	mustGet(t, c, ts.bucket, "e/a.zip", vs[0])
	// Keys at the bucket root form the empty deltaspace.
	info = put(t, c, ts.bucket, "root.zip", vs[0])
	if info.StoredKey != "root.zip.delta" || info.RefKey != "reference.bin" {
		t.Errorf("root key: %+v", info)
	}
	mustGet(t, c, ts.bucket, "root.zip", vs[0])
	// Unicode names and metadata values.
	put(t, c, ts.bucket, "ü/ñame €.zip", vs[0], func(o *PutOptions) { o.Metadata = map[string]string{"x-note": "héllo"} })
	got := mustGet(t, c, ts.bucket, "ü/ñame €.zip", vs[0])
	if got.Metadata["x-note"] != "héllo" {
		t.Errorf("metadata %v", got.Metadata)
	}
}
