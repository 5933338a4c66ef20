package s3store_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
)

// A Store on a self-hosted S3 server (credentials from the environment or
// ~/.aws, as with the AWS CLI). Not run: it needs a server.
func ExampleNewFromConfig() {
	ctx := context.Background()
	s, _, err := s3store.NewFromConfig(ctx, s3store.Config{
		Endpoint:     "http://127.0.0.1:7070",
		UsePathStyle: true,
		MaxAttempts:  5,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Create the object only if it does not exist yet.
	_, err = s.Put(ctx, "releases", "app/v1.2.3.tar", strings.NewReader("..."), store.PutOptions{
		Size:        store.SizeUnknown,
		Metadata:    map[string]string{"dg-note": "première"},
		IfNotExists: true,
	})
	fmt.Println(err)
}
