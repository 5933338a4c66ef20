package server

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deltaglider-go/deltaglider/delta"
)

// S3's multipart limits.
const (
	maxParts    = 10000
	minPartSize = 5 << 20
	maxPartSize = 5 << 30
)

// uploads tracks multipart uploads in progress. Parts are spooled to files
// under dir/<upload id>/, never held in memory; the table of uploads lives
// in memory only, so uploads do not survive a restart (their spool is
// removed).
type uploads struct {
	dir string
	mu  sync.Mutex
	m   map[string]*upload
}

type upload struct {
	id, bucket, key string
	created         time.Time
	contentType     string
	meta            map[string]string
	tags            map[string]string
	dir             string

	mu         sync.Mutex
	parts      map[int]partInfo
	completing bool
	gone       bool
}

type partInfo struct {
	etag    string // hex MD5, unquoted
	size    int64
	modTime time.Time
}

func newUploads(dir string) *uploads {
	// Spool directories left by an earlier process are of no use.
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if validUploadID(e.Name()) {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
	return &uploads{dir: dir, m: map[string]*upload{}}
}

func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func (u *uploads) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.m)
}

func (u *uploads) get(id, bucket, key string) (*upload, error) {
	if !validUploadID(id) {
		return nil, errNoSuchUpload()
	}
	u.mu.Lock()
	up := u.m[id]
	u.mu.Unlock()
	if up == nil || up.bucket != bucket || up.key != key {
		return nil, errNoSuchUpload()
	}
	return up, nil
}

func (u *uploads) remove(up *upload) {
	u.mu.Lock()
	delete(u.m, up.id)
	u.mu.Unlock()
	up.mu.Lock()
	up.gone = true
	up.mu.Unlock()
	os.RemoveAll(up.dir)
}

func (u *uploads) abortAll() {
	u.mu.Lock()
	all := make([]*upload, 0, len(u.m))
	for _, up := range u.m {
		all = append(all, up)
	}
	u.mu.Unlock()
	for _, up := range all {
		u.remove(up)
	}
}

func (u *uploads) abortBucket(bucket string) {
	u.mu.Lock()
	var all []*upload
	for _, up := range u.m {
		if up.bucket == bucket {
			all = append(all, up)
		}
	}
	u.mu.Unlock()
	for _, up := range all {
		u.remove(up)
	}
}

// reservedKey refuses the names the delta engine keeps for itself
// (reference.bin, *.delta, .deltaglider/), so that a multipart upload to
// one fails at once instead of after its parts were spooled.
func reservedKey(key string) error {
	name := key[strings.LastIndexByte(key, '/')+1:]
	if name == delta.ReferenceName || strings.HasSuffix(name, delta.DeltaSuffix) || strings.HasPrefix(key, delta.InternalPrefix) {
		return fmt.Errorf("%w: %q", delta.ErrReservedKey, key)
	}
	return nil
}

func (s *Server) createUpload(rq *request) error {
	if err := reservedKey(rq.key); err != nil {
		return err
	}
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	tags, err := requestTags(rq.r.Header)
	if err != nil {
		return err
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	up := &upload{id: id, bucket: rq.bucket, key: rq.key, created: s.now().UTC(),
		contentType: rq.r.Header.Get("Content-Type"), meta: userMeta(rq.r.Header), tags: tags,
		dir: filepath.Join(s.uploads.dir, id), parts: map[int]partInfo{}}
	if err := os.Mkdir(up.dir, 0o700); err != nil {
		return err
	}
	s.uploads.mu.Lock()
	s.uploads.m[id] = up
	s.uploads.mu.Unlock()
	return writeXML(rq, struct {
		XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}{Bucket: rq.bucket, Key: rq.key, UploadID: id})
}

func partNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxParts {
		return 0, errInvalidArgument("Part number must be an integer between 1 and %d, inclusive", maxParts)
	}
	return n, nil
}

