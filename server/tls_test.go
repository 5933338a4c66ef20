package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/fsstore"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deltaglider test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestTLSStreamingAndGracefulShutdown serves HTTPS; an unseekable body
// with a CRC32 checksum makes aws-sdk-go-v2 send aws-chunked with the
// checksum as a trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER, verified by
// the server). Then an upload still in flight when shutdown starts
// completes, and Serve returns once it has.
func TestTLSStreamingAndGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, t.TempDir())
	st, err := fsstore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dc, err := delta.New(st, delta.WithoutCache(), delta.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	srv, err := New(Config{Client: dc, Credentials: map[string]string{testAK: testSK}, SpoolDir: t.TempDir(),
		Logger: slog.New(slog.NewJSONHandler(&lockedBuilder{b: &logs}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, certFile, keyFile) }()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	cli := s3.New(s3.Options{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider(testAK, testSK, ""),
		BaseEndpoint: aws.String("https://" + ln.Addr().String()), UsePathStyle: true, HTTPClient: hc, Retryer: aws.NopRetryer{}})
	bg := context.Background()
	if _, err := cli.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("tls")}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(61, 3<<20+17)
	if _, err := cli.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String("tls"), Key: aws.String("s/stream.bin"),
		Body: io.MultiReader(bytes.NewReader(data)), ContentLength: aws.Int64(int64(len(data))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}); err != nil {
		t.Fatalf("streaming PutObject over TLS: %v", err)
	}
	out, err := cli.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String("tls"), Key: aws.String("s/stream.bin")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("streamed object differs")
	}
	if !strings.Contains(logs.String(), `"op":"PutObject"`) {
		t.Errorf("no JSON request log line: %.500s", logs.String())
	}

	// Graceful shutdown: an upload whose body is still arriving.
	// The body's first MiB is available at once; the rest only after
	// shutdown has started.
	gate := make(chan struct{})
	body := &gatedReader{data: data, open: 1 << 20, gate: gate}
	putErr := make(chan error, 1)
	go func() {
		_, err := cli.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String("tls"), Key: aws.String("s/late.bin"),
			Body: body, ContentLength: aws.Int64(int64(len(data)))})
		putErr <- err
	}()
	<-body.reachedGate()
	// Wait until the server is handling it: a request still unread in the
	// socket of a keep-alive connection counts as idle for Shutdown.
	for srv.metrics.inflight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel() // shutdown starts while the body is half sent
	select {
	case err := <-done:
		t.Fatalf("Serve returned before the in-flight upload finished: %v\n%s", err, logs.String())
	case err := <-putErr:
		t.Fatalf("upload ended before the rest of its body was sent: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(gate)
	if err := <-putErr; err != nil {
		t.Fatalf("in-flight upload during shutdown: %v", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	rc, _, err := dc.Get(bg, "tls", "s/late.bin", delta.GetOptions{Length: -1})
	if err != nil {
		t.Fatal(err)
	}
	late, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(late, data) {
		t.Error("object uploaded during shutdown differs")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// gatedReader yields data[:open] at once and the rest once gate is closed.
type gatedReader struct {
	data    []byte
	open    int
	off     int
	gate    chan struct{}
	once    sync.Once
	reached chan struct{}
}

func (g *gatedReader) reachedGate() chan struct{} {
	g.once.Do(func() { g.reached = make(chan struct{}) })
	return g.reached
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.off >= len(g.data) {
		return 0, io.EOF
	}
	if g.off >= g.open {
		close(g.reachedGate())
		<-g.gate
		g.open = len(g.data)
	}
	n := copy(p, g.data[g.off:g.open])
	g.off += n
	return n, nil
}
