package server

import (
	"bytes"
	"context"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func objectTags(t *testing.T, cli *s3.Client, bucket, key string) map[string]string {
	t.Helper()
	out, err := cli.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("GetObjectTagging %s: %v", key, err)
	}
	m := map[string]string{}
	for _, tg := range out.TagSet {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

// TestObjectTagging: x-amz-tagging on PutObject, CreateMultipartUpload and
// CopyObject (with both directives) is stored and read back by
// GetObjectTagging; bad tags are InvalidTag and store nothing; changing
// tags in place (PutObjectTagging) is not implemented.
func TestObjectTagging(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cli := h.cli
	h.mkBucket(t, "tags")
	base := randomBytes(7, 200<<10)
	v1, v2 := version(base, 1), version(base, 2)

	if _, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("a/v1.zip"),
		Body: bytes.NewReader(v1), Tagging: aws.String("project=dg&stage=release%20candidate&owner=%C3%A9")}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"project": "dg", "stage": "release candidate", "owner": "é"}
	if got := objectTags(t, cli, "tags", "a/v1.zip"); !maps.Equal(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	put(t, cli, "tags", "a/v2.zip", v2, nil)
	if got := objectTags(t, cli, "tags", "a/v2.zip"); len(got) != 0 {
		t.Errorf("untagged object has tags %v", got)
	}

	// Multipart: tags given at creation apply to the completed object.
	cu, err := cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("tags"),
		Key: aws.String("a/mp.zip"), Tagging: aws.String("mp=yes")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("tags"), Key: aws.String("a/mp.zip"),
		UploadId: cu.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(v2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("tags"),
		Key: aws.String("a/mp.zip"), UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{
			Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if got := objectTags(t, cli, "tags", "a/mp.zip"); !maps.Equal(got, map[string]string{"mp": "yes"}) {
		t.Errorf("multipart tags = %v", got)
	}

	// CopyObject keeps the source's tags, or replaces them.
	if _, err := cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("tags"), Key: aws.String("a/copy.zip"),
		CopySource: aws.String("tags/a/v1.zip")}); err != nil {
		t.Fatal(err)
	}
	if got := objectTags(t, cli, "tags", "a/copy.zip"); !maps.Equal(got, want) {
		t.Errorf("copy tags = %v, want the source's %v", got, want)
	}
	if _, err := cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("tags"), Key: aws.String("b/copy.zip"),
		CopySource: aws.String("tags/a/v1.zip"), TaggingDirective: types.TaggingDirectiveReplace,
		Tagging: aws.String("copied=1")}); err != nil {
		t.Fatal(err)
	}
	if got := objectTags(t, cli, "tags", "b/copy.zip"); !maps.Equal(got, map[string]string{"copied": "1"}) {
		t.Errorf("replaced copy tags = %v", got)
	}

	// Refused tags: InvalidTag, and nothing stored.
	for _, bad := range []string{"aws%3Areserved=x", "k=a%26b%3Bc", "a=1&a=2"} {
		_, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("a/bad.zip"),
			Body: bytes.NewReader(v1), Tagging: aws.String(bad)})
		if errorCode(err) != "InvalidTag" {
			t.Errorf("tagging %q: %v, want InvalidTag", bad, err)
		}
		if _, err := cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tags"), Key: aws.String("a/bad.zip")}); err == nil {
			t.Errorf("tagging %q: the object was stored", bad)
		}
	}
	if _, err := cli.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("a/none.zip")}); errorCode(err) != "NoSuchKey" {
		t.Errorf("GetObjectTagging of a missing key: %v", err)
	}
	_, err = cli.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("a/v1.zip"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
	if errorCode(err) != "NotImplemented" {
		t.Errorf("PutObjectTagging: %v, want NotImplemented", err)
	}
}
