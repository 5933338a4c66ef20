package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// TestLoad runs 16 concurrent aws-sdk-go-v2 clients against one server on
// loopback for a bounded time (LONG=1; SERVE_LOAD_SECONDS, default 20):
// mixed PUTs (30%) and GETs of two real release series, then verifies every
// object. It requires zero errors and logs throughput and latency
// percentiles (the figures in docs/BENCHMARKS.md, section "serve").
func TestLoad(t *testing.T) {
	if os.Getenv("LONG") != "1" {
		t.Skip("load test: set LONG=1")
	}
	secs := 20
	if v := os.Getenv("SERVE_LOAD_SECONDS"); v != "" {
		fmt.Sscan(v, &secs)
	}
	type obj struct {
		key  string
		data []byte
		sum  [32]byte
	}
	var objs []obj
	for _, series := range []string{"gomod-x-net", "gomod-aws-s3"} {
		for _, f := range testtool.Series(t, series) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, obj{series + "/" + filepath.Base(f), data, sha256.Sum256(data)})
		}
	}
	h := newHarness(t)
	ctx := context.Background()
	h.mkBucket(t, "load")
	// Seed every object once (not timed), so the run mixes PUTs that
	// replace objects with GETs instead of starting with 16 first PUTs.
	for _, o := range objs {
		put(t, h.cli, "load", o.key, o.data, nil)
	}
	const clients = 16
	var (
		mu        sync.Mutex
		putLat    []time.Duration
		getLat    []time.Duration
		errs      []string
		stored    = make([]atomic.Bool, len(objs))
		bytesUp   atomic.Int64
		bytesDown atomic.Int64
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for i := range stored {
		stored[i].Store(true)
	}
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cli := h.client(testAK, testSK)
			rng := mrand.New(mrand.NewPCG(uint64(w), 1))
			for time.Now().Before(deadline) {
				i := rng.IntN(len(objs))
				o := objs[i]
				if rng.IntN(10) < 3 || !stored[i].Load() {
					t0 := time.Now()
					_, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("load"), Key: aws.String(o.key),
						Body: bytes.NewReader(o.data)})
					d := time.Since(t0)
					if err != nil {
						fail("put %s: %v", o.key, err)
						continue
					}
					stored[i].Store(true)
					bytesUp.Add(int64(len(o.data)))
					mu.Lock()
					putLat = append(putLat, d)
					mu.Unlock()
					continue
				}
				t0 := time.Now()
				out, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("load"), Key: aws.String(o.key)})
				if err != nil {
					fail("get %s: %v", o.key, err)
					continue
				}
				hs := sha256.New()
				n, err := io.Copy(hs, out.Body)
				out.Body.Close()
				d := time.Since(t0)
				if err != nil || [32]byte(hs.Sum(nil)) != o.sum {
					fail("get %s: %d bytes, %v, content mismatch=%v", o.key, n, err, [32]byte(hs.Sum(nil)) != o.sum)
					continue
				}
				bytesDown.Add(n)
				mu.Lock()
				getLat = append(getLat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, e := range errs {
		t.Error(e)
	}
	// Verify every object stored during the run.
	verified := 0
	for i, o := range objs {
		if !stored[i].Load() {
			continue
		}
		got, _ := getBody(t, h.cli, "load", o.key, "")
		if sha256.Sum256(got) != o.sum {
			t.Errorf("%s: wrong content after the run", o.key)
		}
		verified++
	}
	pct := func(l []time.Duration, p float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		slices.Sort(l)
		return l[min(len(l)-1, int(p*float64(len(l))))]
	}
	var original int64
	for i, o := range objs {
		if stored[i].Load() {
			original += int64(len(o.data))
		}
	}
	ops := len(putLat) + len(getLat)
	t.Logf("serve load: %d clients, %s, %d objects (%d series files), %d errors", clients, elapsed.Round(time.Millisecond),
		verified, len(objs), len(errs))
	t.Logf("  ops: %d (%.1f/s); PUT %d (%.1f MB/s up), GET %d (%.1f MB/s down)", ops, float64(ops)/elapsed.Seconds(),
		len(putLat), float64(bytesUp.Load())/1e6/elapsed.Seconds(), len(getLat), float64(bytesDown.Load())/1e6/elapsed.Seconds())
	t.Logf("  PUT latency p50 %s p99 %s max %s", pct(putLat, .5).Round(time.Millisecond), pct(putLat, .99).Round(time.Millisecond), pct(putLat, 1).Round(time.Millisecond))
	t.Logf("  GET latency p50 %s p99 %s max %s", pct(getLat, .5).Round(time.Millisecond), pct(getLat, .99).Round(time.Millisecond), pct(getLat, 1).Round(time.Millisecond))
	t.Logf("  stored on disk %d bytes for %d bytes of distinct objects (savings %.1f%%)", h.storedBytes(t), original,
		100*(1-float64(h.storedBytes(t))/float64(original)))
}
