package delta

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/deltaglider-go/deltaglider/fsstore"
	"github.com/deltaglider-go/deltaglider/internal/testtool"
)

// checkProxyBlob applies the rules by which the Rust proxy's filesystem
// backend decodes the JSON in user.dg.metadata (its FileMetadata, parsed
// strictly with serde; see ../shared/docs/deltaglider-layout.md §2.2): the
// common fields are required with their JSON types, "note" tags the kind
// and must be one of four values, and each kind requires its own fields.
// A blob that breaks one of them makes the object unreadable by the proxy.
func checkProxyBlob(blob []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(blob, &m); err != nil {
		return err
	}
	str := func(f string) (string, error) {
		raw, ok := m[f]
		if !ok {
			return "", fmt.Errorf("missing field %q", f)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("field %q is not a string: %s", f, raw)
		}
		return s, nil
	}
	u64 := func(f string) error {
		raw, ok := m[f]
		if !ok {
			return fmt.Errorf("missing field %q", f)
		}
		var n uint64
		if err := json.Unmarshal(raw, &n); err != nil {
			return fmt.Errorf("field %q is not an unsigned integer: %s", f, raw)
		}
		return nil
	}
	for _, f := range []string{"tool", "original_name", "file_sha256", "md5"} {
		if _, err := str(f); err != nil {
			return err
		}
	}
	if err := u64("file_size"); err != nil {
		return err
	}
	ts, err := str("created_at")
	if err != nil {
		return err
	}
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		return fmt.Errorf("created_at %q is not RFC 3339", ts)
	}
	for _, f := range []string{"content_type", "multipart_etag"} {
		if _, ok := m[f]; ok {
			if _, err := str(f); err != nil {
				return err
			}
		}
	}
	if raw, ok := m["user_metadata"]; ok {
		var um map[string]string
		if err := json.Unmarshal(raw, &um); err != nil {
			return fmt.Errorf("user_metadata is not a string map: %s", raw)
		}
	}
	note, err := str("note")
	if err != nil {
		return err
	}
	switch note {
	case "reference":
		_, err = str("source_name")
		return err
	case "delta":
		// ref_key is an alias of ref_path: exactly one may be present.
		_, p := m["ref_path"]
		_, k := m["ref_key"]
		switch {
		case p && k:
			return fmt.Errorf("both ref_path and its alias ref_key present (duplicate field)")
		case p:
			_, err = str("ref_path")
		case k:
			_, err = str("ref_key")
		default:
			return fmt.Errorf("missing field %q", "ref_path")
		}
		if err != nil {
			return err
		}
		for _, f := range []string{"ref_sha256", "delta_cmd"} {
			if _, err := str(f); err != nil {
				return err
			}
		}
		return u64("delta_size")
	case "passthrough", "direct":
		return nil
	}
	return fmt.Errorf("note %q is not one of reference, delta, passthrough, direct", note)
}

func writeProxyFile(t *testing.T, path string, data []byte, blob map[string]any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(blob)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkProxyBlob(b); err != nil {
		t.Fatalf("fixture blob for %s breaks the proxy's rules: %v", path, err)
	}
	if err := unix.Setxattr(path, fsstore.XattrName, b, 0); err != nil {
		t.Fatal(err)
	}
}

