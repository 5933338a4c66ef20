package server

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Values of x-amz-content-sha256 that are not a hex digest.
const (
	unsignedPayload        = "UNSIGNED-PAYLOAD"
	streamingSigned        = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrail = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	sigV4Algorithm         = "AWS4-HMAC-SHA256"
	amzDateFormat          = "20060102T150405Z"
	emptySHA256            = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	maxPresignExpiry       = 7 * 24 * time.Hour
)

// authInfo is what a verified SigV4 request carries on to body decoding:
// the key and scope that sign aws-chunked chunk signatures.
type authInfo struct {
	accessKey  string
	signingKey []byte
	amzDate    string
	scope      string
	seedSig    string
}

// sigParams are the parts of a SigV4 signature, from the Authorization
// header or the presigned query.
type sigParams struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
	amzDate                          time.Time
	amzDateRaw                       string
	payload                          string // hashed payload for the canonical request
	presigned                        bool
	expires                          time.Duration
}

// authenticate verifies the request's SigV4 signature. With no credentials
// configured every request is accepted and nil is returned.
func (s *Server) authenticate(r *http.Request) (*authInfo, error) {
	if len(s.creds) == 0 {
		return nil, nil
	}
	var (
		p   *sigParams
		err error
	)
	auth := r.Header.Get("Authorization")
	q := r.URL.Query()
	switch {
	case strings.HasPrefix(auth, sigV4Algorithm+" "):
		p, err = parseAuthHeader(r, auth)
	case q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Signature"):
		p, err = parsePresigned(r, q)
	case auth == "" && q.Has("AWSAccessKeyId") && q.Has("Signature") && q.Has("Expires"):
		return s.authV2Presigned(r, q)
	case auth != "" || q.Has("Signature") || q.Has("AWSAccessKeyId"):
		return nil, apiErr(http.StatusBadRequest, "InvalidRequest",
			"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	default:
		return nil, errAccessDenied("Access Denied (anonymous requests are not allowed; sign with AWS Signature Version 4)")
	}
	if err != nil {
		return nil, err
	}
	secret, ok := s.creds[p.accessKey]
	if !ok {
		return nil, apiErr(http.StatusForbidden, "InvalidAccessKeyId",
			"The AWS Access Key Id you provided does not exist in our records.")
	}
	now := s.now()
	if p.presigned {
		if now.Before(p.amzDate.Add(-s.maxSkew)) {
			return nil, errAccessDenied("Request is not valid yet")
		}
		if now.After(p.amzDate.Add(p.expires)) {
			return nil, errAccessDenied("Request has expired")
		}
	} else if d := now.Sub(p.amzDate); d > s.maxSkew || d < -s.maxSkew {
		return nil, apiErr(http.StatusForbidden, "RequestTimeTooSkewed",
			"The difference between the request time and the server's time is too large.")
	}
	scope := p.date + "/" + p.region + "/" + p.service + "/aws4_request"
	key := signingKey(secret, p.date, p.region, p.service)
	// The canonical URI is the path with S3's encoding (what the SDKs and
	// the aws CLI send); a client that left some reserved characters
	// unescaped signed the path exactly as it sent it.
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	var want string
	ok = false
	for _, uri := range []string{uriEncode(path, false), r.URL.EscapedPath()} {
		creq := canonicalRequest(r, p, uri)
		sum := sha256.Sum256([]byte(creq))
		sts := sigV4Algorithm + "\n" + p.amzDateRaw + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
		want = hex.EncodeToString(hmacSHA256(key, []byte(sts)))
		if hmac.Equal([]byte(want), []byte(strings.ToLower(p.signature))) {
			ok = true
			break
		}
	}
	if !ok {
		return nil, errSignature()
	}
	return &authInfo{accessKey: p.accessKey, signingKey: key, amzDate: p.amzDateRaw, scope: scope, seedSig: want}, nil
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

// parseCredential splits "AKID/20260102/us-east-1/s3/aws4_request".
func parseCredential(p *sigParams, cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return errAuthMalformed("The credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	if parts[3] != "s3" {
		return errAuthMalformed("The authorization header is malformed; incorrect service \"" + parts[3] + "\". This endpoint belongs to \"s3\".")
	}
	if _, err := time.Parse("20060102", parts[1]); err != nil {
		return errAuthMalformed("The authorization header is malformed; invalid date in the credential scope.")
	}
	p.accessKey, p.date, p.region, p.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func parseAmzDate(p *sigParams, v string) error {
	t, err := time.Parse(amzDateFormat, v)
	if err != nil {
		return errAccessDenied("AWS authentication requires a valid Date or x-amz-date header")
	}
	if !strings.HasPrefix(v, p.date) {
		return errAuthMalformed("The authorization header is malformed; the credential date does not match x-amz-date.")
	}
	p.amzDate, p.amzDateRaw = t, v
	return nil
}

func parseSignedHeaders(p *sigParams, v string) error {
	if v == "" {
		return errAuthMalformed("The authorization header is malformed; SignedHeaders is empty.")
	}
	p.signedHeaders = strings.Split(v, ";")
	hasHost := false
	for _, h := range p.signedHeaders {
		if h == "host" {
			hasHost = true
		}
	}
	if !hasHost {
		return errAccessDenied("The host header must be signed")
	}
	return nil
}

func parseAuthHeader(r *http.Request, auth string) (*sigParams, error) {
	p := &sigParams{}
	fields := map[string]string{}
	for f := range strings.SplitSeq(strings.TrimPrefix(auth, sigV4Algorithm+" "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return nil, errAuthMalformed("The authorization header is malformed.")
		}
		fields[k] = v
	}
	cred, sh, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if cred == "" || sh == "" || sig == "" {
		return nil, errAuthMalformed("The authorization header is malformed; Credential, SignedHeaders and Signature are required.")
	}
	if err := parseCredential(p, cred); err != nil {
		return nil, err
	}
	if err := parseSignedHeaders(p, sh); err != nil {
		return nil, err
	}
	p.signature = sig
	date := r.Header.Get("X-Amz-Date")
	if date == "" {
		return nil, errAccessDenied("AWS authentication requires a valid Date or x-amz-date header")
	}
	if err := parseAmzDate(p, date); err != nil {
		return nil, err
	}
	p.payload = r.Header.Get("X-Amz-Content-Sha256")
	if p.payload == "" {
		return nil, apiErr(http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	}
	if !validPayloadHash(p.payload) {
		return nil, apiErr(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 hex digest")
	}
	return p, nil
}

func validPayloadHash(v string) bool {
	switch v {
	case unsignedPayload, streamingSigned, streamingSignedTrailer, streamingUnsignedTrail:
		return true
	}
	if len(v) != 64 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}

func parsePresigned(r *http.Request, q url.Values) (*sigParams, error) {
	p := &sigParams{presigned: true}
	if q.Get("X-Amz-Algorithm") != sigV4Algorithm {
		return nil, apiErr(http.StatusBadRequest, "AuthorizationQueryParametersError",
			"X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if q.Get(k) == "" {
			return nil, apiErr(http.StatusBadRequest, "AuthorizationQueryParametersError",
				"Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
	}
	if err := parseCredential(p, q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	if err := parseSignedHeaders(p, q.Get("X-Amz-SignedHeaders")); err != nil {
		return nil, err
	}
	if err := parseAmzDate(p, q.Get("X-Amz-Date")); err != nil {
		return nil, err
	}
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || secs < 0 || time.Duration(secs)*time.Second > maxPresignExpiry {
		return nil, apiErr(http.StatusBadRequest, "AuthorizationQueryParametersError",
			"X-Amz-Expires must be a number of seconds between 0 and 604800.")
	}
	p.expires = time.Duration(secs) * time.Second
	p.signature = q.Get("X-Amz-Signature")
	p.payload = unsignedPayload
	if v := q.Get("X-Amz-Content-Sha256"); v != "" {
		p.payload = v
	} else if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		p.payload = v
	}
	return p, nil
}

// canonicalRequest builds the SigV4 canonical request of r with the
// given canonical URI.
func canonicalRequest(r *http.Request, p *sigParams, uri string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, p.presigned))
	b.WriteByte('\n')
	for _, h := range p.signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(p.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(p.payload)
	return b.String()
}

// headerValue is the canonical value of a signed header: all its values,
// trimmed, inner runs of spaces collapsed, joined by commas.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	default:
		vals = r.Header.Values(name)
		if len(vals) == 0 {
			switch name {
			case "content-length":
				if r.ContentLength >= 0 {
					vals = []string{strconv.FormatInt(r.ContentLength, 10)}
				}
			case "transfer-encoding":
				vals = []string{strings.Join(r.TransferEncoding, ",")}
			}
		}
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// canonicalQuery sorts the raw query's parameters by encoded name and value
// (dropping X-Amz-Signature from a presigned URL) and re-encodes them.
func canonicalQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var params []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		params = append(params, kv{uriEncode(k, true), uriEncode(v, true)})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte except the unreserved characters
// A-Z a-z 0-9 - . _ ~ (and '/' unless encodeSlash), as SigV4 and S3's
// url encoding-type require.
func uriEncode(s string, encodeSlash bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// v2SubResources are the query parameters that are part of a Signature
// Version 2 canonical resource.
var v2SubResources = []string{"acl", "cors", "delete", "lifecycle", "location", "logging", "notification",
	"partNumber", "policy", "requestPayment", "response-cache-control", "response-content-disposition",
	"response-content-encoding", "response-content-language", "response-content-type", "response-expires",
	"tagging", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website"}

// authV2Presigned verifies a Signature Version 2 presigned URL
// (AWSAccessKeyId, Expires, Signature), which is what `aws s3 presign` of
// the aws CLI v1 makes by default. Only presigned URLs are accepted in
// version 2; signed requests must use SigV4.
func (s *Server) authV2Presigned(r *http.Request, q url.Values) (*authInfo, error) {
	ak := q.Get("AWSAccessKeyId")
	secret, ok := s.creds[ak]
	if !ok {
		return nil, apiErr(http.StatusForbidden, "InvalidAccessKeyId",
			"The AWS Access Key Id you provided does not exist in our records.")
	}
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil {
		return nil, errAccessDenied("Invalid date (should be seconds since epoch): " + q.Get("Expires"))
	}
	if s.now().Unix() > exp {
		return nil, errAccessDenied("Request has expired")
	}
	var amz []string
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") {
			amz = append(amz, lk+":"+strings.Join(r.Header.Values(k), ",")+"\n")
		}
	}
	sort.Strings(amz)
	var sub []string
	for _, k := range v2SubResources {
		if q.Has(k) {
			if v := q.Get(k); v != "" {
				sub = append(sub, k+"="+v)
			} else {
				sub = append(sub, k)
			}
		}
	}
	resource := r.URL.EscapedPath()
	if len(sub) > 0 {
		resource += "?" + strings.Join(sub, "&")
	}
	sts := r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" +
		q.Get("Expires") + "\n" + strings.Join(amz, "") + resource
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(q.Get("Signature"))) {
		return nil, errSignature()
	}
	return &authInfo{accessKey: ak}, nil
}
