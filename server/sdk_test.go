package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/deltaglider-go/deltaglider/store"
)

func getBody(t *testing.T, cli *s3.Client, bucket, key string, rng string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := cli.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject %s %s: %v", key, rng, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b, out
}

func put(t *testing.T, cli *s3.Client, bucket, key string, data []byte, meta map[string]string) *s3.PutObjectOutput {
	t.Helper()
	out, err := cli.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), Metadata: meta, ContentType: aws.String("application/zip")})
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
	return out
}

// TestSDKPutGetListCopyDelete drives the common calls with aws-sdk-go-v2.
func TestSDKPutGetListCopyDelete(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cli := h.cli
	h.mkBucket(t, "releases")
	if _, err := cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("releases")}); errorCode(err) != "BucketAlreadyOwnedByYou" {
		t.Fatalf("second CreateBucket: %v", err)
	}
	lb, err := cli.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != "releases" {
		t.Fatalf("ListBuckets: %v %+v", err, lb)
	}
	if _, err := cli.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("releases")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope-bucket")}); err == nil {
		t.Fatal("HeadBucket on a missing bucket succeeded")
	}

	base := randomBytes(1, 300<<10)
	v1, v2 := version(base, 1), version(base, 2)
	o1 := put(t, cli, "releases", "app/app-1.0.zip", v1, map[string]string{"build": "101"})
	if s := storageHeader(o1.ResultMetadata); s != "delta" {
		t.Errorf("first eligible put stored as %q, want delta (zero-diff against the new reference)", s)
	}
	o2 := put(t, cli, "releases", "app/app-2.0.zip", v2, nil)
	if s := storageHeader(o2.ResultMetadata); s != "delta" {
		t.Errorf("second put stored as %q, want delta", s)
	}
	notes := []byte("release notes\n")
	o3 := put(t, cli, "releases", "app/NOTES.txt", notes, nil)
	if s := storageHeader(o3.ResultMetadata); s != "direct" {
		t.Errorf("text put stored as %q, want direct", s)
	}

	got, out := getBody(t, cli, "releases", "app/app-2.0.zip", "")
	if !bytes.Equal(got, v2) {
		t.Fatal("GetObject returned different bytes")
	}
	if s := storageHeader(out.ResultMetadata); s != "delta" {
		t.Errorf("GET storage header %q", s)
	}
	if *out.ContentLength != int64(len(v2)) || *out.ETag != *o2.ETag {
		t.Errorf("GET length %d etag %s; put etag %s", *out.ContentLength, *out.ETag, *o2.ETag)
	}
	ho, err := cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("releases"), Key: aws.String("app/app-1.0.zip")})
	if err != nil {
		t.Fatal(err)
	}
	if *ho.ContentLength != int64(len(v1)) || ho.Metadata["build"] != "101" || *ho.ContentType != "application/zip" {
		t.Errorf("HeadObject: len %d meta %v type %s", *ho.ContentLength, ho.Metadata, *ho.ContentType)
	}
	if _, err := cli.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("releases"), Key: aws.String("app/none.zip")}); err == nil {
		t.Error("HeadObject of a missing key succeeded")
	}
	if _, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("releases"), Key: aws.String("app/none.zip")}); errorCode(err) != "NoSuchKey" {
		t.Errorf("GetObject missing: %v", err)
	}

	// Listing shows logical keys and original sizes only.
	lo, err := cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("releases")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range lo.Contents {
		keys = append(keys, fmt.Sprintf("%s:%d", *o.Key, *o.Size))
	}
	want := fmt.Sprintf("app/NOTES.txt:%d app/app-1.0.zip:%d app/app-2.0.zip:%d", len(notes), len(v1), len(v2))
	if strings.Join(keys, " ") != want {
		t.Errorf("ListObjectsV2 = %v, want %s", keys, want)
	}
	// Delimiter and paging.
	lo, err = cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("releases"), Delimiter: aws.String("/")})
	if err != nil || len(lo.CommonPrefixes) != 1 || *lo.CommonPrefixes[0].Prefix != "app/" || len(lo.Contents) != 0 {
		t.Fatalf("delimiter listing: %v %+v", err, lo)
	}
	var paged []string
	p := s3.NewListObjectsV2Paginator(cli, &s3.ListObjectsV2Input{Bucket: aws.String("releases"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range pg.Contents {
			paged = append(paged, *o.Key)
		}
	}
	if strings.Join(paged, " ") != "app/NOTES.txt app/app-1.0.zip app/app-2.0.zip" {
		t.Errorf("paged listing %v", paged)
	}
	l1, err := cli.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("releases"), Prefix: aws.String("app/app-"), MaxKeys: aws.Int32(1)})
	if err != nil || len(l1.Contents) != 1 || !*l1.IsTruncated || *l1.NextMarker != "app/app-1.0.zip" {
		t.Fatalf("ListObjects v1: %v %+v", err, l1)
	}
	l1, err = cli.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("releases"), Prefix: aws.String("app/app-"), Marker: l1.NextMarker})
	if err != nil || len(l1.Contents) != 1 || *l1.Contents[0].Key != "app/app-2.0.zip" || *l1.IsTruncated {
		t.Fatalf("ListObjects v1 page 2: %v %+v", err, l1)
	}

	// Copy within the deltaspace, to another deltaspace, with REPLACE.
	if _, err := cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("releases"), Key: aws.String("app/app-2.0-copy.zip"),
		CopySource: aws.String("releases/app/app-2.0.zip")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("releases"), Key: aws.String("other/app.zip"),
		CopySource: aws.String("releases/app/app-1.0.zip"), MetadataDirective: types.MetadataDirectiveReplace,
		Metadata: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := getBody(t, cli, "releases", "app/app-2.0-copy.zip", ""); !bytes.Equal(b, v2) {
		t.Error("copy within deltaspace differs")
	}
	b, co := getBody(t, cli, "releases", "other/app.zip", "")
	if !bytes.Equal(b, v1) || co.Metadata["k"] != "v" || co.Metadata["build"] != "" {
		t.Errorf("cross-deltaspace copy: equal=%v meta=%v", bytes.Equal(b, v1), co.Metadata)
	}
	if _, err := cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("releases"), Key: aws.String("x/y.zip"),
		CopySource: aws.String("releases/app/missing.zip")}); errorCode(err) != "NoSuchKey" {
		t.Errorf("copy of a missing source: %v", err)
	}

	// Delete, DeleteObjects, DeleteBucket (references are reclaimed).
	if _, err := cli.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("releases"), Key: aws.String("app/NOTES.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("releases")}); errorCode(err) != "BucketNotEmpty" {
		t.Fatalf("DeleteBucket on a full bucket: %v", err)
	}
	do, err := cli.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("releases"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("app/app-1.0.zip")}, {Key: aws.String("app/app-2.0.zip")}, {Key: aws.String("app/app-2.0-copy.zip")},
		{Key: aws.String("other/app.zip")}, {Key: aws.String("never/was.zip")}}}})
	if err != nil || len(do.Deleted) != 5 || len(do.Errors) != 0 {
		t.Fatalf("DeleteObjects: %v %+v", err, do)
	}
	lo, err = cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("releases")})
	if err != nil || len(lo.Contents) != 0 {
		t.Fatalf("after deletes: %v %d objects", err, len(lo.Contents))
	}
	if _, err := cli.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("releases")}); err != nil {
		t.Fatalf("DeleteBucket: %v", err)
	}
	if files := h.storedFiles(t); len(files) != 0 {
		// fsstore may keep its own bookkeeping under .dg; nothing of the bucket may remain.
		for _, f := range files {
			if strings.HasPrefix(f, "releases") {
				t.Errorf("left behind: %s", f)
			}
		}
	}
}

