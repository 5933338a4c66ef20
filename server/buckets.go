package server

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

type owner struct {
	ID          string
	DisplayName string
}

var serverOwner = owner{ID: "deltaglider", DisplayName: "deltaglider"}

func (s *Server) listBuckets(rq *request) error {
	names, err := s.st.ListBuckets(rq.ctx)
	if err != nil {
		return err
	}
	type bucket struct {
		Name         string
		CreationDate string
	}
	res := struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
		Owner   owner
		Buckets []bucket `xml:"Buckets>Bucket"`
	}{Owner: serverOwner}
	for _, n := range names {
		// The Store interface keeps no creation time.
		res.Buckets = append(res.Buckets, bucket{Name: n, CreationDate: s.started.UTC().Format(s3TimeFormat)})
	}
	return writeXML(rq, res)
}

// readXMLBody reads a small request body (verifying declared digests) and
// unmarshals it into v; an empty body is allowed when allowEmpty.
func readXMLBody(rq *request, v any, allowEmpty bool) error {
	body, _, err := requestBody(rq.r, rq.auth)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(body, maxXMLBody+1))
	if err != nil {
		return err
	}
	if len(data) > maxXMLBody {
		return apiErr(http.StatusBadRequest, "MaxMessageLengthExceeded", "Your request was too big.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if allowEmpty {
			return nil
		}
		return errMalformedXML()
	}
	if err := xml.Unmarshal(data, v); err != nil {
		return errMalformedXML()
	}
	return nil
}

func (s *Server) createBucket(rq *request) error {
	var cfg struct {
		XMLName            xml.Name `xml:"CreateBucketConfiguration"`
		LocationConstraint string
	}
	if err := readXMLBody(rq, &cfg, true); err != nil {
		return err
	}
	if err := s.st.CreateBucket(rq.ctx, rq.bucket); err != nil {
		return err
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) headBucket(rq *request) error {
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	rq.w.Header().Set("x-amz-bucket-region", s.region)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// deleteBucket removes a bucket that holds no logical objects. References
// left by deleted objects (Delete keeps them, see delta.Client.Delete) are
// reclaimed first with Purge's safety checks.
func (s *Server) deleteBucket(rq *request) error {
	err := s.st.DeleteBucket(rq.ctx, rq.bucket)
	if !errors.Is(err, store.ErrBucketNotEmpty) {
		if err == nil {
			s.uploads.abortBucket(rq.bucket)
			rq.w.WriteHeader(http.StatusNoContent)
		}
		return err
	}
	entries, _, lerr := s.list(rq, "", "", "", 1, true)
	if lerr != nil {
		return lerr
	}
	if len(entries) > 0 {
		return err
	}
	if _, perr := s.dc.Purge(rq.ctx, rq.bucket, ""); perr != nil {
		return perr
	}
	var internal []string
	if lerr := s.st.List(rq.ctx, rq.bucket, store.ListOptions{Prefix: delta.InternalPrefix}, func(e store.Entry) error {
		internal = append(internal, e.Key)
		return nil
	}); lerr != nil {
		return lerr
	}
	if len(internal) > 0 {
		if derr := s.st.DeleteMany(rq.ctx, rq.bucket, internal); derr != nil {
			return derr
		}
	}
	if err := s.st.DeleteBucket(rq.ctx, rq.bucket); err != nil {
		return err
	}
	s.uploads.abortBucket(rq.bucket)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) bucketLocation(rq *request) error {
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	loc := s.region
	if loc == "us-east-1" {
		loc = ""
	}
	return writeXML(rq, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
		Value   string   `xml:",chardata"`
	}{Value: loc})
}

func (s *Server) bucketVersioning(rq *request) error {
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	return writeXML(rq, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
	}{})
}

var errStopList = errors.New("listing is full")

// list returns up to max logical entries after `after`, and whether more
// follow.
func (s *Server) list(rq *request, prefix, delim, after string, max int, storedSizes bool) ([]delta.ListEntry, bool, error) {
	var out []delta.ListEntry
	truncated := false
	err := s.dc.List(rq.ctx, rq.bucket, delta.ListOptions{Prefix: prefix, Delimiter: delim, StartAfter: after,
		StoredSizes: storedSizes}, func(e delta.ListEntry) error {
		if len(out) >= max {
			truncated = true
			return errStopList
		}
		out = append(out, e)
		return nil
	})
	if err != nil && !errors.Is(err, errStopList) {
		return nil, false, err
	}
	return out, truncated, nil
}

type listObject struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
	Owner        *owner `xml:",omitempty"`
}

type commonPrefix struct {
	Prefix string
}

