package delta

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Metadata field names, in their canonical (DeltaGlider v6+) spelling
// without the "dg-" prefix.
const (
	fTool         = "tool"
	fOriginalName = "original-name"
	fSourceName   = "source-name"
	fFileSHA256   = "file-sha256"
	fFileSize     = "file-size"
	fCreatedAt    = "created-at"
	fRefKey       = "ref-key"  // Python: bucket-relative key of the reference
	fRefPath      = "ref-path" // Rust proxy: reference path relative to the deltaspace
	fRefSHA256    = "ref-sha256"
	fDeltaSize    = "delta-size"
	fDeltaCmd     = "delta-cmd"
	fNote         = "note"
	fCompression  = "compression"
	fCodec        = "codec" // ours: vcdiff (default when absent) or bsdiff
	fMD5          = "md5"   // Rust proxy
)

// knownFields lists every field this package reads; their spellings are
// removed from the user metadata handed back to callers.
var knownFields = []string{
	fTool, fOriginalName, fSourceName, fFileSHA256, fFileSize, fCreatedAt,
	fRefKey, fRefPath, fRefSHA256, fDeltaSize, fDeltaCmd, fNote, fCompression,
	fCodec, fMD5, "encrypted", "multipart-etag",
}

// spellings returns the four historical spellings of a field, canonical
// first: "dg-file-sha256", "dg_file_sha256", "file_sha256", "file-sha256".
func spellings(field string) [4]string {
	u := strings.ReplaceAll(field, "-", "_")
	return [4]string{"dg-" + field, "dg_" + u, u, field}
}

// Codec names stored in dg-codec.
const (
	CodecVCDIFF = "vcdiff"
	CodecBSDIFF = "bsdiff"
)

// CodecAuto (the default for new deltas) picks CodecBSDIFF for
// executables and shared libraries (IsExecutable) and for uncompressed tar
// archives made mostly of them, when the reference and the new version are
// both at most AutoBsdiffMaxInput bytes, and CodecVCDIFF for everything
// else. It is never stored: dg-codec names the codec used.
const CodecAuto = "auto"

// Notes written in dg-note: the three values the proxy's filesystem
// backend accepts (its metadata JSON is tagged by note and refuses any
// other, such as the Python tool's "zero-diff (reference identical)", which
// we read but do not write).
const (
	noteReference = "reference"
	noteDelta     = "delta"
	notePassthru  = "passthrough"
)

// meta is the DeltaGlider metadata of one stored object.
type meta struct {
	Tool         string
	OriginalName string
	SourceName   string
	FileSHA256   string // lower-case hex; "" if absent
	FileSize     int64  // -1 if absent
	CreatedAt    string // as stored
	RefKey       string
	RefPath      string
	RefSHA256    string
	DeltaSize    int64 // -1 if absent
	DeltaCmd     string
	Note         string
	Compression  string
	Codec        string
	MD5          string // lower-case hex MD5 of the original (the proxy's dg-md5); "" if absent
}

// managed reports whether the object carries DeltaGlider metadata. Like
// both DeltaGlider tools we key this on the presence of the file SHA-256.
func (m *meta) managed() bool { return m.FileSHA256 != "" }

// isDirect reports whether the metadata marks a direct (non-delta) upload.
func (m *meta) isDirect() bool {
	return strings.EqualFold(m.Compression, "none") || m.Note == notePassthru
}

func lookup(md map[string]string, field string) (string, bool) {
	for _, k := range spellings(field) {
		if v, ok := md[k]; ok {
			return v, true
		}
	}
	// Store keys are lower case, but be lenient with hand-made maps.
	for k, v := range md {
		lk := strings.ToLower(k)
		for _, s := range spellings(field) {
			if lk == s {
				return v, true
			}
		}
	}
	return "", false
}

