package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

// Defaults.
const (
	// DefaultMaxSkew is how far a signed request's time may be from ours.
	DefaultMaxSkew = 15 * time.Minute
	// DefaultMaxHeaderBytes bounds the request line and headers; larger
	// requests get RequestHeaderSectionTooLarge.
	DefaultMaxHeaderBytes = 16 << 10
	// maxMetadataBytes is S3's limit on user metadata (names + values).
	maxMetadataBytes = 2 << 10
	// maxXMLBody bounds request bodies parsed as XML.
	maxXMLBody = 2 << 20
	// shutdownGrace is how long Serve waits for running requests.
	shutdownGrace = 30 * time.Second
)

// Config configures a Server.
type Config struct {
	// Client is the delta object store requests are served from.
	Client *delta.Client
	// Credentials maps access key IDs to secret keys. Empty: no
	// authentication (every request is accepted).
	Credentials map[string]string
	// SpoolDir holds multipart upload parts (default: a new directory
	// under os.TempDir(), removed by Close).
	SpoolDir string
	// Logger receives one structured line per request (default: discard).
	Logger *slog.Logger
	// MaxSkew (default DefaultMaxSkew) and MaxHeaderBytes (default
	// DefaultMaxHeaderBytes) are request limits.
	MaxSkew        time.Duration
	MaxHeaderBytes int
	// Region is reported by GetBucketLocation (default us-east-1).
	Region string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// KeepAlive is how long CompleteMultipartUpload and CopyObject may
	// work before the server commits to a 200 response and sends a space
	// every KeepAlive until the result (or an S3 Error document) follows
	// in the body, as S3 does, so that clients do not time out while a
	// large object is encoded (default 10 s).
	KeepAlive time.Duration
}

