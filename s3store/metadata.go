package s3store

import (
	"encoding/base64"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/deltaglider-go/deltaglider/store"
)

// S3 user metadata travels in HTTP headers (x-amz-meta-<key>: <value>),
// which can carry only printable ASCII reliably: servers and proxies may
// reject other bytes, mangle them, or trim surrounding white space. So a
// value that is not plain printable ASCII is written as RFC 2047
// B-encoded words ("=?UTF-8?B?...?="), the encoding AWS itself documents
// for non-ASCII metadata, and decoded when read. A plain value that
// contains "=?" is encoded too, so that decoding can never alter a value
// that was stored as given.

// encodeMetadata validates metadata (store.NormalizeMetadata) and returns
// the map to send: keys lower-cased, values encoded where needed.
func encodeMetadata(md map[string]string) (map[string]string, error) {
	md, err := store.NormalizeMetadata(md)
	if err != nil {
		return nil, err
	}
	for k, v := range md {
		md[k] = encodeMetaValue(v)
	}
	return md, nil
}

// decodeMetadata reverses encodeMetadata on metadata read from the server.
// It returns nil for empty metadata.
func decodeMetadata(md map[string]string) map[string]string {
	if len(md) == 0 {
		return nil
	}
	out := make(map[string]string, len(md))
	for k, v := range md {
		out[strings.ToLower(k)] = decodeMetaValue(v)
	}
	return out
}

// metaNeedsEncoding reports whether v cannot travel as a header value
// unchanged.
func metaNeedsEncoding(v string) bool {
	if v == "" {
		return false
	}
	if v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t' {
		return true // HTTP trims surrounding white space
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f {
			return true
		}
	}
	return strings.Contains(v, "=?")
}

// maxWordBytes is the most raw bytes one encoded word carries: 45 bytes
// become 60 base64 characters, keeping each word within RFC 2047's 75.
const maxWordBytes = 45

// encodeMetaValue returns v, or v as RFC 2047 B-encoded words separated by
// single spaces (which decoders drop between adjacent encoded words).
// Words are cut only at rune boundaries, as RFC 2047 requires.
func encodeMetaValue(v string) string {
	if !metaNeedsEncoding(v) {
		return v
	}
	var b strings.Builder
	for len(v) > 0 {
		n := 0
		for n < len(v) {
			_, size := utf8.DecodeRuneInString(v[n:])
			if n+size > maxWordBytes {
				break
			}
			n += size
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("=?UTF-8?B?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(v[:n])))
		b.WriteString("?=")
		v = v[n:]
	}
	return b.String()
}

var wordDecoder mime.WordDecoder

// decodeMetaValue decodes RFC 2047 encoded words in v (written by
// encodeMetaValue, by another client, or by a server that encodes
// non-ASCII values itself). A value that does not decode is returned as
// it is.
func decodeMetaValue(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}
