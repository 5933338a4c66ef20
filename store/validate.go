package store

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Key limits enforced by ValidateKey.
const (
	// MaxKeyLen is the longest key in bytes (the S3 limit).
	MaxKeyLen = 1024
	// MaxSegmentLen is the longest "/"-separated segment of a key in
	// bytes: the usual file-name limit of local file systems, so that
	// every backend accepts the same keys.
	MaxSegmentLen = 255
)

// ValidateKey reports whether key is acceptable to every Store. The rules
// are the same for all backends, so that a key that works on S3 also works
// on a local directory and vice versa:
//
//   - 1..MaxKeyLen bytes of valid UTF-8, no NUL byte;
//   - split at "/", no segment is empty (no leading or trailing "/", no
//     "a//b"), "." or "..", or longer than MaxSegmentLen bytes.
//
// The error wraps ErrInvalidKey.
func ValidateKey(key string) error {
	if err := validateKey(key); err != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, truncate(key), err)
	}
	return nil
}

func validateKey(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case strings.IndexByte(key, 0) >= 0:
		return "contains a NUL byte"
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return "empty path segment"
		case seg == "." || seg == "..":
			return "\".\" or \"..\" path segment"
		case len(seg) > MaxSegmentLen:
			return fmt.Sprintf("path segment longer than %d bytes", MaxSegmentLen)
		}
	}
	return ""
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// ValidateBucket reports whether name is a valid bucket name. The rules are
// S3's (3..63 characters of lower-case letters, digits, '.' and '-',
// starting and ending with a letter or digit, no "..", not an IPv4
// address), applied by every backend. The error wraps ErrInvalidBucket.
func ValidateBucket(name string) error {
	if err := validateBucket(name); err != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidBucket, truncate(name), err)
	}
	return nil
}

func validateBucket(name string) string {
	if len(name) < 3 || len(name) > 63 {
		return "must be 3 to 63 characters long"
	}
	digitsAndDots := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
			digitsAndDots = false
		case c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return "must start and end with a letter or digit"
			}
			if c == '-' {
				digitsAndDots = false
			}
		default:
			return "only lower-case letters, digits, '.' and '-' are allowed"
		}
	}
	if strings.Contains(name, "..") {
		return "must not contain \"..\""
	}
	if digitsAndDots && strings.Count(name, ".") == 3 {
		return "must not look like an IP address"
	}
	return ""
}

// isToken reports whether s is a non-empty HTTP token (RFC 9110), the set
// of characters S3 accepts in a user-metadata header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// MaxMetadataSize is the largest user metadata as measured by
// MetadataSize: S3's limit.
const MaxMetadataSize = 2048

// MetadataSize measures metadata the way S3 counts it (the sum of the
// lengths in bytes of keys and values) for the values as they travel over
// HTTP: a value that is not plain printable ASCII (or contains "=?") is
// counted at the length of its RFC 2047 encoding, the one AWS documents
// for non-ASCII metadata and s3store uses: "=?UTF-8?B?<base64>?=" words of
// at most 45 bytes of text each (cut at rune boundaries), separated by
// single spaces.
func MetadataSize(md map[string]string) int {
	n := 0
	for k, v := range md {
		n += len(k) + encodedLen(v)
	}
	return n
}

func encodedLen(v string) int {
	plain := !strings.Contains(v, "=?")
	for i := 0; plain && i < len(v); i++ {
		plain = v[i] >= 0x20 && v[i] < 0x7f
	}
	if plain && strings.Trim(v, " ") == v {
		return len(v)
	}
	const word = 45
	n := 0
	for len(v) > 0 {
		c := 0
		for c < len(v) {
			_, size := utf8.DecodeRuneInString(v[c:])
			if c+size > word {
				break
			}
			c += size
		}
		if n > 0 {
			n++ // the space between words
		}
		n += len("=?UTF-8?B??=") + (c+2)/3*4
		v = v[c:]
	}
	return n
}