// TestRangedAndConditionalGet checks Range on a delta and a direct object
// and the conditional headers.
func TestRangedAndConditionalGet(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.mkBucket(t, "rng")
	base := randomBytes(3, 200<<10)
	put(t, h.cli, "rng", "d/a.zip", base, nil)
	v := version(base, 5)
	po := put(t, h.cli, "rng", "d/b.zip", v, nil)
	direct := randomBytes(4, 70000)
	put(t, h.cli, "rng", "d/raw.dat", direct, nil)
	for _, c := range []struct {
		key  string
		data []byte
	}{{"d/b.zip", v}, {"d/raw.dat", direct}} {
		n := len(c.data)
		for _, r := range []struct {
			hdr      string
			off, end int
		}{{"bytes=0-0", 0, 1}, {"bytes=10-99", 10, 100}, {"bytes=1000-", 1000, n}, {"bytes=-50", n - 50, n},
			{fmt.Sprintf("bytes=%d-%d", n-10, n+500), n - 10, n}} {
			got, out := getBody(t, h.cli, "rng", c.key, r.hdr)
			if !bytes.Equal(got, c.data[r.off:r.end]) {
				t.Errorf("%s %s: wrong bytes (%d)", c.key, r.hdr, len(got))
			}
			wantCR := fmt.Sprintf("bytes %d-%d/%d", r.off, r.end-1, n)
			if out.ContentRange == nil || *out.ContentRange != wantCR {
				t.Errorf("%s %s: Content-Range %v, want %s", c.key, r.hdr, out.ContentRange, wantCR)
			}
		}
		_, err := h.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rng"), Key: aws.String(c.key),
			Range: aws.String(fmt.Sprintf("bytes=%d-", n))})
		if errorCode(err) != "InvalidRange" {
			t.Errorf("%s: range past the end: %v", c.key, err)
		}
	}
	// An empty object.
	put(t, h.cli, "rng", "d/empty.txt", nil, nil)
	if got, out := getBody(t, h.cli, "rng", "d/empty.txt", ""); len(got) != 0 || *out.ContentLength != 0 {
		t.Errorf("empty object: %d bytes", len(got))
	}
	// Conditionals.
	_, err := h.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rng"), Key: aws.String("d/b.zip"), IfNoneMatch: po.ETag})
	if !isStatus(err, http.StatusNotModified) {
		t.Errorf("If-None-Match matching: %v", err)
	}
	_, err = h.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rng"), Key: aws.String("d/b.zip"), IfMatch: aws.String("\"nope\"")})
	if errorCode(err) != "PreconditionFailed" {
		t.Errorf("If-Match mismatch: %v", err)
	}
	if b, _ := getBody2(t, h.cli, &s3.GetObjectInput{Bucket: aws.String("rng"), Key: aws.String("d/b.zip"), IfMatch: po.ETag}); !bytes.Equal(b, v) {
		t.Error("If-Match matching: wrong body")
	}
	_, err = h.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rng"), Key: aws.String("d/b.zip"),
		IfModifiedSince: aws.Time(time.Now().Add(time.Hour))})
	if !isStatus(err, http.StatusNotModified) {
		t.Errorf("If-Modified-Since future: %v", err)
	}
	_, err = h.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rng"), Key: aws.String("d/b.zip"),
		IfUnmodifiedSince: aws.Time(time.Now().Add(-time.Hour))})
	if errorCode(err) != "PreconditionFailed" {
		t.Errorf("If-Unmodified-Since past: %v", err)
	}
	// Conditional put.
	_, err = h.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rng"), Key: aws.String("d/b.zip"),
		Body: bytes.NewReader([]byte("x")), IfNoneMatch: aws.String("*")})
	if errorCode(err) != "PreconditionFailed" {
		t.Errorf("If-None-Match * on an existing key: %v", err)
	}
	if b, _ := getBody(t, h.cli, "rng", "d/b.zip", ""); !bytes.Equal(b, v) {
		t.Error("failed conditional put changed the object")
	}
}

