package fsstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/deltaglider-go/deltaglider/fsstore"
	"github.com/deltaglider-go/deltaglider/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "fsstore-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := fsstore.New(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "releases"); err != nil {
		log.Fatal(err)
	}
	body := "release notes"
	info, err := s.Put(ctx, "releases", "v1.0/notes.txt", strings.NewReader(body), store.PutOptions{
		Size:        int64(len(body)),
		ContentType: "text/plain",
		Metadata:    map[string]string{"dg-note": "passthrough"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// The key is a plain file under the bucket's directory; the ETag is
	// the MD5 of the content.
	data, _ := os.ReadFile(dir + "/releases/v1.0/notes.txt")
	fmt.Println(string(data))
	fmt.Println(info.ETag)

	st, _ := s.Stat(ctx, "releases", "v1.0/notes.txt")
	fmt.Println(st.ContentType, st.Metadata["dg-note"])
	// Output:
	// release notes
	// 1a8d41e65cef4d345c50298a70f79734
	// text/plain passthrough
}
