package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
)

// TestServerKilledMidUpload starts a private versitygw, begins a 64 MiB
// multipart Put, kills the server with SIGKILL once 24 MiB of the body
// have been read (the body reader then waits until the server is dead),
// and checks that the Put fails, that after a restart on the same data
// directory nothing is visible under the key, and that a retry succeeds.
func TestServerKilledMidUpload(t *testing.T) {
	bin := versitygwBin()
	if bin == "" {
		testtool.Missing(t, "versitygw binary not found (set DELTAGLIDER_VERSITYGW_BIN or run `source scripts/versitygw.sh; vgw_install`)")
	}
	dir := t.TempDir()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(bin, dir, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.stop() }()

	cfg := s3store.Config{
		Endpoint: "http://" + addr, Region: "us-east-1", UsePathStyle: true,
		AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
		MaxAttempts: 3, RetryMaxBackoff: 200 * time.Millisecond, HTTPTimeout: 10 * time.Second,
	}
	s, client, err := s3store.NewFromConfig(t.Context(), cfg, s3store.WithPartSize(s3store.MinPartSize), s3store.WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	const bucket, key = "fault", "big/object"
	const size = 64 << 20
	if err := s.CreateBucket(t.Context(), bucket); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	body := &gateReader{patternReader: patternReader{seed: 64, size: size}, gate: 24 << 20,
		reached: make(chan struct{}), release: make(chan struct{})}
	go func() {
		<-body.reached
		srv.kill() // SIGKILL, and wait until the process is gone
		close(body.release)
	}()
	start := time.Now()
	_, err = s.Put(ctx, bucket, key, body, store.PutOptions{Size: size})
	if err == nil {
		t.Fatal("Put succeeded although the server was killed mid-upload")
	}
	if errors.Is(err, store.ErrExist) || ctx.Err() != nil {
		t.Fatalf("Put failed for the wrong reason: %v", err)
	}
	t.Logf("Put failed after %v, as it should: %v", time.Since(start).Round(time.Millisecond), err)

	// Restart on the same data directory and port.
	srv.cleanupLog()
	srv, err = startServer(bin, dir, addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, bucket, key); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("after restart, Stat: %v, want ErrNotExist", err)
	}
	var listed []string
	if err := s.List(ctx, bucket, store.ListOptions{}, func(e store.Entry) error {
		listed = append(listed, e.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 0 {
		t.Fatalf("after restart, the bucket lists %q", listed)
	}
	// The upload the dead server could not abort is still pending (its
	// parts are invisible; S3 lifecycle rules or an operator clean these).
	t.Logf("pending multipart uploads after restart: %d", len(pendingUploadsOn(t, client, bucket)))

	// A retry succeeds and stores exactly the body.
	info, err := s.Put(ctx, bucket, key, &patternReader{seed: 64, size: size}, store.PutOptions{Size: size})
	if err != nil {
		t.Fatalf("retry after restart: %v", err)
	}
	if info.Size != size {
		t.Errorf("retry stored %d bytes", info.Size)
	}
	rc, _, err := s.Get(ctx, bucket, key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, n := hashOf(t, rc)
	want, _ := hashOf(t, &patternReader{seed: 64, size: size})
	if n != size || !bytes.Equal(got, want) {
		t.Fatalf("after retry: read %d bytes, hash %x, want %d bytes %x", n, got, size, want)
	}
}