func getBody2(t *testing.T, cli *s3.Client, in *s3.GetObjectInput) ([]byte, error) {
	out, err := cli.GetObject(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func isStatus(err error, code int) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == code
}

// TestMultipart200MB uploads a 200 MB generated file in 10 parts, checks
// ListParts/ListMultipartUploads, reads it back whole and by range, and
// checks that the process's heap never held the object.
func TestMultipart200MB(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MB upload")
	}
	h := newHarness(t)
	ctx := context.Background()
	h.mkBucket(t, "big")
	const partSize = 20 << 20
	const parts = 10
	key := "images/disk.img"
	cu, err := h.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String(key),
		Metadata: map[string]string{"origin": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	whole := sha256.New()
	var completed []types.CompletedPart
	for i := 1; i <= parts; i++ {
		data := randomBytes(uint64(1000+i), partSize)
		whole.Write(data)
		up, err := h.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("big"), Key: aws.String(key),
			UploadId: cu.UploadId, PartNumber: aws.Int32(int32(i)), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i, err)
		}
		completed = append(completed, types.CompletedPart{PartNumber: aws.Int32(int32(i)), ETag: up.ETag})
		runtime.GC()
	}
	lp, err := h.cli.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("big"), Key: aws.String(key), UploadId: cu.UploadId})
	if err != nil || len(lp.Parts) != parts || *lp.Parts[3].Size != partSize {
		t.Fatalf("ListParts: %v %+v", err, lp)
	}
	lu, err := h.cli.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("big")})
	if err != nil || len(lu.Uploads) != 1 || *lu.Uploads[0].UploadId != *cu.UploadId {
		t.Fatalf("ListMultipartUploads: %v %+v", err, lu)
	}
	// Parts out of order and a wrong ETag are refused.
	bad := []types.CompletedPart{completed[1], completed[0]}
	if _, err := h.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String(key),
		UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: bad}}); errorCode(err) != "InvalidPartOrder" {
		t.Errorf("out-of-order parts: %v", err)
	}
	if _, err := h.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String(key),
		UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: aws.String("\"00\"")}}}}); errorCode(err) != "InvalidPart" {
		t.Errorf("wrong ETag: %v", err)
	}
	co, err := h.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String(key),
		UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: completed}})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	if s := storageHeader(co.ResultMetadata); s != "direct" {
		t.Errorf("random image stored as %q", s)
	}
	out, err := h.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, out.Body)
	out.Body.Close()
	close(stop)
	wg.Wait()
	if err != nil || n != parts*partSize {
		t.Fatalf("GET: %d bytes, %v", n, err)
	}
	if hex.EncodeToString(got.Sum(nil)) != hex.EncodeToString(whole.Sum(nil)) {
		t.Fatal("200 MB object read back with different content")
	}
	if out.Metadata["origin"] != "test" {
		t.Errorf("metadata lost: %v", out.Metadata)
	}
	// The test itself holds one 20 MB part at a time; the server must not
	// have held the 200 MB object (or anything near it) in memory.
	if peak > 120<<20 {
		t.Errorf("peak heap in use %d MiB while moving a 200 MiB object", peak>>20)
	}
	t.Logf("peak heap in use during the 200 MiB upload and download: %d MiB", peak>>20)
	// A range across the boundary of parts 3 and 4.
	off := 3*partSize - 100
	b, _ := getBody(t, h.cli, "big", key, fmt.Sprintf("bytes=%d-%d", off, off+199))
	p3, p4 := randomBytes(1003, partSize), randomBytes(1004, partSize)
	if !bytes.Equal(b, append(p3[partSize-100:], p4[:100]...)) {
		t.Error("range across a part boundary differs")
	}
	if _, err := h.cli.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("big"), Key: aws.String(key), UploadId: cu.UploadId}); errorCode(err) != "NoSuchUpload" {
		t.Errorf("completed upload still listed: %v", err)
	}
	// Abort removes an upload and its spooled parts.
	cu2, err := h.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("x.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("big"), Key: aws.String("x.bin"),
		UploadId: cu2.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("abc"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.cli.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("x.bin"), UploadId: cu2.UploadId}); err != nil {
		t.Fatal(err)
	}
	if n := h.srv.uploads.count(); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}

