package fsstore

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

func BenchmarkPut(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		for _, sync := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%d/sync=%v", size, sync), func(b *testing.B) {
				opts := []Option{WithMetadata(MetadataXattr)}
				if !sync {
					opts = append(opts, WithoutSync())
				}
				s, err := New(b.TempDir(), opts...)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				s.CreateBucket(b.Context(), "bkt")
				body := bytes.Repeat([]byte("x"), size)
				md := map[string]string{"dg-file-sha256": "abc", "dg-file-size": "123"}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					key := fmt.Sprintf("d%02d/k%08d", i%16, i)
					if _, err := s.Put(b.Context(), "bkt", key, bytes.NewReader(body), store.PutOptions{Size: int64(size), Metadata: md}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkGet(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			s, err := New(b.TempDir(), WithoutSync())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			s.CreateBucket(ctx, "bkt")
			body := bytes.Repeat([]byte("x"), size)
			if _, err := s.Put(ctx, "bkt", "dir/key", bytes.NewReader(body), store.PutOptions{Size: int64(size)}); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				rc, _, err := s.Get(ctx, "bkt", "dir/key", 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(rc, buf); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		})
	}
}

// BenchmarkList lists a bucket of keys spread over 100 directories; the
// reported ns/op is per listed key. Set -benchtime to e.g. 200000x for a
// listing of that many keys.
func BenchmarkList(b *testing.B) {
	s, err := New(b.TempDir(), WithoutSync(), WithMetadata(MetadataXattr))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	s.CreateBucket(ctx, "bkt")
	n := b.N
	for i := range n {
		key := fmt.Sprintf("d%02d/k%08d", i%100, i)
		if _, err := s.Put(ctx, "bkt", key, bytes.NewReader(nil), store.PutOptions{Size: 0}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	count := 0
	if err := s.List(ctx, "bkt", store.ListOptions{}, func(store.Entry) error { count++; return nil }); err != nil {
		b.Fatal(err)
	}
	if count != n {
		b.Fatalf("listed %d of %d", count, n)
	}
}