// NormalizeMetadata validates user metadata and returns a copy with
// lower-cased keys (nil for empty metadata). Keys must be HTTP tokens and
// must stay distinct once lower-cased; values must be valid UTF-8 without
// control characters (tab excepted) and without leading or trailing
// spaces or tabs (S3 would strip them); MetadataSize must not exceed
// MaxMetadataSize (the S3 limit, applied by every store so that metadata
// accepted by one backend fits all). Every Store calls it on Put and Copy.
// The error wraps ErrInvalidMetadata.
func NormalizeMetadata(md map[string]string) (map[string]string, error) {
	if len(md) == 0 {
		return nil, nil
	}
	if n := MetadataSize(md); n > MaxMetadataSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d (see MetadataSize)", ErrInvalidMetadata, n, MaxMetadataSize)
	}
	out := make(map[string]string, len(md))
	for k, v := range md {
		if !isToken(k) {
			return nil, fmt.Errorf("%w: key %q is not an HTTP token", ErrInvalidMetadata, truncate(k))
		}
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup {
			return nil, fmt.Errorf("%w: keys differing only in case (%q)", ErrInvalidMetadata, lk)
		}
		if !utf8.ValidString(v) {
			return nil, fmt.Errorf("%w: value of %q is not valid UTF-8", ErrInvalidMetadata, lk)
		}
		for _, r := range v {
			if (r < 0x20 && r != '\t') || r == 0x7f {
				return nil, fmt.Errorf("%w: value of %q contains a control character", ErrInvalidMetadata, lk)
			}
		}
		if strings.TrimLeft(v, " \t") != v || strings.TrimRight(v, " \t") != v {
			return nil, fmt.Errorf("%w: value of %q has leading or trailing white space", ErrInvalidMetadata, lk)
		}
		out[lk] = v
	}
	return out, nil
}

// CheckRange validates a Get range against an object of the given size and
// returns the number of bytes to read. It implements the contract: length
// < 0 means to the end, a range past the end is cut, offset == size gives
// 0 bytes, and offset < 0 or offset > size is ErrInvalidRange.
func CheckRange(offset, length, size int64) (int64, error) {
	if offset < 0 || offset > size {
		return 0, fmt.Errorf("%w: offset %d, object size %d", ErrInvalidRange, offset, size)
	}
	n := size - offset
	if length >= 0 && length < n {
		n = length
	}
	return n, nil
}

// S3's object tagging limits.
const (
	MaxTags        = 10
	MaxTagKeyLen   = 128 // bytes of UTF-8 (see NormalizeTags)
	MaxTagValueLen = 256 // bytes of UTF-8
)

// NormalizeTags validates object tags against S3's rules and returns a
// copy (nil for no tags): at most MaxTags tags; keys of 1 to MaxTagKeyLen
// and values of at most MaxTagValueLen bytes, made of letters, digits,
// spaces and + - = . _ : / @; no key starting with the reserved "aws:".
// Keys and values are case-sensitive. AWS counts the lengths in Unicode
// characters, but S3-compatible servers such as versitygw count bytes, so
// the stricter byte limit applies to every store: tags one backend
// accepts fit all of them. Every Store
// calls it on Put and Copy. The error wraps ErrInvalidTags.
func NormalizeTags(tags map[string]string) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	if len(tags) > MaxTags {
		return nil, fmt.Errorf("%w: %d tags, at most %d", ErrInvalidTags, len(tags), MaxTags)
	}
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		if k == "" {
			return nil, fmt.Errorf("%w: empty key", ErrInvalidTags)
		}
		if len(k) > MaxTagKeyLen {
			return nil, fmt.Errorf("%w: key of %d bytes, at most %d", ErrInvalidTags, len(k), MaxTagKeyLen)
		}
		if len(v) > MaxTagValueLen {
			return nil, fmt.Errorf("%w: value of %q has %d bytes, at most %d", ErrInvalidTags, truncate(k), len(v), MaxTagValueLen)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, fmt.Errorf("%w: key %q uses the reserved prefix aws:", ErrInvalidTags, truncate(k))
		}
		if !tagText(k) || !tagText(v) {
			return nil, fmt.Errorf("%w: %q=%q has a character S3 does not allow in tags (letters, digits, spaces and + - = . _ : / @)",
				ErrInvalidTags, truncate(k), truncate(v))
		}
		out[k] = v
	}
	return out, nil
}

func tagText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == ' ':
		case strings.ContainsRune("+-=._:/@", r):
		default:
			return false
		}
	}
	return true
}