// Server is an S3-compatible HTTP handler over a delta.Client.
type Server struct {
	dc        *delta.Client
	st        store.Store
	creds     map[string]string
	log       *slog.Logger
	maxSkew   time.Duration
	maxHeader int
	region    string
	now       func() time.Time
	spool     string
	ownSpool  bool
	uploads   *uploads
	metrics   *metrics
	keyLocks  keyLocks
	started   time.Time
	keepAlive time.Duration
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Client == nil {
		return nil, errors.New("server: Config.Client is nil")
	}
	s := &Server{dc: cfg.Client, st: cfg.Client.Store(), creds: map[string]string{}, log: cfg.Logger,
		maxSkew: cfg.MaxSkew, maxHeader: cfg.MaxHeaderBytes, region: cfg.Region, now: cfg.Now,
		spool: cfg.SpoolDir, metrics: newMetrics(), keepAlive: cfg.KeepAlive}
	for k, v := range cfg.Credentials {
		if k == "" || v == "" {
			return nil, errors.New("server: empty access key or secret key")
		}
		s.creds[k] = v
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxSkew <= 0 {
		s.maxSkew = DefaultMaxSkew
	}
	if s.maxHeader <= 0 {
		s.maxHeader = DefaultMaxHeaderBytes
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.keepAlive <= 0 {
		s.keepAlive = 10 * time.Second
	}
	if s.spool == "" {
		d, err := os.MkdirTemp("", "deltaglider-serve-spool-*")
		if err != nil {
			return nil, fmt.Errorf("server: creating the multipart spool: %w", err)
		}
		s.spool, s.ownSpool = d, true
	} else if err := os.MkdirAll(s.spool, 0o700); err != nil {
		return nil, fmt.Errorf("server: creating the multipart spool: %w", err)
	}
	s.uploads = newUploads(s.spool)
	s.started = time.Now()
	return s, nil
}

// AuthEnabled reports whether requests must be signed.
func (s *Server) AuthEnabled() bool { return len(s.creds) > 0 }

// Close removes in-progress multipart uploads (and the spool directory if
// the server created it).
func (s *Server) Close() error {
	s.uploads.abortAll()
	if s.ownSpool {
		return os.RemoveAll(s.spool)
	}
	return nil
}

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully:
// it stops accepting connections and waits (up to 30 s) for running
// requests. tlsCert and tlsKey, when both set, serve HTTPS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsCert, tlsKey string) error {
	hs := &http.Server{
		Handler:           s,
		MaxHeaderBytes:    1 << 20, // beyond this Go answers 431 itself
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() {
		if tlsCert != "" || tlsKey != "" {
			errc <- hs.ServeTLS(ln, tlsCert, tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", shutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		hs.Close()
	}
	<-errc
	return err
}

// request is the per-request state handlers share.
type request struct {
	w      *respWriter
	r      *http.Request
	ctx    context.Context
	bucket string
	key    string
	auth   *authInfo
	op     string
	// storage is what x-deltaglider-storage said, for the log.
	storage string
}

// respWriter records the status and body size.
type respWriter struct {
	http.ResponseWriter
	status  int
	written int64
	wrote   bool
}

func (w *respWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

func (w *respWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// countingBody counts request body bytes read.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

var ridCounter atomic.Uint64

// ridPrefix is drawn on first use, so that commands other than serve do
// not pay for it at start-up.
var ridPrefix = sync.OnceValue(func() string {
	b := make([]byte, 4)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
})

func requestID() string { return fmt.Sprintf("%s%08X", ridPrefix(), ridCounter.Add(1)) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(hw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &respWriter{ResponseWriter: hw, status: http.StatusOK}
	rid := requestID()
	h := w.Header()
	h.Set("x-amz-request-id", rid)
	h.Set("Server", "deltaglider")
	var bodyIn atomic.Int64
	if r.Body != nil {
		r.Body = countingBody{r.Body, &bodyIn}
	}
	rq := &request{w: w, r: r, ctx: r.Context(), op: "unknown"}
	s.metrics.inflight.Add(1)
	var abortErr error
	defer func() {
		s.metrics.inflight.Add(-1)
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				if abortErr == nil {
					abortErr = errors.New("response aborted")
				}
				s.finish(rq, start, rid, bodyIn.Load(), abortErr)
				panic(v)
			}
			s.log.Error("panic in handler", "rid", rid, "panic", fmt.Sprint(v))
			if !w.wrote {
				s.writeError(rq, apiErr(http.StatusInternalServerError, "InternalError", "internal error"))
			}
			s.finish(rq, start, rid, bodyIn.Load(), fmt.Errorf("panic: %v", v))
			return
		}
	}()
	err := s.dispatch(rq)
	if err != nil {
		if w.wrote {
			// Headers are out (a GET failing mid-stream, e.g. an integrity
			// error): abort the connection so the client sees a short body.
			abortErr = err
			panic(http.ErrAbortHandler)
		}
		s.writeError(rq, err)
	}
	s.finish(rq, start, rid, bodyIn.Load(), err)
}

func (s *Server) finish(rq *request, start time.Time, rid string, in int64, err error) {
	d := time.Since(start)
	s.metrics.observe(rq.op, rq.w.status, d, in, rq.w.written)
	attrs := []any{"rid", rid, "op", rq.op, "method", rq.r.Method, "path", rq.r.URL.Path,
		"status", rq.w.status, "in", in, "out", rq.w.written, "ms", float64(d.Microseconds()) / 1000,
		"remote", rq.r.RemoteAddr}
	if rq.storage != "" {
		attrs = append(attrs, "storage", rq.storage)
	}
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, "err", err.Error())
		if rq.w.status >= 500 {
			level = slog.LevelError
		}
	}
	s.log.Log(context.Background(), level, "request", attrs...)
}

func (s *Server) writeError(rq *request, err error) {
	ae := toAPIError(err)
	if ae.Status >= 500 {
		s.log.Error("internal error", "op", rq.op, "path", rq.r.URL.Path, "err", err.Error())
	}
	h := rq.w.Header()
	for _, k := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "x-deltaglider-storage"} {
		h.Del(k)
	}
	if rq.r.Method == http.MethodHead || ae.Status == http.StatusNotModified {
		rq.w.WriteHeader(ae.Status)
		return
	}
	body := errorDocument(ae, rq.r.URL.Path, h.Get("x-amz-request-id"))
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(xml.Header)+len(body)))
	rq.w.WriteHeader(ae.Status)
	io.WriteString(rq.w, xml.Header)
	rq.w.Write(body)
}

