package server

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// TestCorpusSavings uploads a real release series (golang.org/x/net module
// zips) through the S3 API and measures what lands on disk.
func TestCorpusSavings(t *testing.T) {
	files := testtool.Series(t, "gomod-x-net")
	h := newHarness(t)
	ctx := context.Background()
	h.mkBucket(t, "gomod")
	var original int64
	datas := map[string][]byte{}
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		key := "golang.org/x/net/" + filepath.Base(f)
		datas[key] = data
		original += int64(len(data))
		out := put(t, h.cli, "gomod", key, data, nil)
		if s := storageHeader(out.ResultMetadata); s != "delta" {
			t.Errorf("%s (#%d) stored as %q, want delta", key, i, s)
		}
	}
	for key, data := range datas {
		got, out := getBody(t, h.cli, "gomod", key, "")
		if !bytes.Equal(got, data) {
			t.Errorf("%s: read back different bytes", key)
		}
		if s := storageHeader(out.ResultMetadata); s != "delta" {
			t.Errorf("GET %s: storage %q", key, s)
		}
	}
	lo, err := h.cli.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("gomod"), Prefix: aws.String("golang.org/x/net/")})
	if err != nil || len(lo.Contents) != len(files) {
		t.Fatalf("listing: %v, %d objects for %d files", err, len(lo.Contents), len(files))
	}
	for _, o := range lo.Contents {
		if int64(len(datas[*o.Key])) != *o.Size {
			t.Errorf("%s listed with size %d, original %d", *o.Key, *o.Size, len(datas[*o.Key]))
		}
	}
	// On disk: the reference plus small deltas (plus fsstore's metadata).
	stored := h.storedBytes(t)
	savings := 1 - float64(stored)/float64(original)
	t.Logf("%d x/net zips: %d bytes uploaded, %d bytes on disk, savings %.1f%%", len(files), original, stored, 100*savings)
	// Direct storage would be >= 100%, and the ratio guard alone would
	// allow one reference plus deltas of up to 50% each (~55%). The
	// deltas of this series are 7-30% of their files (star topology:
	// they grow with the distance from the first version).
	if stored > original*35/100 {
		t.Errorf("stored %d bytes for %d original: no real delta savings", stored, original)
	}
	// /metrics reports the same story.
	resp, body := h.rawRequest(t, "GET", "/-/metrics", nil, nil, false)
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	m := regexp.MustCompile(`(?m)^deltaglider_savings_ratio (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no savings ratio in metrics:\n%s", body)
	}
	if r, _ := strconv.ParseFloat(string(m[1]), 64); r < 0.7 {
		t.Errorf("metrics savings ratio %v", r)
	}
	if !regexp.MustCompile(`(?m)^deltaglider_objects_stored_total\{storage="delta"\} 10$`).Match(body) && len(files) == 10 {
		t.Errorf("metrics do not count 10 deltas:\n%s", body)
	}
	metric := func(name string) int64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in metrics:\n%s", name, body)
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n
	}
	// Bytes in: at least every original byte (plus framing); bytes
	// stored: what the disk holds for the bucket (reference + deltas).
	if in := metric("deltaglider_received_bytes_total"); in < original {
		t.Errorf("received_bytes_total %d < %d bytes uploaded", in, original)
	}
	if o := metric("deltaglider_original_bytes_total"); o != original {
		t.Errorf("original_bytes_total %d, uploaded %d", o, original)
	}
	if st := metric("deltaglider_stored_bytes_total"); st != stored {
		t.Errorf("stored_bytes_total %d, on disk %d", st, stored)
	}
	if !regexp.MustCompile(`(?m)^deltaglider_http_request_duration_seconds_count\{op="PutObject"\} \d+$`).Match(body) {
		t.Errorf("no PutObject latency histogram:\n%s", body)
	}
}