// parseMeta extracts DeltaGlider metadata from an object's user metadata,
// accepting every historical spelling, and returns the remaining user
// metadata. A malformed size or checksum is an error wrapping
// ErrInvalidMetadata.
func parseMeta(md map[string]string) (meta, map[string]string, error) {
	m := meta{FileSize: -1, DeltaSize: -1}
	get := func(f string) string { v, _ := lookup(md, f); return strings.TrimSpace(v) }
	m.Tool = get(fTool)
	m.OriginalName = get(fOriginalName)
	m.SourceName = get(fSourceName)
	m.FileSHA256 = strings.ToLower(get(fFileSHA256))
	m.CreatedAt = get(fCreatedAt)
	m.RefKey = get(fRefKey)
	m.RefPath = get(fRefPath)
	m.RefSHA256 = strings.ToLower(get(fRefSHA256))
	m.DeltaCmd = get(fDeltaCmd)
	m.Note = get(fNote)
	m.Compression = get(fCompression)
	m.Codec = strings.ToLower(get(fCodec))
	if m.MD5 = strings.ToLower(get(fMD5)); !isHex(m.MD5, 32) {
		m.MD5 = "" // informational only (the proxy's ETag): ignore what is not an MD5
	}
	var err error
	if v := get(fFileSize); v != "" {
		if m.FileSize, err = strconv.ParseInt(v, 10, 64); err != nil || m.FileSize < 0 {
			return m, nil, fmt.Errorf("%w: file-size %q", ErrInvalidMetadata, v)
		}
	}
	if v := get(fDeltaSize); v != "" {
		if m.DeltaSize, err = strconv.ParseInt(v, 10, 64); err != nil || m.DeltaSize < 0 {
			return m, nil, fmt.Errorf("%w: delta-size %q", ErrInvalidMetadata, v)
		}
	}
	for _, h := range []struct{ name, v string }{{"file-sha256", m.FileSHA256}, {"ref-sha256", m.RefSHA256}} {
		if h.v != "" && !isHexSHA256(h.v) {
			return m, nil, fmt.Errorf("%w: %s %q is not a SHA-256", ErrInvalidMetadata, h.name, h.v)
		}
	}
	return m, userMeta(md, m.managed()), nil
}

// userMeta returns md without DeltaGlider fields. The bare spellings
// (file_sha256, note, ...) are only treated as ours on managed objects.
func userMeta(md map[string]string, managed bool) map[string]string {
	var out map[string]string
	for k, v := range md {
		if isOurKey(strings.ToLower(k), managed) {
			continue
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[strings.ToLower(k)] = v
	}
	return out
}

func isOurKey(k string, managed bool) bool {
	if strings.HasPrefix(k, "dg-") || strings.HasPrefix(k, "dg_") {
		return true
	}
	if !managed {
		return false
	}
	for _, f := range knownFields {
		s := spellings(f)
		if k == s[2] || k == s[3] {
			return true
		}
	}
	return false
}

func isHexSHA256(s string) bool { return isHex(s, 64) }

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkUserMeta rejects user metadata keys that would be read as ours.
func checkUserMeta(md map[string]string) error {
	for k := range md {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "dg-") || strings.HasPrefix(lk, "dg_") {
			return fmt.Errorf("%w: user metadata key %q uses the reserved dg- prefix", ErrInvalidMetadata, k)
		}
		for _, f := range knownFields {
			s := spellings(f)
			if lk == s[2] || lk == s[3] {
				return fmt.Errorf("%w: user metadata key %q is a DeltaGlider field name", ErrInvalidMetadata, k)
			}
		}
	}
	return nil
}

// timestamp formats t the way both DeltaGlider readers accept: Python
// strips a trailing "Z" and calls datetime.fromisoformat; the proxy parses
// RFC 3339.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// encode renders m in canonical spelling, merged with user metadata. Only
// non-empty fields are written.
func (m *meta) encode(user map[string]string) map[string]string {
	out := make(map[string]string, len(user)+14)
	for k, v := range user {
		out[strings.ToLower(k)] = v
	}
	set := func(f, v string) {
		if v != "" {
			out["dg-"+f] = v
		}
	}
	set(fTool, m.Tool)
	set(fOriginalName, m.OriginalName)
	set(fSourceName, m.SourceName)
	set(fFileSHA256, m.FileSHA256)
	if m.FileSize >= 0 {
		set(fFileSize, strconv.FormatInt(m.FileSize, 10))
	}
	set(fCreatedAt, m.CreatedAt)
	set(fRefKey, m.RefKey)
	set(fRefPath, m.RefPath)
	set(fRefSHA256, m.RefSHA256)
	if m.DeltaSize >= 0 {
		set(fDeltaSize, strconv.FormatInt(m.DeltaSize, 10))
	}
	set(fDeltaCmd, m.DeltaCmd)
	set(fNote, m.Note)
	set(fCompression, m.Compression)
	set(fCodec, m.Codec)
	set(fMD5, m.MD5)
	return out
}
