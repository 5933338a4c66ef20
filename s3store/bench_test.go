package s3store_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

// BenchmarkTransfer measures Put, Get and the parallel Download against
// the test server on loopback (client and server share the machine).
func BenchmarkTransfer(b *testing.B) {
	ep := endpoint(b)
	s := newClientStore(b, ep)
	bucket := newBucket(b, s)
	for _, size := range []int64{64 << 10, 32 << 20} {
		name := fmt.Sprintf("%dKiB", size>>10)
		b.Run("put/"+name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Put(b.Context(), bucket, "bench/"+name, &patternReader{seed: 1, size: size}, store.PutOptions{Size: size}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("get/"+name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				rc, _, err := s.Get(b.Context(), bucket, "bench/"+name, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, rc); err != nil || n != size {
					b.Fatal(n, err)
				}
				rc.Close()
			}
		})
		b.Run("download/"+name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			w := &memWriterAt{buf: make([]byte, size)}
			for b.Loop() {
				if _, err := s.Download(b.Context(), bucket, "bench/"+name, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