// writeXML sends a 200 response with an XML document.
func writeXML(rq *request, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(xml.Header)+len(body)))
	rq.w.WriteHeader(http.StatusOK)
	io.WriteString(rq.w, xml.Header)
	_, err = rq.w.Write(body)
	return err
}

// headerSize is the size of the request line and headers as sent.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(r.Host) + 16
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

func metadataSize(r *http.Request) int {
	n := 0
	for k, vs := range r.Header {
		if name, ok := cutPrefixFold(k, "X-Amz-Meta-"); ok {
			for _, v := range vs {
				n += len(name) + len(v)
			}
		}
	}
	return n
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// dispatch checks limits and authentication, then routes the request.
func (s *Server) dispatch(rq *request) error {
	r := rq.r
	// Unauthenticated service endpoints. Bucket names cannot start with
	// "-", so /-/health and /-/metrics never shadow a bucket; the short
	// forms answer only unsigned GETs without a query.
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		plain := r.URL.RawQuery == "" && r.Header.Get("Authorization") == ""
		switch {
		case r.URL.Path == "/-/health" || (plain && r.URL.Path == "/health"):
			rq.op = "health"
			return s.health(rq)
		case r.URL.Path == "/-/metrics" || (plain && r.URL.Path == "/metrics"):
			rq.op = "metrics"
			return s.writeMetrics(rq)
		}
	}
	if headerSize(r) > s.maxHeader {
		return apiErr(http.StatusBadRequest, "RequestHeaderSectionTooLarge",
			"Your request header section exceeds the maximum allowed size (%d bytes).", s.maxHeader)
	}
	if metadataSize(r) > maxMetadataBytes {
		return apiErr(http.StatusBadRequest, "MetadataTooLarge",
			"Your metadata headers exceed the maximum allowed metadata size (%d bytes).", maxMetadataBytes)
	}
	ai, err := s.authenticate(r)
	if err != nil {
		rq.op = "auth"
		return err
	}
	rq.auth = ai
	path := r.URL.Path
	if !strings.HasPrefix(path, "/") {
		return errInvalidArgument("request path must start with /")
	}
	rq.bucket, rq.key, _ = strings.Cut(path[1:], "/")
	h := s.route(rq)
	if h == nil {
		return apiErr(http.StatusMethodNotAllowed, "MethodNotAllowed",
			"The specified method is not allowed against this resource.")
	}
	if rq.bucket != "" {
		if err := store.ValidateBucket(rq.bucket); err != nil {
			return err
		}
	}
	if rq.key != "" {
		if err := store.ValidateKey(rq.key); err != nil {
			return err
		}
	}
	return h(rq)
}

// unsupported lists sub-resources answered with NotImplemented.
var unsupported = []string{"acl", "policy", "cors", "lifecycle", "tagging", "website", "encryption",
	"replication", "notification", "object-lock", "ownershipControls", "publicAccessBlock", "logging",
	"accelerate", "requestPayment", "analytics", "metrics", "inventory", "intelligent-tiering",
	"retention", "legal-hold", "torrent", "restore", "select", "attributes", "versions", "versionId",
	"policyStatus", "replication"}

func unsupportedSub(rq *request) string {
	q := rq.r.URL.Query()
	for _, k := range unsupported {
		if q.Has(k) {
			return k
		}
	}
	return ""
}