// TestPresignedGet fetches an object with a presigned URL, and checks that
// an expired one is refused.
func TestPresignedGet(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.mkBucket(t, "pre")
	data := randomBytes(9, 50000)
	put(t, h.cli, "pre", "dir/file name+x.zip", data, nil)
	ps := s3.NewPresignClient(h.cli)
	req, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pre"), Key: aws.String("dir/file name+x.zip")},
		s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("presigned GET: %d, %d bytes: %s", resp.StatusCode, len(body), firstBytes(body))
	}
	// Tampering with the URL breaks the signature.
	resp2, body2 := h.rawRequest(t, "GET", strings.TrimPrefix(strings.Replace(req.URL, "file%20name", "file%20nane", 1), h.url), nil, nil, false)
	if resp2.StatusCode != 403 || !strings.Contains(string(body2), "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("tampered presigned URL: %d %s", resp2.StatusCode, body2)
	}
	// Signature Version 2 presigned URLs (the aws CLI v1's default).
	v2 := func(path string, expires int64, secret string) string {
		m := hmac.New(sha1.New, []byte(secret))
		fmt.Fprintf(m, "GET\n\n\n%d\n%s", expires, path)
		return fmt.Sprintf("%s?AWSAccessKeyId=%s&Expires=%d&Signature=%s", path, testAK, expires,
			url.QueryEscape(base64.StdEncoding.EncodeToString(m.Sum(nil))))
	}
	exp := time.Now().Add(time.Minute).Unix()
	if resp, body := h.rawRequest(t, "GET", v2("/pre/dir/file%20name%2Bx.zip", exp, testSK), nil, nil, false); resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Errorf("SigV2 presigned GET: %d %s", resp.StatusCode, firstBytes(body))
	}
	if resp, body := h.rawRequest(t, "GET", v2("/pre/dir/file%20name%2Bx.zip", exp, "wrong"), nil, nil, false); resp.StatusCode != 403 || xmlCode(body) != "SignatureDoesNotMatch" {
		t.Errorf("SigV2 bad signature: %d %s", resp.StatusCode, firstBytes(body))
	}
	if resp, body := h.rawRequest(t, "GET", v2("/pre/dir/file%20name%2Bx.zip", time.Now().Add(-time.Second).Unix(), testSK), nil, nil, false); resp.StatusCode != 403 || xmlCode(body) != "AccessDenied" {
		t.Errorf("SigV2 expired: %d %s", resp.StatusCode, firstBytes(body))
	}
	// Two minutes later (server clock) it has expired.
	h.offset.Store(int64(2 * time.Minute))
	resp3, body3 := h.rawRequest(t, "GET", strings.TrimPrefix(req.URL, h.url), nil, nil, false)
	if resp3.StatusCode != 403 || !strings.Contains(string(body3), "<Code>AccessDenied</Code>") || !strings.Contains(string(body3), "expired") {
		t.Errorf("expired presigned URL: %d %s", resp3.StatusCode, body3)
	}
}

