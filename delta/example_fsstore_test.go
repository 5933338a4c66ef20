package delta_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/fsstore"
	"github.com/deltaglider-go/deltaglider/store"
)

func ExampleNew_fsstore() {
	dir, err := os.MkdirTemp("", "dg-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The embedded store: buckets are directories under dir. s3store.New
	// gives the same store.Store on S3.
	s, err := fsstore.New(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "releases"); err != nil {
		log.Fatal(err)
	}
	c, err := delta.New(s, delta.WithoutCache())
	if err != nil {
		log.Fatal(err)
	}
	v1 := "PK\x03\x04" + strings.Repeat("release 1.0 of the app, many files. ", 3000)
	v2 := strings.Replace(v1, "1.0", "1.1", 1)
	for _, v := range []struct{ key, body string }{{"app/app-1.0.zip", v1}, {"app/app-1.1.zip", v2}} {
		info, err := c.Put(ctx, "releases", v.key, strings.NewReader(v.body), delta.PutOptions{Size: int64(len(v.body))})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(info.StoredKey, info.StoredAs, info.StoredSize < 1000)
	}
	rc, _, err := c.Get(ctx, "releases", "app/app-1.1.zip", delta.GetOptions{Length: -1})
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc) // SHA-256 verified before io.EOF
	fmt.Println(string(got) == v2, err)
	_, err = s.Stat(ctx, "releases", "app/reference.bin")
	fmt.Println(err == nil)
	var _ store.Store = s
	// Output:
	// app/app-1.0.zip.delta delta true
	// app/app-1.1.zip.delta delta true
	// true <nil>
	// true
}
