package s3store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/s3store"
	"github.com/deltaglider-go/deltaglider/store"
)

// Test server policy:
//
//   - If DELTAGLIDER_S3_ENDPOINT is set (scripts/test.sh sets it after
//     starting versitygw), the shared tests use that server with the
//     credentials from the environment (AWS_ACCESS_KEY_ID, ...).
//   - Otherwise, if a versitygw binary is found ($DELTAGLIDER_VERSITYGW_BIN,
//     or the cache path scripts/versitygw.sh installs to), the package
//     starts its own server on a free loopback port for the shared tests
//     and stops it when the tests end (TestMain).
//   - Otherwise the S3 tests skip, or fail under DELTAGLIDER_REQUIRE_TOOLS=1.
//
// Tests that kill and restart a server (the fault test) always start a
// private one, so they need the binary.

const (
	testAccessKey = "testkey"
	testSecretKey = "testsecret123"
)

// versitygwBin returns the path of the versitygw binary, or "".
func versitygwBin() string {
	p := os.Getenv("DELTAGLIDER_VERSITYGW_BIN")
	if p == "" {
		dir := os.Getenv("XDG_CACHE_HOME")
		if dir == "" {
			home, _ := os.UserHomeDir()
			dir = filepath.Join(home, ".cache")
		}
		p = filepath.Join(dir, "s3test-tools", "versitygw-v1.8.0", "versitygw")
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return p
	}
	return ""
}

// server is a versitygw process started by the tests.
type server struct {
	bin, dataDir, addr string
	cmd                *exec.Cmd
	exited             chan error
	log                *os.File
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts versitygw on addr serving dataDir and waits until
// its health endpoint answers.
func startServer(bin, dataDir, addr string) (*server, error) {
	logf, err := os.CreateTemp("", "dg-vgw-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", addr, "--health", "/health", "--quiet", "posix", dataDir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+testAccessKey, "ROOT_SECRET_KEY="+testSecretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.Remove(logf.Name())
		return nil, err
	}
	exited := make(chan error, 1)
	s := &server{bin: bin, dataDir: dataDir, addr: addr, cmd: cmd, exited: exited, log: logf}
	go func() { exited <- cmd.Wait(); close(exited) }()
	hc := &http.Client{Timeout: time.Second}
	for range 200 { // up to ~10 s; it is normally ready in 0.1 s
		resp, err := hc.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logf.Name())
			s.cleanupLog()
			return nil, fmt.Errorf("versitygw exited (%v): %s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.kill()
	out, _ := os.ReadFile(logf.Name())
	s.cleanupLog()
	return nil, fmt.Errorf("versitygw did not become healthy on %s: %s", addr, out)
}

func (s *server) cleanupLog() {
	s.log.Close()
	os.Remove(s.log.Name())
}

// kill ends the server with SIGKILL (no chance to clean up) and waits
// until its port is closed.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// stop ends the server and removes its log.
func (s *server) stop() {
	s.kill()
	s.cleanupLog()
}

var (
	sharedOnce     sync.Once
	sharedEndpoint string
	sharedErr      error
	sharedServer   *server
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedServer != nil {
		sharedServer.stop()
		os.RemoveAll(sharedServer.dataDir)
	}
	os.Exit(code)
}

// endpoint returns the URL of the shared test server, starting one if
// needed, or skips/fails the test when there is none.
func endpoint(t testing.TB) string {
	t.Helper()
	sharedOnce.Do(func() {
		if ep := os.Getenv("DELTAGLIDER_S3_ENDPOINT"); ep != "" {
			sharedEndpoint = ep
			return
		}
		bin := versitygwBin()
		if bin == "" {
			sharedErr = fmt.Errorf("no S3 server: DELTAGLIDER_S3_ENDPOINT is unset and no versitygw binary " +
				"(set DELTAGLIDER_VERSITYGW_BIN or run `source scripts/versitygw.sh; vgw_install`)")
			return
		}
		base := "" // the default temp dir, or tmpfs when there is one (faster)
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			base = "/dev/shm"
		}
		dir, err := os.MkdirTemp(base, "dg-s3store-data-")
		if err != nil {
			sharedErr = err
			return
		}
		addr, err := freeAddr()
		if err == nil {
			sharedServer, err = startServer(bin, dir, addr)
		}
		if err != nil {
			os.RemoveAll(dir)
			sharedErr = err
			return
		}
		sharedEndpoint = "http://" + addr
	})
	if sharedEndpoint == "" {
		testtool.Missing(t, sharedErr.Error())
	}
	return sharedEndpoint
}

// newClientStore returns a Store on the server at ep. With the shared
// server from the environment it uses the standard credential chain;
// otherwise the test credentials.
func newClientStore(t testing.TB, ep string, opts ...s3store.Option) *s3store.Store {
	t.Helper()
	cfg := s3store.Config{Endpoint: ep, Region: "us-east-1", UsePathStyle: true}
	if ep != os.Getenv("DELTAGLIDER_S3_ENDPOINT") || os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		cfg.AccessKeyID, cfg.SecretAccessKey = testAccessKey, testSecretKey
	}
	s, _, err := s3store.NewFromConfig(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newBucket creates a fresh bucket on s, removed with its objects when
// the test ends.
func newBucket(t testing.TB, s *s3store.Store) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "dgtest-" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if err := s.CreateBucket(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyAndDelete(t, s, name) })
	return name
}

func emptyAndDelete(t testing.TB, s *s3store.Store, bucket string) {
	ctx := context.Background()
	var keys []string
	_ = s.List(ctx, bucket, store.ListOptions{}, func(e store.Entry) error {
		keys = append(keys, e.Key)
		return nil
	})
	if len(keys) > 0 {
		if err := s.DeleteMany(ctx, bucket, keys); err != nil {
			t.Logf("cleanup of %s: %v", bucket, err)
		}
	}
	if err := s.DeleteBucket(ctx, bucket); err != nil {
		t.Logf("cleanup of %s: %v", bucket, err)
	}
}

// pattern returns n deterministic pseudo-random bytes.
func pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	fill(seed, 0, b)
	return b
}

// word returns the w-th 8 bytes of the stream numbered seed.
func word(seed, w uint64) uint64 {
	x := w + seed*0x9E3779B97F4A7C15 + 1
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ x>>31
}

// fill writes the bytes at offset off of the stream numbered seed into b,
// so that big bodies can be generated and checked piecewise.
func fill(seed uint64, off int64, b []byte) {
	for len(b) > 0 {
		w := word(seed, uint64(off)/8)
		sh := uint(off%8) * 8
		n := 0
		for ; sh < 64 && n < len(b); sh += 8 {
			b[n] = byte(w >> sh)
			n++
		}
		b, off = b[n:], off+int64(n)
	}
}

// patternReader yields size bytes of the stream numbered seed.
type patternReader struct {
	seed      uint64
	off, size int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.off)]
	fill(r.seed, r.off, p)
	r.off += int64(len(p))
	return len(p), nil
}
