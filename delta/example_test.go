package delta_test

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

func Example() {
	ctx := context.Background()
	s := store.NewMemory()
	if err := s.CreateBucket(ctx, "releases"); err != nil {
		panic(err)
	}
	c, err := delta.New(s, delta.WithoutCache())
	if err != nil {
		panic(err)
	}
	v1 := bytes.Repeat([]byte("PK\x03\x04 version one of a release archive "), 2000)
	v2 := append(bytes.Clone(v1[:40000]), []byte("a small change")...)
	v2 = append(v2, v1[40000:]...)

	i1, _ := c.Put(ctx, "releases", "app/app-1.0.zip", bytes.NewReader(v1), delta.PutOptions{Size: int64(len(v1))})
	i2, _ := c.Put(ctx, "releases", "app/app-1.1.zip", bytes.NewReader(v2), delta.PutOptions{Size: int64(len(v2))})
	fmt.Println(i1.StoredKey, i1.StoredAs, i1.CreatedReference)
	fmt.Println(i2.StoredKey, i2.StoredAs, i2.StoredSize < 200)

	rc, info, err := c.Get(ctx, "releases", "app/app-1.1.zip", delta.GetOptions{Length: -1})
	if err != nil {
		panic(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc) // the SHA-256 is checked before io.EOF
	fmt.Println(bytes.Equal(got, v2), err, info.Size)
	// Output:
	// app/app-1.0.zip.delta delta true
	// app/app-1.1.zip.delta delta true
	// true <nil> 76014
}
