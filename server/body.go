package server

import (
	"bufio"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

const (
	maxChunkLine    = 4096 // a chunk header or trailer line
	maxTrailerLines = 16
)

// checksumNames are the x-amz-checksum-* algorithms verified on uploads.
var checksumNames = []string{"crc32", "crc32c", "crc64nvme", "sha1", "sha256"}

// crc64NVME builds its table on first use, not at start-up: every
// deltaglider command would pay for it otherwise.
var crc64NVME = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(0x9a6c9329ac4bc9b5) })

func newChecksum(name string) hash.Hash {
	switch name {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "crc64nvme":
		return crc64.New(crc64NVME())
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

// requestBody returns the decoded body of an upload request: aws-chunked
// framing removed (its chunk and trailer signatures verified when the
// request was signed), and every digest the client declared
// (x-amz-content-sha256, Content-MD5, x-amz-checksum-* headers or
// trailers) checked as the data streams. A mismatch is reported by Read
// instead of io.EOF, so a consumer that commits only at EOF stores
// nothing. size is the decoded length, or -1.
func requestBody(r *http.Request, ai *authInfo) (io.Reader, int64, error) {
	payload := r.Header.Get("X-Amz-Content-Sha256")
	size := r.ContentLength
	var body io.Reader = r.Body
	var cr *chunkedReader
	if strings.HasPrefix(payload, "STREAMING-") || hasToken(r.Header.Get("Content-Encoding"), "aws-chunked") {
		switch payload {
		case streamingSigned, streamingSignedTrailer, streamingUnsignedTrail:
		default:
			if payload != "" && payload != unsignedPayload {
				return nil, 0, errInvalidArgument("unsupported x-amz-content-sha256 %q for an aws-chunked body", payload)
			}
			payload = streamingUnsignedTrail
		}
		dl := r.Header.Get("X-Amz-Decoded-Content-Length")
		size = -1
		if dl != "" {
			n, err := strconv.ParseInt(dl, 10, 64)
			if err != nil || n < 0 {
				return nil, 0, errInvalidArgument("invalid x-amz-decoded-content-length %q", dl)
			}
			size = n
		}
		cr = &chunkedReader{br: bufio.NewReaderSize(r.Body, 64<<10), want: size,
			signed: payload != streamingUnsignedTrail, trailer: payload != streamingSigned}
		if cr.signed && ai != nil && ai.signingKey == nil {
			return nil, 0, errAccessDenied("aws-chunked signed payloads need Signature Version 4")
		}
		if cr.signed && ai != nil {
			cr.ai, cr.prev = ai, ai.seedSig
		}
		cr.h = sha256.New()
		body = cr
	}
	v := &verifyReader{r: body, cr: cr}
	if len(payload) == 64 {
		if _, err := hex.DecodeString(payload); err == nil {
			v.add("x-amz-content-sha256", sha256.New(), payload, false)
		}
	}
	if m := r.Header.Get("Content-MD5"); m != "" {
		raw, err := base64.StdEncoding.DecodeString(m)
		if err != nil || len(raw) != md5.Size {
			return nil, 0, apiErr(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified is not valid.")
		}
		v.add("content-md5", md5.New(), m, true)
	}
	for _, n := range checksumNames {
		if want := r.Header.Get("X-Amz-Checksum-" + n); want != "" {
			v.add("x-amz-checksum-"+n, newChecksum(n), want, true)
		}
	}
	if cr != nil && cr.trailer {
		for t := range strings.SplitSeq(r.Header.Get("X-Amz-Trailer"), ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if n, ok := strings.CutPrefix(t, "x-amz-checksum-"); ok {
				if h := newChecksum(n); h != nil {
					v.add(t, h, "", true)
				}
			}
		}
	}
	return v, size, nil
}

func hasToken(v, tok string) bool {
	for t := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

type digestCheck struct {
	name   string
	h      hash.Hash
	want   string // hex for x-amz-content-sha256, base64 otherwise; "" = from trailer
	base64 bool
}

// verifyReader hashes what it passes on and checks the digests at EOF.
type verifyReader struct {
	r      io.Reader
	cr     *chunkedReader
	checks []digestCheck
	n      int64
	err    error
}

func (v *verifyReader) add(name string, h hash.Hash, want string, b64 bool) {
	v.checks = append(v.checks, digestCheck{name, h, want, b64})
}

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	for _, c := range v.checks {
		c.h.Write(p[:n])
	}
	if err == io.EOF {
		if verr := v.finish(); verr != nil {
			err = verr
		}
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

func (v *verifyReader) finish() error {
	for _, c := range v.checks {
		want := c.want
		if want == "" && v.cr != nil {
			want = v.cr.trailers[c.name]
			if want == "" {
				continue // declared but not sent: nothing to compare
			}
		}
		sum := c.h.Sum(nil)
		var got string
		if c.base64 {
			got = base64.StdEncoding.EncodeToString(sum)
		} else {
			got = hex.EncodeToString(sum)
		}
		if got != want {
			switch c.name {
			case "x-amz-content-sha256":
				return apiErr(http.StatusBadRequest, "XAmzContentSHA256Mismatch",
					"The provided 'x-amz-content-sha256' header does not match what was computed.")
			case "content-md5":
				return apiErr(http.StatusBadRequest, "BadDigest",
					"The Content-MD5 you specified did not match what we received.")
			}
			return apiErr(http.StatusBadRequest, "BadDigest",
				"The %s you specified did not match the calculated checksum.", c.name)
		}
	}
	return nil
}

// chunkedReader decodes an aws-chunked body: "hex-size[;chunk-signature=
// sig]\r\n<data>\r\n" chunks, a zero-size chunk, then for the trailer
// variants "name:value\r\n" trailer lines (the last one
// x-amz-trailer-signature for signed trailers) and an empty line.
type chunkedReader struct {
	br      *bufio.Reader
	signed  bool // chunks carry chunk-signature
	trailer bool // trailers follow the last chunk
	ai      *authInfo
	prev    string // previous signature in the chain
	h       hash.Hash

	remaining int64
	sig       string
	inChunk   bool
	total     int64
	want      int64
	trailers  map[string]string
	err       error
}

var errChunkFormat = apiErr(http.StatusBadRequest, "IncompleteBody",
	"The aws-chunked request body is malformed or was cut short.")

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for !c.inChunk {
		if err := c.nextChunk(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.br.Read(p)
	c.h.Write(p[:n])
	c.remaining -= int64(n)
	c.total += int64(n)
	if c.remaining == 0 {
		if err := c.endChunk(); err != nil {
			c.err = err
			return n, err
		}
	} else if err == io.EOF {
		err = errChunkFormat
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *chunkedReader) line() (string, error) {
	var b []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > maxChunkLine {
			return "", errChunkFormat
		}
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			return "", errChunkFormat
		}
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// nextChunk reads a chunk header; at the final chunk it reads the trailers
// and returns io.EOF.
func (c *chunkedReader) nextChunk() error {
	ln, err := c.line()
	if err != nil {
		return err
	}
	sizeStr, ext, _ := strings.Cut(ln, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeStr), 16, 64)
	if err != nil || size < 0 {
		return errChunkFormat
	}
	c.sig = ""
	if c.signed {
		v, ok := strings.CutPrefix(ext, "chunk-signature=")
		if !ok {
			return errChunkFormat
		}
		c.sig = v
	}
	c.h.Reset()
	c.remaining = size
	if size > 0 {
		c.inChunk = true
		return nil
	}
	if err := c.verifyChunk(); err != nil {
		return err
	}
	if c.trailer {
		if err := c.readTrailers(); err != nil {
			return err
		}
	} else if ln, err := c.line(); err == nil && ln != "" {
		return errChunkFormat // the final chunk is followed by an empty line (or nothing)
	}
	if err := c.checkTotal(); err != nil {
		return err
	}
	return io.EOF
}

func (c *chunkedReader) checkTotal() error {
	if c.want >= 0 && c.total != c.want {
		return apiErr(http.StatusBadRequest, "IncompleteBody",
			"The decoded body is %d bytes but x-amz-decoded-content-length says %d.", c.total, c.want)
	}
	return nil
}

func (c *chunkedReader) endChunk() error {
	c.inChunk = false
	ln, err := c.line()
	if err != nil || ln != "" {
		return errChunkFormat
	}
	return c.verifyChunk()
}

func (c *chunkedReader) verifyChunk() error {
	if c.ai == nil {
		return nil
	}
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.ai.amzDate + "\n" + c.ai.scope + "\n" + c.prev + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(c.h.Sum(nil))
	want := hex.EncodeToString(hmacSHA256(c.ai.signingKey, []byte(sts)))
	if !hmacEqual(want, c.sig) {
		return errSignature()
	}
	c.prev = want
	return nil
}

func (c *chunkedReader) readTrailers() error {
	c.trailers = map[string]string{}
	var canon strings.Builder
	trailerSig := ""
	for i := 0; ; i++ {
		if i > maxTrailerLines {
			return errChunkFormat
		}
		ln, err := c.line()
		if err != nil {
			if err == errChunkFormat && i > 0 {
				break // body ended without the final empty line
			}
			return err
		}
		if ln == "" {
			break
		}
		k, v, ok := strings.Cut(ln, ":")
		if !ok {
			return errChunkFormat
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if k == "x-amz-trailer-signature" {
			trailerSig = v
			continue
		}
		c.trailers[k] = v
		canon.WriteString(k + ":" + v + "\n")
	}
	if c.ai != nil && c.signed {
		sum := sha256.Sum256([]byte(canon.String()))
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.ai.amzDate + "\n" + c.ai.scope + "\n" + c.prev + "\n" + hex.EncodeToString(sum[:])
		want := hex.EncodeToString(hmacSHA256(c.ai.signingKey, []byte(sts)))
		if !hmacEqual(want, trailerSig) {
			return errSignature()
		}
	}
	return nil
}

func hmacEqual(want, got string) bool {
	return len(want) == len(got) && subtleEq([]byte(want), []byte(strings.ToLower(got)))
}

func subtleEq(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