// storePart spools r as part n of up: to a temporary file in the upload's
// directory, renamed into place only when complete and verified.
func (s *Server) storePart(up *upload, n int, r io.Reader, size int64) (partInfo, error) {
	tmp, err := os.CreateTemp(up.dir, "tmp-*")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return partInfo{}, errNoSuchUpload()
		}
		return partInfo{}, err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := md5.New()
	got, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, maxPartSize+1))
	if err != nil {
		return partInfo{}, err
	}
	if got > maxPartSize {
		return partInfo{}, apiErr(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	if size >= 0 && got != size {
		return partInfo{}, apiErr(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	if err := tmp.Close(); err != nil {
		return partInfo{}, err
	}
	pi := partInfo{etag: hex.EncodeToString(h.Sum(nil)), size: got, modTime: s.now().UTC()}
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.gone || up.completing {
		return partInfo{}, errNoSuchUpload()
	}
	if err := os.Rename(tmp.Name(), up.partPath(n)); err != nil {
		return partInfo{}, err
	}
	up.parts[n] = pi
	return pi, nil
}

func (up *upload) partPath(n int) string { return filepath.Join(up.dir, fmt.Sprintf("part-%05d", n)) }

func (s *Server) uploadPart(rq *request) error {
	q := rq.r.URL.Query()
	n, err := partNumber(q.Get("partNumber"))
	if err != nil {
		return err
	}
	up, err := s.uploads.get(q.Get("uploadId"), rq.bucket, rq.key)
	if err != nil {
		return err
	}
	body, size, err := requestBody(rq.r, rq.auth)
	if err != nil {
		return err
	}
	pi, err := s.storePart(up, n, body, size)
	if err != nil {
		return err
	}
	rq.w.Header().Set("ETag", quoteETag(pi.etag))
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) uploadPartCopy(rq *request) error {
	q := rq.r.URL.Query()
	n, err := partNumber(q.Get("partNumber"))
	if err != nil {
		return err
	}
	up, err := s.uploads.get(q.Get("uploadId"), rq.bucket, rq.key)
	if err != nil {
		return err
	}
	sb, sk, err := copySource(rq.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	info, err := s.dc.Stat(rq.ctx, sb, sk)
	if err != nil {
		return hidden(err)
	}
	if err := copySourceConditions(rq.r, info); err != nil {
		return err
	}
	off, length := int64(0), info.Size
	if rg := rq.r.Header.Get("X-Amz-Copy-Source-Range"); rg != "" {
		var ok bool
		off, length, ok, err = byteRange(rg, info.Size)
		if err != nil || !ok {
			return apiErr(http.StatusBadRequest, "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
	}
	rc, _, err := s.dc.Get(rq.ctx, sb, sk, delta.GetOptions{Offset: off, Length: length})
	if err != nil {
		return hidden(err)
	}
	defer rc.Close()
	pi, err := s.storePart(up, n, rc, length)
	if err != nil {
		return err
	}
	return writeXML(rq, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyPartResult"`
		copyResult
	}{copyResult: copyResult{LastModified: pi.modTime.Format(s3TimeFormat), ETag: quoteETag(pi.etag)}})
}

// partsReader reads the listed part files one after another, opening one
// file at a time.
type partsReader struct {
	paths []string
	cur   *os.File
}

func (p *partsReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if len(p.paths) == 0 {
				return 0, io.EOF
			}
			f, err := os.Open(p.paths[0])
			if err != nil {
				return 0, err
			}
			p.cur, p.paths = f, p.paths[1:]
		}
		n, err := p.cur.Read(b)
		if err == io.EOF {
			p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (p *partsReader) Close() {
	if p.cur != nil {
		p.cur.Close()
	}
}

func (s *Server) completeUpload(rq *request) error {
	up, err := s.uploads.get(rq.r.URL.Query().Get("uploadId"), rq.bucket, rq.key)
	if err != nil {
		return err
	}
	var req struct {
		XMLName xml.Name `xml:"CompleteMultipartUpload"`
		Parts   []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := readXMLBody(rq, &req, false); err != nil {
		return err
	}
	if len(req.Parts) == 0 {
		return apiErr(http.StatusBadRequest, "InvalidRequest", "You must specify at least one part")
	}
	if len(req.Parts) > maxParts {
		return errMalformedXML()
	}
	up.mu.Lock()
	if up.gone || up.completing {
		up.mu.Unlock()
		return errNoSuchUpload()
	}
	var paths []string
	var total int64
	invalidPart := apiErr(http.StatusBadRequest, "InvalidPart",
		"One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
	for i, p := range req.Parts {
		if i > 0 && p.PartNumber <= req.Parts[i-1].PartNumber {
			up.mu.Unlock()
			return apiErr(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		pi, ok := up.parts[p.PartNumber]
		if !ok || strings.Trim(p.ETag, "\" ") != pi.etag {
			up.mu.Unlock()
			return invalidPart
		}
		if i < len(req.Parts)-1 && pi.size < minPartSize {
			up.mu.Unlock()
			return apiErr(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
		}
		paths = append(paths, up.partPath(p.PartNumber))
		total += pi.size
	}
	up.completing = true
	up.mu.Unlock()

	var info delta.Info
	work := func() (any, error) {
		pr := &partsReader{paths: paths}
		defer pr.Close()
		var err error
		info, err = s.dc.Put(rq.ctx, rq.bucket, rq.key, pr, delta.PutOptions{Size: total,
			ContentType: up.contentType, Metadata: up.meta, Tags: up.tags})
		if err != nil {
			up.mu.Lock()
			up.completing = false
			up.mu.Unlock()
			return nil, err
		}
		s.uploads.remove(up)
		return struct {
			XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
			Location string
			Bucket   string
			Key      string
			ETag     string
		}{Location: "/" + rq.bucket + "/" + rq.key, Bucket: rq.bucket, Key: rq.key, ETag: quoteETag(info.ETag)}, nil
	}
	return s.longRunning(rq, work, func() { s.recordPut(rq, info) })
}

func (s *Server) abortUpload(rq *request) error {
	up, err := s.uploads.get(rq.r.URL.Query().Get("uploadId"), rq.bucket, rq.key)
	if err != nil {
		return err
	}
	s.uploads.remove(up)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listParts(rq *request) error {
	q := rq.r.URL.Query()
	up, err := s.uploads.get(q.Get("uploadId"), rq.bucket, rq.key)
	if err != nil {
		return err
	}
	maxP := 1000
	if v := q.Get("max-parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidArgument("max-parts must be a non-negative integer")
		}
		maxP = min(n, 1000)
	}
	marker := 0
	if v := q.Get("part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidArgument("part-number-marker must be a non-negative integer")
		}
		marker = n
	}
	type part struct {
		PartNumber   int
		LastModified string
		ETag         string
		Size         int64
	}
	res := struct {
		XMLName              xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
		Bucket               string
		Key                  string
		UploadID             string `xml:"UploadId"`
		Initiator            owner
		Owner                owner
		StorageClass         string
		PartNumberMarker     int
		NextPartNumberMarker int
		MaxParts             int
		IsTruncated          bool
		Parts                []part `xml:"Part"`
	}{Bucket: rq.bucket, Key: rq.key, UploadID: up.id, Initiator: serverOwner, Owner: serverOwner,
		StorageClass: "STANDARD", PartNumberMarker: marker, MaxParts: maxP}
	up.mu.Lock()
	nums := make([]int, 0, len(up.parts))
	for n := range up.parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	for _, n := range nums {
		if len(res.Parts) == maxP {
			res.IsTruncated = true
			break
		}
		pi := up.parts[n]
		res.Parts = append(res.Parts, part{n, pi.modTime.Format(s3TimeFormat), quoteETag(pi.etag), pi.size})
		res.NextPartNumberMarker = n
	}
	up.mu.Unlock()
	return writeXML(rq, res)
}

func (s *Server) listUploads(rq *request) error {
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	q := rq.r.URL.Query()
	prefix, keyMarker, idMarker := q.Get("prefix"), q.Get("key-marker"), q.Get("upload-id-marker")
	maxU := 1000
	if v := q.Get("max-uploads"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidArgument("max-uploads must be a non-negative integer")
		}
		maxU = min(n, 1000)
	}
	type item struct {
		Key          string
		UploadID     string `xml:"UploadId"`
		Initiator    owner
		Owner        owner
		StorageClass string
		Initiated    string
	}
	res := struct {
		XMLName            xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
		Bucket             string
		KeyMarker          string
		UploadIDMarker     string `xml:"UploadIdMarker"`
		NextKeyMarker      string `xml:",omitempty"`
		NextUploadIDMarker string `xml:"NextUploadIdMarker,omitempty"`
		Prefix             string
		MaxUploads         int
		IsTruncated        bool
		Uploads            []item `xml:"Upload"`
	}{Bucket: rq.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix, MaxUploads: maxU}
	var all []item
	s.uploads.mu.Lock()
	for _, up := range s.uploads.m {
		if up.bucket != rq.bucket || !strings.HasPrefix(up.key, prefix) {
			continue
		}
		// After the markers: keys past key-marker, and with
		// upload-id-marker also key-marker's uploads past that id.
		if keyMarker != "" && (up.key < keyMarker || up.key == keyMarker && (idMarker == "" || up.id <= idMarker)) {
			continue
		}
		all = append(all, item{up.key, up.id, serverOwner, serverOwner, "STANDARD", up.created.Format(s3TimeFormat)})
	}
	s.uploads.mu.Unlock()
	slices.SortFunc(all, func(a, b item) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.UploadID, b.UploadID)
	})
	if len(all) > maxU {
		all, res.IsTruncated = all[:maxU], true
		if maxU > 0 {
			res.NextKeyMarker, res.NextUploadIDMarker = all[maxU-1].Key, all[maxU-1].UploadID
		}
	}
	res.Uploads = all
	return writeXML(rq, res)
}
