package fsstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// XattrName is the extended attribute that holds an object's metadata
// blob, the same one the DeltaGlider proxy's filesystem backend uses.
const XattrName = "user.dg.metadata"

// maxBlob caps the metadata blob read from an xattr or a sidecar (Linux
// caps an xattr value at 64 KiB).
const maxBlob = 64 << 10

// proxyFields maps DeltaGlider metadata keys to the top-level fields of
// the proxy's FileMetadata JSON (src/types.rs), which stores the same
// facts its S3 backend keeps as x-amz-meta-dg-* headers. Numeric fields
// are JSON numbers there.
var proxyFields = map[string]struct {
	field   string
	numeric bool
}{
	"dg-tool":          {"tool", false},
	"dg-original-name": {"original_name", false},
	"dg-file-sha256":   {"file_sha256", false},
	"dg-file-size":     {"file_size", true},
	"dg-md5":           {"md5", false},
	"dg-created-at":    {"created_at", false},
	"dg-note":          {"note", false},
	"dg-source-name":   {"source_name", false},
	"dg-ref-key":       {"ref_key", false},
	"dg-ref-sha256":    {"ref_sha256", false},
	"dg-delta-size":    {"delta_size", true},
	"dg-delta-cmd":     {"delta_cmd", false},
}

var fieldKeys = func() map[string]string {
	m := map[string]string{}
	for k, f := range proxyFields {
		m[f.field] = k
	}
	return m
}()

// storeInfo is this package's own part of the blob, under "dg_store"
// (the proxy ignores unknown fields). It lets Stat trust the stored ETag
// only while the file is the one it was computed for.
type storeInfo struct {
	Version int    `json:"v"`
	ETag    string `json:"etag"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	// Ino is set in sidecar files only: the inode of the data file the
	// sidecar belongs to.
	Ino uint64 `json:"ino,omitempty"`
	// Tags are the object's tags (store.PutOptions.Tags).
	Tags map[string]string `json:"tags,omitempty"`
}

// blob is the decoded metadata of one object.
type blob struct {
	contentType string
	metadata    map[string]string
	store       *storeInfo
}

// encodeBlob renders metadata in the proxy's layout: dg-* keys it knows
// as top-level fields, everything else under "user_metadata",
// "content_type", and this package's "dg_store".
func encodeBlob(b blob) ([]byte, error) {
	m := map[string]any{}
	user := map[string]string{}
	for k, v := range b.metadata {
		f, ok := proxyFields[k]
		switch {
		case !ok:
			user[k] = v
		case f.numeric:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || strconv.FormatUint(n, 10) != v {
				user[k] = v // not canonical: keep it verbatim
			} else {
				m[f.field] = n
			}
		default:
			m[f.field] = v
		}
	}
	if len(user) > 0 {
		m["user_metadata"] = user
	}
	if b.contentType != "" {
		m["content_type"] = b.contentType
	}
	if b.store != nil {
		m["dg_store"] = b.store
	}
	return json.Marshal(m)
}

// decodeBlob is the inverse of encodeBlob. It also accepts blobs written
// by the proxy; fields it does not know are ignored.
func decodeBlob(data []byte) (blob, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return blob{}, fmt.Errorf("fsstore: metadata blob: %w", err)
	}
	var b blob
	md := map[string]string{}
	for field, v := range raw {
		switch field {
		case "user_metadata":
			var um map[string]string
			if err := json.Unmarshal(v, &um); err != nil {
				return blob{}, fmt.Errorf("fsstore: metadata blob: user_metadata: %w", err)
			}
			for k, v := range um {
				md[strings.ToLower(k)] = v
			}
		case "content_type":
			if err := json.Unmarshal(v, &b.contentType); err != nil {
				return blob{}, fmt.Errorf("fsstore: metadata blob: content_type: %w", err)
			}
		case "dg_store":
			b.store = new(storeInfo)
			if err := json.Unmarshal(v, b.store); err != nil {
				return blob{}, fmt.Errorf("fsstore: metadata blob: dg_store: %w", err)
			}
		default:
			key, ok := fieldKeys[field]
			if !ok {
				continue
			}
			if proxyFields[key].numeric {
				var n uint64
				if err := json.Unmarshal(v, &n); err != nil {
					return blob{}, fmt.Errorf("fsstore: metadata blob: %s: %w", field, err)
				}
				md[key] = strconv.FormatUint(n, 10)
			} else {
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return blob{}, fmt.Errorf("fsstore: metadata blob: %s: %w", field, err)
				}
				md[key] = s
			}
		}
	}
	if len(md) > 0 {
		b.metadata = md
	}
	return b, nil
}

// decodeStoreInfo decodes only the "dg_store" part of a blob (nil if
// absent), for listings.
func decodeStoreInfo(data []byte) (*storeInfo, error) {
	var v struct {
		Store *storeInfo `json:"dg_store"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("fsstore: metadata blob: %w", err)
	}
	return v.Store, nil
}
