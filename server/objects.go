package server

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

// StorageHeader tells the client how an object is stored: "delta" or
// "direct".
const StorageHeader = "x-deltaglider-storage"

const s3TimeFormat = "2006-01-02T15:04:05.000Z"

func quoteETag(e string) string {
	if strings.HasPrefix(e, "\"") {
		return e
	}
	return "\"" + e + "\""
}

func storageOf(i delta.Info) string {
	if i.StoredAs == delta.Delta {
		return "delta"
	}
	return "direct"
}

// needBucket fails with NoSuchBucket before a body is read.
func (s *Server) needBucket(rq *request, bucket string) error {
	ok, err := s.st.BucketExists(rq.ctx, bucket)
	if err != nil {
		return err
	}
	if !ok {
		return store.ErrBucketNotExist
	}
	return nil
}

// userMeta collects x-amz-meta-* headers (names lower-cased).
func userMeta(h http.Header) map[string]string {
	var m map[string]string
	for k, vs := range h {
		if name, ok := cutPrefixFold(k, "X-Amz-Meta-"); ok && len(vs) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			m[strings.ToLower(name)] = strings.Join(vs, ",")
		}
	}
	return m
}

// copyDirective reads a CopyObject directive header: true for REPLACE,
// false for COPY (the default).
func copyDirective(h http.Header, name, what string) (bool, error) {
	switch d := strings.ToUpper(h.Get(name)); d {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	}
	return false, errInvalidArgument("Unknown %s directive.", what)
}

// requestTags parses the x-amz-tagging header (URL query form) of a
// write: nil when absent.
func requestTags(h http.Header) (map[string]string, error) {
	v := h.Get("X-Amz-Tagging")
	if v == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, errInvalidArgument("The x-amz-tagging header is not URL query encoded.")
	}
	tags := make(map[string]string, len(q))
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, apiErr(http.StatusBadRequest, "InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		tags[k] = vs[0]
	}
	if _, err := store.NormalizeTags(tags); err != nil {
		return nil, apiErr(http.StatusBadRequest, "InvalidTag", "%s", cleanMsg(err))
	}
	return tags, nil
}

// getObjectTagging answers GET ?tagging on an object.
func (s *Server) getObjectTagging(rq *request) error {
	tags, err := s.dc.Tags(rq.ctx, rq.bucket, rq.key)
	if err != nil {
		return hidden(err)
	}
	type tag struct {
		Key   string
		Value string
	}
	out := struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
		TagSet  []tag    `xml:"TagSet>Tag"`
	}{}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out.TagSet = append(out.TagSet, tag{k, tags[k]})
	}
	return writeXML(rq, out)
}

// hidden maps "this key names a DeltaGlider internal" to "no such key":
// reads never reveal references and deltas under their stored names.
func hidden(err error) error {
	if errors.Is(err, delta.ErrReservedKey) {
		return fmt.Errorf("%w (reserved name)", store.ErrNotExist)
	}
	return err
}

func (s *Server) recordPut(rq *request, info delta.Info) {
	stored := info.StoredSize
	if info.CreatedReference {
		stored += info.Size
	}
	s.metrics.stored(info.Size, stored, info.StoredAs == delta.Delta, info.CreatedReference)
	rq.storage = storageOf(info)
	rq.w.Header().Set(StorageHeader, rq.storage)
}