func md5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// TestCompatProxyFilesystem checks both directions against the layout of
// the Rust proxy's filesystem backend: files under the data directory with
// their metadata as JSON in the xattr user.dg.metadata, deltas made by
// stock xdelta3 as the proxy runs it (-e -D, default level, target on stdin).
func TestCompatProxyFilesystem(t *testing.T) {
	xd := testtool.Tool(t, "xdelta3")
	dir := t.TempDir()
	s, err := fsstore.New(dir, fsstore.WithMetadata(fsstore.MetadataXattr))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const bucket = "releases"
	if err := s.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	vs := versions(61, 3, 200<<10)
	space := filepath.Join(dir, bucket, "app")
	refPath := filepath.Join(space, "reference.bin")
	common := func(name string, data []byte, note string) map[string]any {
		return map[string]any{"tool": "deltaglider_proxy/0.9.3", "original_name": name, "file_sha256": sha(data),
			"file_size": len(data), "md5": md5Hex(data), "created_at": "2026-05-01T10:00:00.123456Z", "note": note}
	}
	ref := common("app-1.0.zip", vs[0], "reference")
	ref["source_name"] = "app-1.0.zip"
	writeProxyFile(t, refPath, vs[0], ref)
	proxyDelta := func(target []byte) []byte {
		cmd := exec.Command(xd, "-e", "-D", "-c", "-s", refPath)
		cmd.Stdin = bytes.NewReader(target)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xdelta3: %v", err)
		}
		return out
	}
	for i, v := range vs {
		name := fmt.Sprintf("app-1.%d.zip", i)
		d := proxyDelta(v)
		blob := common(name, v, "delta")
		blob["ref_path"], blob["ref_sha256"], blob["delta_size"] = "reference.bin", sha(vs[0]), len(d)
		blob["delta_cmd"] = fmt.Sprintf("xdelta3 -e -9 -s reference.bin %s %s.delta", name, name)
		blob["content_type"], blob["user_metadata"] = "application/zip", map[string]string{"build": fmt.Sprint(i)}
		writeProxyFile(t, filepath.Join(space, name+".delta"), d, blob)
	}
	notes := []byte("release notes\n")
	writeProxyFile(t, filepath.Join(space, "NOTES.txt"), notes, common("NOTES.txt", notes, "passthrough"))

	c := newClient(t, s)
	for i, v := range vs {
		key := fmt.Sprintf("app/app-1.%d.zip", i)
		info := mustGet(t, c, bucket, key, v)
		if info.StoredAs != Delta || info.RefKey != "app/reference.bin" || info.ContentType != "application/zip" ||
			info.Metadata["build"] != fmt.Sprint(i) || info.MD5 != md5Hex(v) {
			t.Errorf("%s: %+v", key, info)
		}
	}
	if info := mustGet(t, c, bucket, "app/NOTES.txt", notes); info.StoredAs != Direct {
		t.Errorf("passthrough read as %v", info.StoredAs)
	}

	// The other direction: everything we write through fsstore has a blob
	// the proxy decodes, and our VCDIFF deltas decode with its xdelta3.
	c = newClient(t, s, WithCodec(CodecVCDIFF))
	nv := versions(62, 2, 200<<10)
	put(t, c, bucket, "ours/first.zip", nv[0], func(o *PutOptions) {
		o.ContentType, o.Metadata = "application/zip", map[string]string{"owner": "ci"}
	})
	put(t, c, bucket, "ours/second.zip", nv[1])
	put(t, c, bucket, "ours/readme.txt", []byte(strings.Repeat("read me ", 1000)))
	if info := put(t, c, bucket, "ours/noise.zip", randBytes(63, 64<<10)); info.Reason != "ratio" {
		t.Fatalf("noise.zip: %+v", info)
	}
	v3 := versions(61, 4, 200<<10)[3]
	if info := put(t, c, bucket, "app/app-1.3.zip", v3); info.StoredAs != Delta { // into the proxy's deltaspace
		t.Fatalf("app-1.3.zip: %+v", info)
	}
	n := 0
	err = filepath.WalkDir(filepath.Join(dir, bucket), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.Name() == ".dg" {
				return filepath.SkipDir
			}
			return err
		}
		buf := make([]byte, 64<<10)
		k, err := unix.Getxattr(p, fsstore.XattrName, buf)
		if err != nil {
			t.Errorf("%s: no metadata xattr: %v", p, err)
			return nil
		}
		if err := checkProxyBlob(buf[:k]); err != nil {
			t.Errorf("the proxy cannot read %s: %v\n%s", strings.TrimPrefix(p, dir), err, buf[:k])
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 11 { // proxy: ref, 3 deltas, notes; ours: 1 delta there, and ref, 2 deltas, 2 directs
		t.Errorf("checked %d blobs, want 11", n)
	}
	for k, want := range map[string][]byte{"ours/second.zip": nv[1], "app/app-1.3.zip": v3} {
		space := filepath.Join(dir, bucket, filepath.Dir(k))
		cmd := exec.Command(xd, "-d", "-c", "-s", filepath.Join(space, "reference.bin"), filepath.Join(dir, bucket, k+".delta"))
		out, err := cmd.Output()
		if err != nil || !bytes.Equal(out, want) {
			t.Errorf("xdelta3 -d of our %s.delta: %d bytes, %v", k, len(out), err)
		}
	}
}