type listResult struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string
	Prefix                string
	Marker                *string `xml:",omitempty"`
	NextMarker            string  `xml:",omitempty"`
	ContinuationToken     string  `xml:",omitempty"`
	NextContinuationToken string  `xml:",omitempty"`
	StartAfter            string  `xml:",omitempty"`
	KeyCount              *int    `xml:",omitempty"`
	MaxKeys               int
	Delimiter             string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	Contents              []listObject
	CommonPrefixes        []commonPrefix
}

func maxKeys(v string) (int, error) {
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errInvalidArgument("Provided max-keys not an integer or within integer range")
	}
	return min(n, 1000), nil
}

// listCommon runs a listing and fills in the shared parts of the result.
func (s *Server) listCommon(rq *request, res *listResult, after string, fetchOwner bool) (string, error) {
	q := rq.r.URL.Query()
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return "", errInvalidArgument("Invalid Encoding Method specified in Request")
	}
	n, err := maxKeys(q.Get("max-keys"))
	if err != nil {
		return "", err
	}
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return "", err
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	encode := func(v string) string {
		if enc == "url" {
			return uriEncode(v, false)
		}
		return v
	}
	entries, truncated, err := s.list(rq, prefix, delim, after, n, false)
	if err != nil {
		return "", err
	}
	res.Name, res.Prefix, res.Delimiter, res.MaxKeys, res.EncodingType = rq.bucket, encode(prefix), encode(delim), n, enc
	res.IsTruncated = truncated
	last := ""
	for _, e := range entries {
		last = e.Key
		if e.IsPrefix {
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{encode(e.Key)})
			continue
		}
		o := listObject{Key: encode(e.Key), LastModified: e.ModTime.UTC().Format(s3TimeFormat),
			ETag: quoteETag(e.ETag), Size: e.Size, StorageClass: "STANDARD"}
		if fetchOwner {
			o.Owner = &serverOwner
		}
		res.Contents = append(res.Contents, o)
	}
	return last, nil
}

func (s *Server) listObjectsV2(rq *request) error {
	q := rq.r.URL.Query()
	res := listResult{StartAfter: q.Get("start-after"), ContinuationToken: q.Get("continuation-token")}
	after := res.StartAfter
	if res.ContinuationToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(res.ContinuationToken)
		if err != nil {
			return errInvalidArgument("The continuation token provided is incorrect")
		}
		after = string(raw)
	}
	last, err := s.listCommon(rq, &res, after, q.Get("fetch-owner") == "true")
	if err != nil {
		return err
	}
	if res.EncodingType == "url" {
		res.StartAfter = uriEncode(res.StartAfter, false)
	}
	if res.IsTruncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last))
	}
	kc := len(res.Contents) + len(res.CommonPrefixes)
	res.KeyCount = &kc
	return writeXML(rq, res)
}

func (s *Server) listObjectsV1(rq *request) error {
	marker := rq.r.URL.Query().Get("marker")
	res := listResult{}
	last, err := s.listCommon(rq, &res, marker, true)
	if err != nil {
		return err
	}
	m := marker
	if res.EncodingType == "url" {
		m = uriEncode(m, false)
	}
	res.Marker = &m
	if res.IsTruncated {
		res.NextMarker = last
		if res.EncodingType == "url" {
			res.NextMarker = uriEncode(last, false)
		}
	}
	return writeXML(rq, res)
}

func (s *Server) deleteObjects(rq *request) error {
	var req struct {
		XMLName xml.Name `xml:"Delete"`
		Quiet   bool
		Objects []struct {
			Key       string
			VersionID string `xml:"VersionId"`
		} `xml:"Object"`
	}
	if err := s.needBucket(rq, rq.bucket); err != nil {
		return err
	}
	if err := readXMLBody(rq, &req, false); err != nil {
		return err
	}
	if len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return errMalformedXML()
	}
	type deleted struct {
		Key string
	}
	type delErr struct {
		Key     string
		Code    string
		Message string
	}
	res := struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
		Deleted []deleted
		Error   []delErr
	}{}
	for _, o := range req.Objects {
		err := store.ValidateKey(o.Key)
		if err == nil {
			_, err = s.dc.Delete(rq.ctx, rq.bucket, o.Key)
			if errors.Is(err, delta.ErrReservedKey) || errors.Is(err, store.ErrNotExist) {
				err = nil
			}
		}
		if err != nil {
			ae := toAPIError(err)
			res.Error = append(res.Error, delErr{o.Key, ae.Code, ae.Message})
			continue
		}
		if !req.Quiet {
			res.Deleted = append(res.Deleted, deleted{o.Key})
		}
	}
	return writeXML(rq, res)
}
