package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"testing"
)

// FuzzChunkedBody feeds arbitrary bytes to the aws-chunked decoder, signed
// and unsigned, with and without trailers: it must never panic, never
// return more bytes than it was given, and report either EOF or an error.
func FuzzChunkedBody(f *testing.F) {
	key := testSigningKey("20260101")
	scope := "20260101/" + testRegion + "/s3/aws4_request"
	amz := "20260101T000000Z"
	f.Add(chunkedBody([]byte("hello world"), 4, nil, "", "", "", nil))
	f.Add(chunkedBody([]byte("hello world"), 4, nil, "", "", "", []string{"x-amz-checksum-crc32:DUoRhQ=="}))
	f.Add(chunkedBody(bytes.Repeat([]byte("ab"), 100), 64, key, amz, scope, "seed", nil))
	f.Add(chunkedBody(bytes.Repeat([]byte("ab"), 100), 64, key, amz, scope, "seed", []string{"x-amz-checksum-crc32:AAAAAA=="}))
	f.Add([]byte("ffffffffffffffff;chunk-signature=00\r\n"))
	f.Add([]byte("-1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mode := range []struct{ signed, trailer bool }{{false, true}, {true, false}, {true, true}} {
			cr := &chunkedReader{br: bufio.NewReaderSize(bytes.NewReader(data), 64), want: -1,
				signed: mode.signed, trailer: mode.trailer, h: sha256.New()}
			if mode.signed {
				cr.ai = &authInfo{signingKey: key, amzDate: amz, scope: scope, seedSig: "seed"}
				cr.prev = "seed"
			}
			n, err := io.Copy(io.Discard, cr)
			if n > int64(len(data)) {
				t.Fatalf("decoded %d bytes from %d", n, len(data))
			}
			_ = err
		}
	})
}