func firstBytes(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

// TestKeepAlive makes CompleteMultipartUpload and CopyObject answer with
// S3's early 200 + whitespace + result (or Error document) body, and checks
// that the SDK reads both the results and the late error.
func TestKeepAlive(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.KeepAlive = time.Millisecond })
	ctx := context.Background()
	h.mkBucket(t, "kabucket")
	data := randomBytes(41, 6<<20)
	cu, err := h.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("kabucket"), Key: aws.String("a/x.zip")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, chunk := range [][]byte{data[:5<<20], data[5<<20:]} {
		up, err := h.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("kabucket"), Key: aws.String("a/x.zip"),
			UploadId: cu.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(chunk)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
	}
	co, err := h.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("kabucket"), Key: aws.String("a/x.zip"),
		UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil || co.ETag == nil || *co.Key != "a/x.zip" {
		t.Fatalf("CompleteMultipartUpload with keep-alive: %v %+v", err, co)
	}
	cp, err := h.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("kabucket"), Key: aws.String("b/y.zip"), CopySource: aws.String("kabucket/a/x.zip")})
	if err != nil || cp.CopyObjectResult == nil || cp.CopyObjectResult.ETag == nil {
		t.Fatalf("CopyObject with keep-alive: %v %+v", err, cp)
	}
	if got, _ := getBody(t, h.cli, "kabucket", "b/y.zip", ""); !bytes.Equal(got, data) {
		t.Fatal("copy differs")
	}
	// A failure after the 200 went out is an Error document in the body.
	rq := &request{w: &respWriter{ResponseWriter: httptest.NewRecorder()}, r: httptest.NewRequest("PUT", "/kabucket/z", nil), op: "test"}
	rec := rq.w.ResponseWriter.(*httptest.ResponseRecorder)
	err = h.srv.longRunning(rq, func() (any, error) {
		time.Sleep(50 * time.Millisecond)
		return nil, store.ErrBucketNotExist
	}, nil)
	if err != nil || rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "<?xml") ||
		!strings.Contains(rec.Body.String(), "?>\n ") || xmlCode(rec.Body.Bytes()) != "NoSuchBucket" {
		t.Errorf("late error: %v %d %q", err, rec.Code, rec.Body.String())
	}
}

