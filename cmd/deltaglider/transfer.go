package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

// putOpts are the write options of cp, sync and migrate.
type putOpts struct {
	noDelta  bool
	plain    bool // store as a plain object without DeltaGlider metadata
	maxRatio float64
}

// transferRecord is the --json form of one upload, download or copy.
type transferRecord struct {
	Type       string  `json:"type"` // "upload", "download", "copy", "delete", "skip"
	Src        string  `json:"src,omitempty"`
	Dst        string  `json:"dst,omitempty"`
	Size       int64   `json:"size"`
	StoredSize int64   `json:"stored_size,omitempty"`
	StoredAs   string  `json:"stored_as,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	Codec      string  `json:"codec,omitempty"` // of a delta: vcdiff or bsdiff
	Savings    float64 `json:"savings,omitempty"`
	DryRun     bool    `json:"dryrun,omitempty"`
}

// summaryRecord is the --json summary line of a recursive command.
type summaryRecord struct {
	Type          string `json:"type"` // "summary"
	Command       string `json:"command"`
	Objects       int64  `json:"objects"`
	Failed        int    `json:"failed"`
	Skipped       int64  `json:"skipped,omitempty"`
	Deleted       int64  `json:"deleted,omitempty"`
	OriginalBytes int64  `json:"original_bytes"`
	StoredBytes   int64  `json:"stored_bytes,omitempty"`
	DryRun        bool   `json:"dryrun,omitempty"`
}

var reasonText = map[string]string{
	"not-eligible": "not a delta-eligible file type",
	"small":        "too small for a delta",
	"no-delta":     "--no-delta",
	"ratio":        "delta was not small enough",
}

// reportTransfer prints one finished (or, with dry, planned) transfer.
func (s *session) reportTransfer(op, src, dst string, info delta.Info, dry bool) {
	rec := transferRecord{Type: op, Src: src, Dst: dst, Size: info.Size, DryRun: dry}
	if op == "upload" || op == "copy" {
		rec.StoredSize, rec.StoredAs, rec.Reason = info.StoredSize, info.StoredAs.String(), info.Reason
		if info.StoredAs == delta.Delta {
			rec.Codec = info.Codec
		}
		if info.Size > 0 {
			rec.Savings = savings(info.Size, info.StoredSize)
		}
	}
	s.rep.record(rec)
	verb := op
	if dry {
		verb = "(dryrun) " + op
	}
	detail := ""
	switch {
	case dry, op == "delete" || op == "skip":
	case op == "download":
		detail = " (" + humanBytes(info.Size) + ")"
	case info.StoredAs == delta.Delta:
		codec := ""
		if info.Codec != "" && info.Codec != delta.CodecVCDIFF {
			codec = info.Codec + " "
		}
		detail = fmt.Sprintf(" (%sdelta %s for %s, %s saved)", codec, humanBytes(info.StoredSize), humanBytes(info.Size),
			percent(savings(info.Size, info.StoredSize)))
		if info.CreatedReference {
			detail = fmt.Sprintf(" (%s, new reference for its deltaspace)", humanBytes(info.Size))
		}
	case info.StoredAs == delta.Plain:
		detail = " (" + humanBytes(info.Size) + ", plain object)"
	default:
		why := reasonText[info.Reason]
		if why == "" {
			why = info.Reason
		}
		if why != "" {
			why = ": " + why
		}
		detail = fmt.Sprintf(" (%s stored whole%s)", humanBytes(info.Size), why)
	}
	if dst == "" {
		s.rep.linef("%s: %s%s", verb, src, detail)
		return
	}
	s.rep.linef("%s: %s to %s%s", verb, src, dst, detail)
}

// upload stores a local file (or stdin for "-") at bucket/key.
func (s *session) upload(ctx context.Context, local, bucket, key string, o putOpts) (delta.Info, error) {
	var r io.Reader
	size := int64(store.SizeUnknown)
	if local == "-" {
		r = contextReader(ctx, s.e.stdin)
	} else {
		f, err := os.Open(local)
		if err != nil {
			return delta.Info{}, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return delta.Info{}, err
		}
		if !fi.Mode().IsRegular() {
			return delta.Info{}, fmt.Errorf("not a regular file")
		}
		r, size = f, fi.Size()
	}
	if o.plain {
		body := r
		if s.rep.bar != nil {
			body = io.TeeReader(r, countingWriter{io.Discard, s.rep})
		}
		oi, err := s.st.Put(ctx, bucket, key, body, store.PutOptions{Size: size})
		if err != nil {
			return delta.Info{}, err
		}
		// The plain object is now the logical key: drop a delta variant.
		if err := s.st.Delete(ctx, bucket, key+delta.DeltaSuffix); err != nil {
			return delta.Info{}, err
		}
		return delta.Info{Bucket: bucket, Key: key, StoredKey: key, StoredAs: delta.Plain, Size: oi.Size, StoredSize: oi.Size}, nil
	}
	return s.dc.Put(ctx, bucket, key, r, delta.PutOptions{Size: size, NoDelta: o.noDelta, MaxRatio: o.maxRatio,
		Progress: s.rep.byteProgress()})
}

// download writes bucket/key to local ("-" is stdout). The file appears
// atomically (temporary file + rename) and only once its checksum has been
// verified; its modification time is set to the object's.
func (s *session) download(ctx context.Context, bucket, key, local string) (delta.Info, error) {
	rc, info, err := s.dc.Get(ctx, bucket, key, delta.GetOptions{Length: -1, Progress: s.rep.byteProgress()})
	if err != nil {
		return delta.Info{}, err
	}
	defer rc.Close()
	if local == "-" {
		if _, err := io.Copy(s.e.stdout, rc); err != nil {
			return info, err
		}
		return info, rc.Close()
	}
	dir := filepath.Dir(local)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return info, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(local)+".dgtmp-*")
	if err != nil {
		return info, err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, rc); err != nil {
		return info, err
	}
	if err := rc.Close(); err != nil {
		return info, err
	}
	if err := tmp.Close(); err != nil {
		return info, err
	}
	if !info.ModTime.IsZero() {
		os.Chtimes(tmp.Name(), info.ModTime, info.ModTime)
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return info, err
	}
	ok = true
	return info, nil
}

// copyObject copies between two object locations: server-side where the
// delta client can, else by reconstructing and storing again with the
// requested options.
func (s *session) copyObject(ctx context.Context, sb, sk, db, dk string, o putOpts) (delta.Info, error) {
	if !o.noDelta && !o.plain && o.maxRatio == 0 {
		return s.dc.Copy(ctx, sb, sk, db, dk, delta.CopyOptions{Progress: s.rep.byteProgress()})
	}
	tags, err := s.dc.Tags(ctx, sb, sk) // the copy keeps them, as a server-side copy does
	if err != nil {
		return delta.Info{}, err
	}
	rc, info, err := s.dc.Get(ctx, sb, sk, delta.GetOptions{Length: -1})
	if err != nil {
		return delta.Info{}, err
	}
	defer rc.Close()
	if o.plain {
		oi, err := s.st.Put(ctx, db, dk, rc, store.PutOptions{Size: info.Size, ContentType: info.ContentType,
			Metadata: info.Metadata, Tags: tags})
		if err != nil {
			return delta.Info{}, err
		}
		if err := s.st.Delete(ctx, db, dk+delta.DeltaSuffix); err != nil {
			return delta.Info{}, err
		}
		return delta.Info{Bucket: db, Key: dk, StoredKey: dk, StoredAs: delta.Plain, Size: oi.Size, StoredSize: oi.Size}, nil
	}
	return s.dc.Put(ctx, db, dk, rc, delta.PutOptions{Size: info.Size, ContentType: info.ContentType,
		Metadata: info.Metadata, Tags: tags, NoDelta: o.noDelta, MaxRatio: o.maxRatio, Progress: s.rep.byteProgress()})
}

// localFile is one file found under a local directory.
type localFile struct {
	rel  string // slash-separated, relative to the root
	path string
	size int64
}

// walkLocal lists the regular files under root that the filters keep, in
// lexical order. Symbolic links to directories are not followed.
func walkLocal(root string, f filters) ([]localFile, error) {
	var out []localFile
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, os.ErrNotExist) {
				return filepath.SkipAll // a missing directory holds no files
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.Contains(filepath.Base(p), ".dgtmp-") || !f.keep(rel) {
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil // dangling symlink or removed meanwhile
			}
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		out = append(out, localFile{rel: rel, path: p, size: fi.Size()})
		return nil
	})
	return out, err
}

// localPathFor maps a key relative to a prefix to a path under dir,
// refusing anything that would escape dir.
func localPathFor(dir, rel string) (string, error) {
	p := filepath.FromSlash(rel)
	if !filepath.IsLocal(p) {
		return "", fmt.Errorf("key %q would be written outside %s; skipped", rel, dir)
	}
	return filepath.Join(dir, p), nil
}

// contextReader reads r until ctx ends. A read of a terminal or a pipe
// cannot be interrupted, so without it Ctrl-C during `cp - s3://...` would
// wait for the next input or EOF: r is read on a goroutine, and once ctx
// ends the returned reader fails at once with ctx.Err() (the goroutine
// ends with the read it is blocked in).
func contextReader(ctx context.Context, r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := pw.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				pw.CloseWithError(err) // io.EOF reads as EOF
				return
			}
		}
	}()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
	return pr
}
