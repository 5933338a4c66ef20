package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

const (
	serveAK = "AKIDSERVETEST"
	serveSK = "serve-test-secret"
)

// serving is a `deltaglider serve` running in-process.
type serving struct {
	url    string
	first  string // the first line serve printed
	stop   func() result
	stderr *bytes.Buffer
}

// startServe runs `deltaglider serve` with the harness's backend flags on
// 127.0.0.1:0 and returns its URL once it listens.
func startServe(t *testing.T, h *cliHarness, extra ...string) *serving {
	t.Helper()
	return startServeArgs(t, h, append([]string{"--listen", "127.0.0.1:0", "--access-key", serveAK, "--secret-key", serveSK,
		"--spool-dir", t.TempDir()}, extra...)...)
}

// startServeArgs runs `deltaglider serve` with exactly the given serve
// flags. The URL it returns dials 127.0.0.1 even when serve listens on
// every address.
func startServeArgs(t *testing.T, h *cliHarness, serveArgs ...string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	args := append([]string{"deltaglider"}, h.flags...)
	args = append(args, "serve")
	args = append(args, serveArgs...)
	done := make(chan int, 1)
	var outb bytes.Buffer
	go func() {
		code := run(ctx, args, strings.NewReader(""), pw, &lockedWriter{w: &errb})
		pw.Close()
		done <- code
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v; stderr: %s", err, errb.String())
	}
	outb.WriteString(line)
	go io.Copy(&outb, br)
	m := regexp.MustCompile(`serving S3 on http://(\S+):(\d+) `).FindStringSubmatch(line)
	if m == nil {
		cancel()
		t.Fatalf("unexpected first line %q", line)
	}
	s := &serving{url: "http://127.0.0.1:" + m[2], first: line, stderr: &errb}
	stopped := false
	var res result
	s.stop = func() result {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code := <-done:
				res = result{code: code, stdout: outb.String()}
			case <-time.After(60 * time.Second):
				t.Fatal("serve did not shut down")
			}
		}
		return res
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// lockedWriter lets the server's logger and the test share a buffer.
type lockedWriter struct {
	w  io.Writer
	mu sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// awsCLI runs the aws CLI against the server with the serve credentials and
// no user configuration.
func awsCLI(t *testing.T, aws, url string, args ...string) string {
	t.Helper()
	full := append([]string{"--endpoint-url", url}, args...)
	cmd := exec.Command(aws, full...)
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"AWS_ACCESS_KEY_ID="+serveAK, "AWS_SECRET_ACCESS_KEY="+serveSK, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "AWS_PAGER=", "HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sampleHeap samples the process's heap in use every 20 ms until the
// returned function is called, which reports the peak.
func sampleHeap(t *testing.T) func() uint64 {
	t.Helper()
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
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
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			close(stop)
			<-done
		}
	})
	return func() uint64 {
		if !stopped {
			stopped = true
			close(stop)
			<-done
		}
		return peak
	}
}