// TestIntegrityFailureAbortsResponse corrupts a stored object on disk: the
// GET's status and length are already sent when the SHA-256 check fails at
// the end, so the server must cut the connection (the client sees a short
// body), never end the body normally.
func TestIntegrityFailureAbortsResponse(t *testing.T) {
	h := newHarness(t)
	h.mkBucket(t, "integ")
	data := randomBytes(51, 3<<20)
	if o := put(t, h.cli, "integ", "d/blob.dat", data, nil); storageHeader(o.ResultMetadata) != "direct" {
		t.Fatal("blob.dat not stored directly")
	}
	base := randomBytes(52, 1<<20)
	put(t, h.cli, "integ", "z/a.zip", base, nil)
	v := version(base, 3)
	if o := put(t, h.cli, "integ", "z/b.zip", v, nil); storageHeader(o.ResultMetadata) != "delta" {
		t.Fatal("b.zip not stored as a delta")
	}
	for _, c := range []struct {
		key, file string
		want      []byte
	}{{"d/blob.dat", "d/blob.dat", data}, {"z/b.zip", "z/b.zip.delta", v}} {
		p := filepath.Join(h.dir, "integ", filepath.FromSlash(c.file))
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte{raw[len(raw)/2] ^ 0xff}, int64(len(raw)/2)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out, err := h.cli.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("integ"), Key: aws.String(c.key)})
		if err != nil {
			// Refusing before the headers is fine too.
			if !isStatus(err, http.StatusInternalServerError) {
				t.Errorf("GET %s: %v", c.key, err)
			}
			continue
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err == nil {
			t.Errorf("%s: corrupt object read to the end without error (%d bytes, equal to original: %v)", c.key, len(got), bytes.Equal(got, c.want))
		}
	}
}

// TestNoAuth: without credentials every request is accepted, signed or
// not, and listings honour encoding-type=url.
func TestNoAuth(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Credentials = nil })
	if h.srv.AuthEnabled() {
		t.Fatal("auth enabled without credentials")
	}
	resp, body := h.rawRequest(t, "PUT", "/open", nil, nil, false)
	if resp.StatusCode != 200 {
		t.Fatalf("anonymous CreateBucket: %d %s", resp.StatusCode, body)
	}
	key := "dir/a b+c ü.txt"
	put(t, h.client("any", "thing"), "open", key, []byte("hi"), nil)
	resp, body = h.rawRequest(t, "GET", "/open?list-type=2&encoding-type=url", nil, nil, false)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<Key>dir/a%20b%2Bc%20%C3%BC.txt</Key>") {
		t.Errorf("url-encoded listing: %d %s", resp.StatusCode, body)
	}
	lo, err := h.cli.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("open"), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(lo.Contents) != 1 {
		t.Fatalf("SDK listing with encoding-type=url: %v", err)
	}
	// aws-sdk-go-v2 hands encoded keys to the caller (botocore decodes them).
	if k, err := url.PathUnescape(*lo.Contents[0].Key); err != nil || k != key {
		t.Errorf("SDK listing with encoding-type=url: key %q decodes to %q", *lo.Contents[0].Key, k)
	}
	resp, body = h.rawRequest(t, "GET", "/open/dir/a%20b%2Bc%20%C3%BC.txt", nil, nil, false)
	if resp.StatusCode != 200 || string(body) != "hi" {
		t.Errorf("anonymous GET: %d %q", resp.StatusCode, body)
	}
}

