package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/deltaglider-go/deltaglider/store"
)

func Example() {
	ctx := context.Background()
	s := store.NewMemory()
	if err := s.CreateBucket(ctx, "releases"); err != nil {
		log.Fatal(err)
	}
	body := "hello, store"
	_, err := s.Put(ctx, "releases", "v1/app.txt", strings.NewReader(body), store.PutOptions{
		Size:     int64(len(body)),
		Metadata: map[string]string{"DG-Note": "reference"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// A conditional create of the same key fails.
	_, err = s.Put(ctx, "releases", "v1/app.txt", strings.NewReader("other"), store.PutOptions{Size: 5, IfNotExists: true})
	fmt.Println(errors.Is(err, store.ErrExist))

	// A ranged read; metadata keys come back lower-cased.
	rc, info, err := s.Get(ctx, "releases", "v1/app.txt", 7, 5)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	fmt.Printf("%s %d %s\n", b, info.Size, info.Metadata["dg-note"])

	_, err = s.Stat(ctx, "releases", "v2/app.txt")
	fmt.Println(errors.Is(err, store.ErrNotExist))
	// Output:
	// true
	// store 12 reference
	// true
}

func ExampleStore_List() {
	ctx := context.Background()
	s := store.NewMemory()
	s.CreateBucket(ctx, "b01")
	for _, k := range []string{"a/1", "a/2", "a-b", "b/x/y", "c"} {
		s.Put(ctx, "b01", k, strings.NewReader(""), store.PutOptions{Size: 0})
	}
	// With a delimiter, keys below "a/" and "b/" fold into common prefixes;
	// note "a-b" sorts before "a/" in byte order.
	s.List(ctx, "b01", store.ListOptions{Delimiter: "/"}, func(e store.Entry) error {
		fmt.Println(e.Key, e.IsPrefix)
		return nil
	})
	// Output:
	// a-b false
	// a/ true
	// b/ true
	// c false
}

func ExampleNewReaderAt() {
	ctx := context.Background()
	s := store.NewMemory()
	s.CreateBucket(ctx, "refs")
	ref := strings.Repeat("0123456789", 10000)
	s.Put(ctx, "refs", "reference.bin", strings.NewReader(ref), store.PutOptions{Size: int64(len(ref))})

	r, err := store.NewReaderAt(ctx, s, "refs", "reference.bin", store.BlockSize(16<<10), store.CacheBlocks(8))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	p := make([]byte, 4)
	if _, err := r.ReadAt(p, 50_003); err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Size(), string(p))
	// Output: 100000 3456
}