// checkWriteConditions applies If-Match / If-None-Match on a write. The
// caller holds the key's lock, so the check and the write are atomic with
// respect to other conditional writers in this process.
func (s *Server) checkWriteConditions(rq *request) error {
	im, inm := rq.r.Header.Get("If-Match"), rq.r.Header.Get("If-None-Match")
	if im == "" && inm == "" {
		return nil
	}
	info, err := s.dc.Stat(rq.ctx, rq.bucket, rq.key)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	failed := apiErr(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
	if inm != "" {
		if strings.TrimSpace(inm) != "*" {
			return errNotImplemented("If-None-Match other than * on a write")
		}
		if exists {
			return failed
		}
	}
	if im != "" {
		if !exists {
			return apiErr(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		}
		if !etagMatches(im, info.ETag) {
			return failed
		}
	}
	return nil
}

func (s *Server) putObject(rq *request) error {
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	body, size, err := requestBody(rq.r, rq.auth)
	if err != nil {
		return err
	}
	if rq.r.Header.Get("If-Match") != "" || rq.r.Header.Get("If-None-Match") != "" {
		unlock := s.keyLocks.lock(rq.bucket + "/" + rq.key)
		defer unlock()
		if err := s.checkWriteConditions(rq); err != nil {
			return err
		}
	}
	if size < 0 {
		size = store.SizeUnknown
	}
	tags, err := requestTags(rq.r.Header)
	if err != nil {
		return err
	}
	info, err := s.dc.Put(rq.ctx, rq.bucket, rq.key, body, delta.PutOptions{
		Size: size, ContentType: rq.r.Header.Get("Content-Type"), Metadata: userMeta(rq.r.Header), Tags: tags})
	if err != nil {
		return err
	}
	s.recordPut(rq, info)
	rq.w.Header().Set("ETag", quoteETag(info.ETag))
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// etagMatches implements If-Match / If-None-Match lists ("*" matches all).
func etagMatches(header, etag string) bool {
	want := strings.Trim(etag, "\"")
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || strings.Trim(t, "\"") == want {
			return true
		}
	}
	return false
}

// byteRange parses a Range header against size. ok is false when the
// header is absent or not a single byte range (S3 then sends the whole
// object).
func byteRange(h string, size int64) (off, length int64, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, size, false, nil
	}
	bad := apiErr(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
	if a == "" {
		n, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, bad
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	start, perr := strconv.ParseInt(a, 10, 64)
	if perr != nil || start < 0 {
		return 0, size, false, nil
	}
	end := size - 1
	if b != "" {
		e, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || e < start {
			return 0, size, false, nil
		}
		end = min(e, size-1)
	}
	if start >= size {
		return 0, 0, false, bad
	}
	return start, end - start + 1, true, nil
}

func parseHTTPTime(v string) (time.Time, bool) {
	t, err := http.ParseTime(v)
	return t, err == nil
}

// readConditions evaluates GET/HEAD conditional headers. It returns the
// status to answer with instead of the object (304 or 412), or 0.
func readConditions(r *http.Request, info delta.Info) int {
	mod := info.ModTime.Truncate(time.Second)
	if v := r.Header.Get("If-Match"); v != "" {
		if !etagMatches(v, info.ETag) {
			return http.StatusPreconditionFailed
		}
	} else if v := r.Header.Get("If-Unmodified-Since"); v != "" {
		if t, ok := parseHTTPTime(v); ok && mod.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if etagMatches(v, info.ETag) {
			return http.StatusNotModified
		}
	} else if v := r.Header.Get("If-Modified-Since"); v != "" {
		if t, ok := parseHTTPTime(v); ok && !mod.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// responseOverrides are GetObject's response-* query parameters.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

func (s *Server) objectHeaders(rq *request, info delta.Info) {
	h := rq.w.Header()
	h.Set("ETag", quoteETag(info.ETag))
	h.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	ct := info.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Accept-Ranges", "bytes")
	for k, v := range info.Metadata {
		h["X-Amz-Meta-"+k] = []string{v}
	}
	rq.storage = storageOf(info)
	h.Set(StorageHeader, rq.storage)
	q := rq.r.URL.Query()
	for p, name := range responseOverrides {
		if v := q.Get(p); v != "" {
			h.Set(name, v)
		}
	}
}

func (s *Server) headObject(rq *request) error { return s.serveObject(rq, true) }
func (s *Server) getObject(rq *request) error  { return s.serveObject(rq, false) }

func (s *Server) serveObject(rq *request, head bool) error {
	if pn := rq.r.URL.Query().Get("partNumber"); pn != "" && pn != "1" {
		return errInvalidArgument("partNumber other than 1 is not supported on a completed object")
	}
	for attempt := 0; ; attempt++ {
		info, err := s.dc.Stat(rq.ctx, rq.bucket, rq.key)
		if err != nil {
			return hidden(err)
		}
		if st := readConditions(rq.r, info); st != 0 {
			if st == http.StatusNotModified {
				rq.w.Header().Set("ETag", quoteETag(info.ETag))
				rq.w.Header().Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
				rq.w.WriteHeader(st)
				return nil
			}
			return apiErr(st, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
		}
		off, length, partial, err := byteRange(rq.r.Header.Get("Range"), info.Size)
		if err != nil {
			rq.w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", info.Size))
			return err
		}
		status := http.StatusOK
		if partial {
			status = http.StatusPartialContent
		}
		if head {
			s.objectHeaders(rq, info)
			if partial {
				rq.w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+length-1, info.Size))
			}
			rq.w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
			rq.w.WriteHeader(status)
			return nil
		}
		rc, ginfo, err := s.dc.Get(rq.ctx, rq.bucket, rq.key, delta.GetOptions{Offset: off, Length: length})
		if err != nil {
			return hidden(err)
		}
		if ginfo.ETag != info.ETag || ginfo.Size != info.Size {
			// Replaced between Stat and Get: start over with the new one.
			rc.Close()
			if attempt < 3 {
				continue
			}
			return apiErr(http.StatusServiceUnavailable, "SlowDown", "The object is being replaced; retry.")
		}
		defer rc.Close()
		// Read the first bytes before committing to a status, so that a
		// reference or delta that fails at once gets a proper error reply.
		buf := make([]byte, 256<<10)
		m, rerr := io.ReadAtLeast(rc, buf, 1)
		if rerr != nil && rerr != io.EOF {
			return rerr
		}
		s.objectHeaders(rq, ginfo)
		if partial {
			rq.w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+length-1, info.Size))
		}
		rq.w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
		rq.w.WriteHeader(status)
		body := io.MultiReader(bytes.NewReader(buf[:m:m]), rc)
		n, err := copyHoldingLast(rq.w, body, make([]byte, 256<<10))
		if err == nil && n != length {
			err = fmt.Errorf("object body was %d bytes, expected %d", n, length)
		}
		return err
	}
}

func (s *Server) deleteObject(rq *request) error {
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	if _, err := s.dc.Delete(rq.ctx, rq.bucket, rq.key); err != nil &&
		!errors.Is(err, delta.ErrReservedKey) && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// copySource parses x-amz-copy-source ("[/]bucket/key[?versionId=...]").
func copySource(h string) (bucket, key string, err error) {
	src, ver, _ := strings.Cut(h, "?")
	if ver != "" {
		if v, _ := url.ParseQuery(ver); v.Get("versionId") != "" && v.Get("versionId") != "null" {
			return "", "", errNotImplemented("copying a version")
		}
	}
	dec, uerr := url.PathUnescape(src)
	if uerr != nil {
		return "", "", errInvalidArgument("Invalid copy source encoding.")
	}
	dec = strings.TrimPrefix(dec, "/")
	bucket, key, _ = strings.Cut(dec, "/")
	if bucket == "" || key == "" {
		return "", "", errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	if err := store.ValidateBucket(bucket); err != nil {
		return "", "", err
	}
	if err := store.ValidateKey(key); err != nil {
		return "", "", err
	}
	return bucket, key, nil
}

// copySourceConditions applies x-amz-copy-source-if-* to the source.
func copySourceConditions(r *http.Request, info delta.Info) error {
	failed := apiErr(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
	mod := info.ModTime.Truncate(time.Second)
	if v := r.Header.Get("X-Amz-Copy-Source-If-Match"); v != "" && !etagMatches(v, info.ETag) {
		return failed
	}
	if v := r.Header.Get("X-Amz-Copy-Source-If-None-Match"); v != "" && etagMatches(v, info.ETag) {
		return failed
	}
	if v := r.Header.Get("X-Amz-Copy-Source-If-Unmodified-Since"); v != "" {
		if t, ok := parseHTTPTime(v); ok && mod.After(t) {
			return failed
		}
	}
	if v := r.Header.Get("X-Amz-Copy-Source-If-Modified-Since"); v != "" {
		if t, ok := parseHTTPTime(v); ok && !mod.After(t) {
			return failed
		}
	}
	return nil
}

type copyResult struct {
	LastModified string
	ETag         string
}

func (s *Server) copyObject(rq *request) error {
	sb, sk, err := copySource(rq.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	replace, err := copyDirective(rq.r.Header, "X-Amz-Metadata-Directive", "metadata")
	if err != nil {
		return err
	}
	replaceTags, err := copyDirective(rq.r.Header, "X-Amz-Tagging-Directive", "tagging")
	if err != nil {
		return err
	}
	tags, err := requestTags(rq.r.Header)
	if err != nil {
		return err
	}
	if sb == rq.bucket && sk == rq.key && !replace {
		return apiErr(http.StatusBadRequest, "InvalidRequest",
			"This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	src, err := s.dc.Stat(rq.ctx, sb, sk)
	if err != nil {
		return hidden(err)
	}
	if err := copySourceConditions(rq.r, src); err != nil {
		return err
	}
	if rq.r.Header.Get("If-Match") != "" || rq.r.Header.Get("If-None-Match") != "" {
		unlock := s.keyLocks.lock(rq.bucket + "/" + rq.key)
		defer unlock()
		if err := s.checkWriteConditions(rq); err != nil {
			return err
		}
	}
	var info delta.Info
	work := func() (any, error) {
		var err error
		info, err = s.dc.Copy(rq.ctx, sb, sk, rq.bucket, rq.key, delta.CopyOptions{ReplaceMetadata: replace,
			Metadata: userMeta(rq.r.Header), ContentType: rq.r.Header.Get("Content-Type"),
			ReplaceTags: replaceTags, Tags: tags})
		if err != nil {
			return nil, hidden(err)
		}
		return struct {
			XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyObjectResult"`
			copyResult
		}{copyResult: copyResult{LastModified: info.ModTime.UTC().Format(s3TimeFormat), ETag: quoteETag(info.ETag)}}, nil
	}
	return s.longRunning(rq, work, func() { s.recordPut(rq, info) })
}

// copyHoldingLast copies r to w but holds back the last byte until r has
// returned io.EOF. The delta engine's readers report a failed SHA-256
// check instead of io.EOF, after the data; since the status and
// Content-Length are already sent, holding one byte back is what makes
// such a failure reach the client as a short body (the connection is then
// cut) instead of a complete, corrupt object.
func copyHoldingLast(w io.Writer, r io.Reader, buf []byte) (int64, error) {
	var (
		n    int64
		last [1]byte
		held bool
	)
	for {
		m, rerr := r.Read(buf)
		if m > 0 {
			if held {
				if _, err := w.Write(last[:]); err != nil {
					return n, err
				}
				n++
			}
			if _, err := w.Write(buf[:m-1]); err != nil {
				return n, err
			}
			n += int64(m - 1)
			last[0], held = buf[m-1], true
		}
		if rerr == io.EOF {
			if held {
				if _, err := w.Write(last[:]); err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}