// genReader is a seekable stream of size pseudo-random bytes generated
// 64 KiB at a time, so a test can upload an object it never holds.
type genReader struct {
	seed, size, off int64
	blk             int64
	buf             []byte
}

const genBlock = 64 << 10

func newGenReader(seed, size int64) *genReader { return &genReader{seed: seed, size: size, blk: -1} }

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	if b := g.off / genBlock; b != g.blk {
		g.buf = randomBytes(uint64(g.seed)<<32|uint64(b), genBlock)
		g.blk = b
	}
	in := g.off % genBlock
	n := copy(p, g.buf[in:min(int64(genBlock), in+g.size-g.off)])
	g.off += int64(n)
	return n, nil
}

func (g *genReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += g.off
	case io.SeekEnd:
		off += g.size
	}
	if off < 0 {
		return 0, errors.New("genReader: negative offset")
	}
	g.off = off
	return off, nil
}

// TestStreamingPutBoundedMemory sends a 128 MiB object in one PutObject
// (no multipart) and reads it back: the server streams both ways, so the
// process's heap stays far below the object's size.
func TestStreamingPutBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("128 MiB upload")
	}
	const size = 128 << 20
	want := sha256.New()
	if _, err := io.Copy(want, newGenReader(7, size)); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	ctx := context.Background()
	h.mkBucket(t, "stream")
	runtime.GC()
	// Count only what this request adds to what the process holds.
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	po, err := h.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("stream"), Key: aws.String("img/disk.img"),
		Body: newGenReader(7, size), ContentLength: aws.Int64(size)})
	if err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("PutObject of 128 MiB: %v", err)
	}
	if s := storageHeader(po.ResultMetadata); s != "direct" {
		t.Errorf("random image stored as %q", s)
	}
	out, err := h.cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("stream"), Key: aws.String("img/disk.img")})
	if err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, out.Body)
	out.Body.Close()
	close(stop)
	wg.Wait()
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("GET: %d bytes, %v, same content %v", n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	peak -= min(peak, base.HeapInuse)
	t.Logf("peak heap in use during a 128 MiB single PUT and GET: %d MiB above the %d MiB before", peak>>20, base.HeapInuse>>20)
	if peak > 64<<20 {
		t.Errorf("peak heap in use grew by %d MiB while moving a 128 MiB object in one request", peak>>20)
	}
}

// TestListMultipartUploadsPaging lists uploads in pages of two with the
// SDK's paginator (key-marker, upload-id-marker, NextKeyMarker), and by
// prefix.
func TestListMultipartUploadsPaging(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.mkBucket(t, "mpl")
	var want []string
	for _, k := range []string{"b/1.zip", "a/2.zip", "a/1.zip", "a/2.zip", "c/1.zip"} {
		cu, err := h.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpl"), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, k+" "+*cu.UploadId)
	}
	slices.Sort(want) // by key, then upload id
	var got []string
	pages := 0
	p := s3.NewListMultipartUploadsPaginator(h.cli, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpl"), MaxUploads: aws.Int32(2)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(pg.Uploads) > 2 {
			t.Errorf("page of %d uploads with max-uploads 2", len(pg.Uploads))
		}
		for _, u := range pg.Uploads {
			got = append(got, *u.Key+" "+*u.UploadId)
		}
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("paged uploads (%d pages):\n%v\nwant\n%v", pages, got, want)
	}
	lu, err := h.cli.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpl"), Prefix: aws.String("a/")})
	if err != nil || len(lu.Uploads) != 3 || *lu.IsTruncated {
		t.Errorf("uploads under a/: %v %d", err, len(lu.Uploads))
	}
}