func fileSHA(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// TestServeAWSCLI points the aws CLI at `deltaglider serve`, on the
// embedded store and in front of a real S3 server: put, get, ls, cp
// (server-side), multipart put and ranged multipart get, presign, rm, rb.
func TestServeAWSCLI(t *testing.T) {
	aws := testtool.Tool(t, "aws")
	eachBackend(t, func(t *testing.T, h *cliHarness) {
		s := startServe(t, h)
		dir := t.TempDir()
		vdir, files := versions(t, 7, 3, 256<<10)
		for i, f := range files[:3] {
			if err := os.Rename(filepath.Join(vdir, f), filepath.Join(dir, "app-"+string(rune('1'+i))+".zip")); err != nil {
				t.Fatal(err)
			}
		}
		// On the embedded store the multipart file is 200 MiB, and the
		// server (in this process) must move it without holding it in
		// memory; through to versitygw 20 MiB is enough to go multipart.
		bigSize := 20 << 20
		if h.backend == "fs" {
			bigSize = 200 << 20
		}
		big := filepath.Join(dir, "big.bin")
		bigData := make([]byte, bigSize)
		for i := range bigData {
			bigData[i] = byte(i*7 + i>>13)
		}
		if err := os.WriteFile(big, bigData, 0o644); err != nil {
			t.Fatal(err)
		}
		bigSum := sha256.Sum256(bigData)
		bigRange := bytes.Clone(bigData[bigSize/2-100 : bigSize/2+100])
		bigData = nil
		runtime.GC() // the heap sampled below is the server's, not this buffer
		b := "s3://" + h.bucket
		awsCLI(t, aws, s.url, "s3", "mb", "s3://cli-made-bucket")
		for _, n := range []string{"app-1.zip", "app-2.zip", "app-3.zip"} {
			awsCLI(t, aws, s.url, "s3", "cp", filepath.Join(dir, n), b+"/rel/"+n)
		}
		peak := sampleHeap(t)
		awsCLI(t, aws, s.url, "s3", "cp", big, b+"/rel/big.bin") // multipart (> 8 MB)
		ls := awsCLI(t, aws, s.url, "s3", "ls", b+"/rel/")
		for _, want := range []string{" 262144 app-1.zip", " 262144 app-3.zip", fmt.Sprintf(" %d big.bin", bigSize)} {
			if !strings.Contains(ls, want) {
				t.Errorf("ls lacks %q:\n%s", want, ls)
			}
		}
		if strings.Contains(ls, "reference.bin") || strings.Contains(ls, ".delta") {
			t.Errorf("ls shows internals:\n%s", ls)
		}
		// Downloads: a delta, and the big file by parallel ranged GETs.
		awsCLI(t, aws, s.url, "s3", "cp", b+"/rel/app-3.zip", filepath.Join(dir, "got-3.zip"))
		if fileSHA(t, filepath.Join(dir, "got-3.zip")) != fileSHA(t, filepath.Join(dir, "app-3.zip")) {
			t.Error("app-3.zip came back different")
		}
		awsCLI(t, aws, s.url, "s3", "cp", b+"/rel/big.bin", filepath.Join(dir, "got-big.bin"))
		if fileSHA(t, filepath.Join(dir, "got-big.bin")) != bigSum {
			t.Error("big.bin came back different")
		}
		if p := peak(); h.backend == "fs" {
			t.Logf("peak heap in use while the aws CLI moved %d MiB through serve: %d MiB", bigSize>>20, p>>20)
			if p > 100<<20 {
				t.Errorf("peak heap in use %d MiB while moving a %d MiB object", p>>20, bigSize>>20)
			}
		}
		os.Remove(filepath.Join(dir, "got-big.bin"))
		// An explicit ranged GET (s3api get-object --range), across the
		// middle of the multipart object, and one on a delta.
		rangeOut := filepath.Join(dir, "range.bin")
		cr := awsCLI(t, aws, s.url, "s3api", "get-object", "--bucket", h.bucket, "--key", "rel/big.bin",
			"--range", fmt.Sprintf("bytes=%d-%d", bigSize/2-100, bigSize/2+99), rangeOut)
		if got, err := os.ReadFile(rangeOut); err != nil || !bytes.Equal(got, bigRange) {
			t.Errorf("ranged get of big.bin: %v, %d bytes, equal %v", err, len(got), bytes.Equal(got, bigRange))
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", bigSize/2-100, bigSize/2+99, bigSize); !strings.Contains(cr, want) {
			t.Errorf("ranged get: no ContentRange %q in\n%s", want, cr)
		}
		app2, err := os.ReadFile(filepath.Join(dir, "app-2.zip"))
		if err != nil {
			t.Fatal(err)
		}
		cr = awsCLI(t, aws, s.url, "s3api", "get-object", "--bucket", h.bucket, "--key", "rel/app-2.zip",
			"--range", "bytes=1000-5999", rangeOut)
		if got, err := os.ReadFile(rangeOut); err != nil || !bytes.Equal(got, app2[1000:6000]) {
			t.Errorf("ranged get of a delta: %v, %d bytes", err, len(got))
		}
		if !strings.Contains(cr, "bytes 1000-5999/262144") {
			t.Errorf("ranged get of a delta: no ContentRange in\n%s", cr)
		}
		// Server-side copy, then read the copy.
		awsCLI(t, aws, s.url, "s3", "cp", b+"/rel/app-2.zip", b+"/copies/app-2.zip")
		awsCLI(t, aws, s.url, "s3", "cp", b+"/copies/app-2.zip", filepath.Join(dir, "got-2.zip"))
		if fileSHA(t, filepath.Join(dir, "got-2.zip")) != fileSHA(t, filepath.Join(dir, "app-2.zip")) {
			t.Error("copied app-2.zip differs")
		}
		// A presigned URL works with a plain HTTP client.
		u := strings.TrimSpace(awsCLI(t, aws, s.url, "s3", "presign", b+"/rel/app-1.zip", "--expires-in", "300"))
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || sha256.Sum256(body) != fileSHA(t, filepath.Join(dir, "app-1.zip")) {
			t.Errorf("presigned GET %s: %d, %d bytes: %.300s", u, resp.StatusCode, len(body), body)
		}
		if resp.Header.Get("x-deltaglider-storage") != "delta" {
			t.Errorf("x-deltaglider-storage = %q", resp.Header.Get("x-deltaglider-storage"))
		}
		// Deltas really are stored: the raw bucket holds reference + deltas.
		raw := strings.Join(h.rawKeys(h.bucket), " ")
		if !strings.Contains(raw, "rel/reference.bin") || !strings.Contains(raw, "rel/app-3.zip.delta") {
			t.Errorf("raw keys: %s", raw)
		}
		// rm one, then everything, then the buckets.
		awsCLI(t, aws, s.url, "s3", "rm", b+"/rel/app-1.zip")
		if ls := awsCLI(t, aws, s.url, "s3", "ls", b+"/rel/"); strings.Contains(ls, "app-1.zip") || !strings.Contains(ls, "app-2.zip") {
			t.Errorf("after rm:\n%s", ls)
		}
		awsCLI(t, aws, s.url, "s3", "rm", "--recursive", b)
		if ls := awsCLI(t, aws, s.url, "s3", "ls", "--recursive", b); strings.TrimSpace(ls) != "" {
			t.Errorf("after rm --recursive:\n%s", ls)
		}
		awsCLI(t, aws, s.url, "s3", "rb", b)
		awsCLI(t, aws, s.url, "s3", "rb", "s3://cli-made-bucket")
		if ls := awsCLI(t, aws, s.url, "s3", "ls"); strings.Contains(ls, h.bucket) || strings.Contains(ls, "cli-made-bucket") {
			t.Errorf("buckets left:\n%s", ls)
		}
		// Graceful shutdown: exit 0, and the request log was written.
		if r := s.stop(); r.code != 0 {
			t.Errorf("serve exited %d", r.code)
		}
		if !strings.Contains(s.stderr.String(), "op=CompleteMultipartUpload") {
			t.Errorf("no structured request log for the multipart upload:\n%.2000s", s.stderr.String())
		}
	})
}

// TestServeRefusesOpenWithoutAuth: a non-loopback address needs
// credentials (flags or DG_SERVE_* environment) or --insecure-no-auth;
// loopback without credentials serves unauthenticated.
func TestServeRefusesOpenWithoutAuth(t *testing.T) {
	h := newHarness(t, "fs")
	t.Setenv("DG_SERVE_ACCESS_KEY", "")
	t.Setenv("DG_SERVE_SECRET_KEY", "")
	r := h.run("serve", "--listen", "0.0.0.0:0")
	if r.code != exitUsage || !strings.Contains(r.stderr, "refusing to serve without credentials") {
		t.Errorf("no credentials on 0.0.0.0: %v", r)
	}
	r = h.run("serve", "--listen", "127.0.0.1:0", "--access-key", "x")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--secret-key") {
		t.Errorf("half credentials: %v", r)
	}
	r = h.run("serve", "--listen", "nonsense")
	if r.code != exitUsage {
		t.Errorf("bad --listen: %v", r)
	}
	for _, addr := range []string{":0", "[::]:0", "0.0.0.0:0"} {
		if r := h.run("serve", "--listen", addr); r.code != exitUsage || !strings.Contains(r.stderr, "not a loopback address") {
			t.Errorf("no credentials on %s: %v", addr, r)
		}
	}

	anon := func(s *serving, path string) (int, string) {
		t.Helper()
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	// Without credentials on loopback: no authentication.
	s := startServeArgs(t, h, "--listen", "localhost:0")
	if !strings.Contains(s.first, "no authentication") {
		t.Errorf("loopback without credentials: %q", s.first)
	}
	if code, body := anon(s, "/"); code != 200 || !strings.Contains(body, "<ListAllMyBucketsResult") {
		t.Errorf("anonymous ListBuckets on loopback: %d %.300s", code, body)
	}
	s.stop()
	// --insecure-no-auth opens a non-loopback address without credentials.
	s = startServeArgs(t, h, "--listen", "0.0.0.0:0", "--insecure-no-auth")
	code, _ := anon(s, "/")
	s.stop()
	if !strings.Contains(s.first, "no authentication") || code != 200 {
		t.Errorf("--insecure-no-auth on 0.0.0.0: %q, anonymous ListBuckets %d", s.first, code)
	}
	// Credentials from the environment allow a non-loopback address, and
	// are enforced.
	t.Setenv("DG_SERVE_ACCESS_KEY", serveAK)
	t.Setenv("DG_SERVE_SECRET_KEY", serveSK)
	s = startServeArgs(t, h, "--listen", "0.0.0.0:0")
	defer s.stop()
	if !strings.Contains(s.first, "SigV4 required") {
		t.Errorf("credentials from the environment: %q", s.first)
	}
	if code, body := anon(s, "/"); code != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Errorf("anonymous request with credentials from the environment: %d %.300s", code, body)
	}
	if aws, err := exec.LookPath("aws"); err == nil {
		if ls := awsCLI(t, aws, s.url, "s3", "ls"); !strings.Contains(ls, h.bucket) {
			t.Errorf("aws s3 ls with the environment's credentials:\n%s", ls)
		}
	}
}