// route picks the handler of an S3 operation and names it for metrics.
func (s *Server) route(rq *request) func(*request) error {
	q := rq.r.URL.Query()
	m := rq.r.Method
	set := func(op string, h func(*request) error) func(*request) error {
		rq.op = op
		return h
	}
	if rq.bucket == "" {
		if m == http.MethodGet {
			return set("ListBuckets", s.listBuckets)
		}
		return nil
	}
	if rq.key != "" && m == http.MethodGet && q.Has("tagging") && len(q) == 1 {
		return set("GetObjectTagging", s.getObjectTagging)
	}
	if sub := unsupportedSub(rq); sub != "" {
		return set("Unsupported", func(*request) error { return errNotImplemented("the ?" + sub + " sub-resource") })
	}
	if rq.key == "" {
		switch m {
		case http.MethodGet:
			switch {
			case q.Has("uploads"):
				return set("ListMultipartUploads", s.listUploads)
			case q.Has("location"):
				return set("GetBucketLocation", s.bucketLocation)
			case q.Has("versioning"):
				return set("GetBucketVersioning", s.bucketVersioning)
			case q.Get("list-type") == "2":
				return set("ListObjectsV2", s.listObjectsV2)
			}
			return set("ListObjects", s.listObjectsV1)
		case http.MethodHead:
			return set("HeadBucket", s.headBucket)
		case http.MethodPut:
			return set("CreateBucket", s.createBucket)
		case http.MethodDelete:
			return set("DeleteBucket", s.deleteBucket)
		case http.MethodPost:
			if q.Has("delete") {
				return set("DeleteObjects", s.deleteObjects)
			}
		}
		return nil
	}
	switch m {
	case http.MethodGet:
		if q.Has("uploadId") {
			return set("ListParts", s.listParts)
		}
		return set("GetObject", s.getObject)
	case http.MethodHead:
		return set("HeadObject", s.headObject)
	case http.MethodPut:
		if q.Has("uploadId") || q.Has("partNumber") {
			if rq.r.Header.Get("X-Amz-Copy-Source") != "" {
				return set("UploadPartCopy", s.uploadPartCopy)
			}
			return set("UploadPart", s.uploadPart)
		}
		if rq.r.Header.Get("X-Amz-Copy-Source") != "" {
			return set("CopyObject", s.copyObject)
		}
		return set("PutObject", s.putObject)
	case http.MethodDelete:
		if q.Has("uploadId") {
			return set("AbortMultipartUpload", s.abortUpload)
		}
		return set("DeleteObject", s.deleteObject)
	case http.MethodPost:
		switch {
		case q.Has("uploads"):
			return set("CreateMultipartUpload", s.createUpload)
		case q.Has("uploadId"):
			return set("CompleteMultipartUpload", s.completeUpload)
		}
	}
	return nil
}

func (s *Server) health(rq *request) error {
	h := rq.w.Header()
	h.Set("Content-Type", "application/json")
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method == http.MethodHead {
		return nil
	}
	_, err := fmt.Fprintf(rq.w, "{\"status\":\"ok\",\"uptime_seconds\":%.0f}\n", time.Since(s.started).Seconds())
	return err
}

// keyLocks serialises conditional writes to one key within this process.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyLocks) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// errorDocument is the S3 XML error body.
func errorDocument(ae *APIError, resource, rid string) []byte {
	body, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string
		RequestID string `xml:"RequestId"`
	}{Code: ae.Code, Message: ae.Message, Resource: resource, RequestID: rid})
	return body
}

// longRunning runs work, which must not touch rq.w, and sends its XML
// result. If work takes longer than s.keepAlive, the 200 status and the
// XML declaration go out first and a space follows every s.keepAlive; the
// result, or an S3 Error document, then completes the body (S3's
// behaviour for CompleteMultipartUpload and CopyObject). done runs on
// success before anything of the result is written.
func (s *Server) longRunning(rq *request, work func() (any, error), done func()) error {
	type result struct {
		v   any
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := work()
		ch <- result{v, err}
	}()
	t := time.NewTimer(s.keepAlive)
	defer t.Stop()
	started := false
	for {
		select {
		case r := <-ch:
			if r.err == nil && done != nil {
				done()
			}
			if !started {
				if r.err != nil {
					return r.err
				}
				return writeXML(rq, r.v)
			}
			var body []byte
			if r.err != nil {
				ae := toAPIError(r.err)
				s.log.Warn("error after a 200 keep-alive response", "op", rq.op, "path", rq.r.URL.Path, "err", r.err.Error())
				body = errorDocument(ae, rq.r.URL.Path, rq.w.Header().Get("x-amz-request-id"))
			} else {
				var err error
				if body, err = xml.Marshal(r.v); err != nil {
					return err
				}
			}
			_, err := rq.w.Write(body)
			return err
		case <-t.C:
			if !started {
				rq.w.Header().Set("Content-Type", "application/xml")
				rq.w.WriteHeader(http.StatusOK)
				io.WriteString(rq.w, xml.Header)
				started = true
			} else {
				io.WriteString(rq.w, " ")
			}
			rq.w.Flush()
			t.Reset(s.keepAlive)
		}
	}
}
