package delta

import (
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"strings"
	"sync/atomic"

	"github.com/deltaglider-go/deltaglider/store"
	"github.com/deltaglider-go/deltaglider/vcdiff"
	"github.com/ulikunitz/xz"
)

// GetOptions controls Get.
type GetOptions struct {
	// Offset and Length select a byte range of the original (Length < 0:
	// to the end). For a range of a delta only the windows the range needs
	// are decoded (each checked by its Adler-32, against a reference whose
	// SHA-256 is checked) when the patch allows it: no secondary
	// compression in those windows (deltas written WithSecondary("none");
	// LZMA's stream runs across windows); the whole-object SHA-256 cannot
	// be checked then. Otherwise the delta is decoded from its start. Ranges of direct objects
	// are read from the store as they are.
	Offset, Length int64
	// VerifyWhole makes a range read of a delta decode the whole object and
	// check its SHA-256 before the reader reports io.EOF.
	VerifyWhole bool
	Progress    ProgressFunc
}

// resolved is what a logical key maps to in the store.
type resolved struct {
	info Info
	oi   store.ObjectInfo // of the stored object
	m    meta
}

// resolve finds how the logical key is stored. When both key and
// key.delta exist (a crash between a put and its clean-up), the newer wins.
func (c *Client) resolve(ctx context.Context, bucket, key string) (*resolved, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	doi, derr := c.s.Stat(ctx, bucket, key+DeltaSuffix)
	if derr != nil && !errors.Is(derr, store.ErrNotExist) {
		return nil, derr
	}
	poi, perr := c.s.Stat(ctx, bucket, key)
	if perr != nil && !errors.Is(perr, store.ErrNotExist) {
		return nil, perr
	}
	useDelta := derr == nil && (perr != nil || !poi.ModTime.After(doi.ModTime))
	if derr != nil && perr != nil {
		return nil, perr
	}
	r := &resolved{}
	if useDelta {
		r.oi = doi
	} else {
		r.oi = poi
	}
	m, user, err := parseMeta(r.oi.Metadata)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.oi.Key, err)
	}
	r.m = m
	i := &r.info
	i.Bucket, i.Key, i.StoredKey = bucket, key, r.oi.Key
	i.StoredSize, i.ModTime, i.ETag = r.oi.Size, r.oi.ModTime, r.oi.ETag
	i.ContentType, i.Metadata, i.SHA256, i.MD5 = r.oi.ContentType, user, m.FileSHA256, m.MD5
	i.Size = r.oi.Size
	switch {
	case useDelta:
		if !m.managed() {
			return nil, fmt.Errorf("%w: %s has no dg-file-sha256 (it was probably copied by a tool that drops "+
				"user metadata), so its reference and checksum are unknown and it cannot be reconstructed",
				ErrMissingMetadata, r.oi.Key)
		}
		if m.FileSize < 0 {
			return nil, fmt.Errorf("%w: %s has no dg-file-size", ErrMissingMetadata, r.oi.Key)
		}
		i.StoredAs, i.Size = Delta, m.FileSize
		i.RefKey, i.RefSHA256 = resolveRef(r.oi.Key, &m), m.RefSHA256
		i.Codec = m.Codec
		if i.Codec == "" {
			i.Codec = CodecVCDIFF
		}
		if bad := path.Clean(i.RefKey); bad != i.RefKey || strings.HasPrefix(bad, "../") || bad == ".." {
			return nil, fmt.Errorf("%w: %s names an unusable reference %q", ErrInvalidMetadata, r.oi.Key, i.RefKey)
		}
	case m.managed():
		i.StoredAs = Direct
		if m.FileSize >= 0 && m.FileSize != r.oi.Size {
			return nil, fmt.Errorf("%w: %s is %d bytes but its metadata records %d", ErrIntegrity, key, r.oi.Size, m.FileSize)
		}
	default:
		i.StoredAs, i.SHA256, i.MD5 = Plain, "", ""
	}
	return r, nil
}

// Tags returns the tags of a logical object (nil when it has none): those
// of the object stored for it.
func (c *Client) Tags(ctx context.Context, bucket, key string) (map[string]string, error) {
	r, err := c.resolve(ctx, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("delta: Tags %s: %w", key, err)
	}
	tags, err := c.s.Tags(ctx, bucket, r.oi.Key)
	if err != nil {
		return nil, fmt.Errorf("delta: Tags %s: %w", key, err)
	}
	return tags, nil
}

// Stat describes a logical object without reading it.
func (c *Client) Stat(ctx context.Context, bucket, key string) (Info, error) {
	r, err := c.resolve(ctx, bucket, key)
	if err != nil {
		return Info{}, fmt.Errorf("delta: Stat %s: %w", key, err)
	}
	return r.info, nil
}

// Get opens a logical object for reading. For deltas and direct objects the
// returned reader verifies the SHA-256 recorded at write time as the data
// streams and returns an error wrapping ErrIntegrity instead of io.EOF on a
// mismatch. Plain objects are served as they are. The caller must Close.
func (c *Client) Get(ctx context.Context, bucket, key string, opts GetOptions) (io.ReadCloser, Info, error) {
	r, rc, err := c.resolveOpen(ctx, bucket, key, opts, "get")
	if err != nil {
		return nil, Info{}, fmt.Errorf("delta: Get %s: %w", key, err)
	}
	return rc, r.info, nil
}

// maxOpenAttempts bounds how often resolveOpen starts again because the
// object was replaced while it was being opened.
const maxOpenAttempts = 4

// resolveOpen resolves a logical key and opens it. A writer may replace the
// stored object (or its reference) between the lookup and the reads; when
// opening fails and a fresh lookup finds a different stored object, it
// starts again with that one, so a reader racing a writer gets the old or
// the new content, not a spurious checksum error.
func (c *Client) resolveOpen(ctx context.Context, bucket, key string, opts GetOptions, op string) (*resolved, io.ReadCloser, error) {
	r, err := c.resolve(ctx, bucket, key)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 1; ; attempt++ {
		rc, err := c.open(ctx, r, opts, op)
		if err == nil {
			return r, rc, nil
		}
		if attempt == maxOpenAttempts || ctx.Err() != nil {
			return r, nil, err
		}
		again, rerr := c.resolve(ctx, bucket, key)
		if rerr != nil || (again.oi.Key == r.oi.Key && sameVersion(again.oi, r.oi)) {
			return r, nil, err // nothing changed: the error stands
		}
		r = again
	}
}

// sameVersion reports whether two descriptions of one stored object are of
// the same version: same ETag and same metadata (which names the reference
// and the checksums a body is read with).
func sameVersion(a, b store.ObjectInfo) bool {
	return a.ETag == b.ETag && maps.Equal(a.Metadata, b.Metadata)
}

// getStored opens bytes of the stored object r describes, failing with
// store.ErrObjectChanged if the store now holds another version: the
// metadata (reference, checksums) resolve read must describe this body.
func (c *Client) getStored(ctx context.Context, r *resolved, off, n int64) (io.ReadCloser, error) {
	body, oi, err := c.s.Get(ctx, r.info.Bucket, r.oi.Key, off, n)
	if err != nil {
		return nil, err
	}
	if !sameVersion(oi, r.oi) {
		body.Close()
		return nil, fmt.Errorf("%w: %s was replaced while being opened", store.ErrObjectChanged, r.oi.Key)
	}
	return body, nil
}

func (c *Client) open(ctx context.Context, r *resolved, opts GetOptions, op string) (io.ReadCloser, error) {
	i := &r.info
	off, length := opts.Offset, opts.Length
	if off < 0 {
		return nil, fmt.Errorf("%w: negative offset", store.ErrInvalidRange)
	}
	if off > i.Size {
		return nil, fmt.Errorf("%w: offset %d beyond size %d", store.ErrInvalidRange, off, i.Size)
	}
	if length < 0 || off+length > i.Size {
		length = i.Size - off
	}
	var prog func(int64)
	if opts.Progress != nil {
		prog = func(n int64) { opts.Progress(Progress{Op: op, Key: i.Key, Done: n, Total: length}) }
	}
	whole := off == 0 && length == i.Size
	if i.StoredAs == Plain || (i.StoredAs == Direct && !whole) {
		body, err := c.getStored(ctx, r, off, length)
		if err != nil {
			return nil, err
		}
		return readCloser{progressReader{body, prog, 0}.reader(), body.Close}, nil
	}
	if i.StoredAs == Direct {
		body, err := c.getStored(ctx, r, 0, -1)
		if err != nil {
			return nil, err
		}
		return newVerifier(ctx, body, []func() error{body.Close}, i, 0, length, prog), nil
	}
	fast := !whole && !opts.VerifyWhole
	var skipOff int64
	if fast {
		skipOff = off
	}
	out, skipped, closers, err := c.decodeStream(ctx, r, skipOff)
	if err != nil {
		return nil, err
	}
	v := newVerifier(ctx, out, closers, i, off-skipped, length, prog)
	v.partial = fast
	v.n = skipped
	return v, nil
}

// decodeStream opens the reconstructed content of a delta.
func (c *Client) decodeStream(ctx context.Context, r *resolved, off int64) (io.Reader, int64, []func() error, error) {
	out, closers, err := c.decodeStream0(ctx, r, off)
	if err != nil {
		return nil, 0, nil, err
	}
	if fr, ok := out.(*fastRange); ok {
		return fr.r, fr.skipped, closers, nil
	}
	return out, 0, closers, nil
}

func (c *Client) decodeStream0(ctx context.Context, r *resolved, off int64) (io.Reader, []func() error, error) {
	i := &r.info
	cd, err := codecFor(r.m.Codec)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", i.StoredKey, err)
	}
	roi, err := c.s.Stat(ctx, i.Bucket, i.RefKey)
	if err != nil {
		if errors.Is(err, store.ErrNotExist) {
			return nil, nil, fmt.Errorf("reference %s of %s is missing: %w", i.RefKey, i.StoredKey, err)
		}
		return nil, nil, err
	}
	rm, _, _ := parseMeta(roi.Metadata)
	if r.m.RefSHA256 != "" && rm.FileSHA256 != "" && rm.FileSHA256 != r.m.RefSHA256 {
		return nil, nil, fmt.Errorf("%w: %s was made against a reference with SHA-256 %s, but %s records %s",
			ErrWrongReference, i.StoredKey, r.m.RefSHA256, i.RefKey, rm.FileSHA256)
	}
	ref, err := c.openRef(ctx, i.Bucket, i.RefKey, roi, r.m.RefSHA256)
	if err != nil {
		return nil, nil, err
	}
	if r.m.RefSHA256 != "" && ref.SHA256 != r.m.RefSHA256 {
		ref.Close()
		return nil, nil, fmt.Errorf("%w: %s was made against a reference with SHA-256 %s, but %s has SHA-256 %s",
			ErrWrongReference, i.StoredKey, r.m.RefSHA256, i.RefKey, ref.SHA256)
	}
	if off > 0 && (r.m.Codec == "" || r.m.Codec == CodecVCDIFF) {
		fr, err := c.windowRange(ctx, r, ref, off)
		if err != nil {
			ref.Close()
			return nil, nil, err
		}
		if fr != nil {
			return fr, []func() error{fr.close, ref.Close}, nil
		}
	}
	body, err := c.getStored(ctx, r, 0, -1)
	if err != nil {
		ref.Close()
		return nil, nil, err
	}
	closers := []func() error{body.Close, ref.Close}
	closeAll := func() {
		for _, f := range closers {
			f()
		}
	}
	patch := bufio.NewReaderSize(ctxReader{ctx, body}, 256<<10)
	out, apph, err := cd.decode(patch, ref.File, ref.Size, i.Size)
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("decoding %s: %w", i.StoredKey, err)
	}
	ext, err := parseAppHeader(apph)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	if ext.any() {
		defer closeAll()
		f, err := c.externalDecode(ctx, r, ext, body, ref)
		if err != nil {
			return nil, nil, err
		}
		return f, []func() error{f.Close}, nil
	}
	if cl, ok := out.(io.Closer); ok {
		closers = append([]func() error{cl.Close}, closers...)
	}
	return out, closers, nil
}

// externalDecode reconstructs a delta written by xdelta3 with external
// compression: the delta is between the decompressed payloads, and the
// target must be recompressed with the tool xdelta3 used. The result is
// served only if it matches the recorded SHA-256, which holds only when the
// original was made by that same tool with the same settings.
func (c *Client) externalDecode(ctx context.Context, r *resolved, ext externalComp, _ io.Reader, ref *refFile) (*os.File, error) {
	i := &r.info
	why := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s was made by xdelta3 with external compression (app header target %q, source %q): %s",
			ErrExternalCompression, i.StoredKey, ext.Target, ext.Source, fmt.Sprintf(format, a...))
	}
	// Source: decompress the reference into a temporary file.
	srcR, srcSize := io.ReaderAt(ref.File), ref.Size
	if ext.Source != "" {
		dec, err := decompressor(ext.Source, io.NewSectionReader(ref.File, 0, ref.Size))
		if err != nil {
			return nil, why("decompressing the reference: %v", err)
		}
		tmp, err := os.CreateTemp(c.tempDir(), "deltaglider-ext-src-*")
		if err != nil {
			return nil, err
		}
		os.Remove(tmp.Name())
		defer tmp.Close()
		if srcSize, err = io.Copy(tmp, ctxReader{ctx, dec}); err != nil {
			return nil, why("decompressing the reference: %v", err)
		}
		srcR = tmp
	}
	// Decode the payload again from the start against the right source.
	body, err := c.getStored(ctx, r, 0, -1)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	cd, _ := codecFor(r.m.Codec)
	payload, _, err := cd.decode(bufio.NewReader(ctxReader{ctx, body}), srcR, srcSize, -1)
	if err != nil {
		return nil, why("%v", err)
	}
	out, err := os.CreateTemp(c.tempDir(), "deltaglider-ext-out-*")
	if err != nil {
		return nil, err
	}
	os.Remove(out.Name())
	h := sha256.New()
	// A correct result is exactly i.Size bytes: stop writing past that, so
	// that a hostile delta cannot fill the disk before the SHA-256 check.
	lw := &limitWriter{w: io.MultiWriter(out, h), limit: i.Size}
	w := io.Writer(lw)
	tooBig := func() error {
		return why("the result grows beyond the recorded size of %d bytes", i.Size)
	}
	if ext.Target == "" {
		if _, err := io.Copy(w, payload); err != nil {
			out.Close()
			if lw.exceeded {
				return nil, tooBig()
			}
			return nil, why("%v", err)
		}
	} else {
		tool, args, _ := compTool(ext.Target)
		p, lerr := exec.LookPath(tool)
		if lerr != nil {
			out.Close()
			return nil, why("recompressing the result needs %s, which is not on PATH", tool)
		}
		cmd := exec.CommandContext(ctx, p, args...)
		cmd.Stdin, cmd.Stdout = payload, w
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			out.Close()
			if lw.exceeded {
				return nil, tooBig()
			}
			return nil, why("%s %s: %v %s", tool, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != i.SHA256 {
		out.Close()
		return nil, why("the payload was reconstructed but recompressing it gives SHA-256 %s, not the recorded %s; "+
			"the original was not made by a byte-reproducible compressor, so its exact bytes cannot be recovered from this delta",
			got, i.SHA256)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		out.Close()
		return nil, err
	}
	return out, nil
}

func decompressor(letter string, r io.Reader) (io.Reader, error) {
	switch letter {
	case "G":
		return gzip.NewReader(r)
	case "B":
		return bzip2.NewReader(r), nil
	case "X", "Y":
		return xz.NewReader(r)
	}
	return nil, fmt.Errorf("no decompressor for %q", letter)
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// verifier streams a range of reconstructed content while hashing all of
// it; it reports io.EOF only after the whole content matched its SHA-256
// and size.
type verifier struct {
	ctx       context.Context
	r         io.Reader
	closers   []func() error
	info      *Info
	h         hash.Hash
	n         int64 // bytes of content consumed
	skip      int64 // bytes still to skip before the range
	remaining int64 // bytes of the range still to deliver
	done      int64
	prog      func(int64)
	err       error
	// partial: the content is not read to its end, so only the range's
	// length is checked (the decoder checks each window's Adler-32).
	partial bool
}

func newVerifier(ctx context.Context, r io.Reader, closers []func() error, i *Info, off, length int64, prog func(int64)) *verifier {
	return &verifier{ctx: ctx, r: r, closers: closers, info: i, h: sha256.New(), skip: off, remaining: length, prog: prog}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if err := v.ctx.Err(); err != nil {
		v.err = err
		return 0, err
	}
	if v.skip > 0 {
		n, err := io.CopyN(v.h, v.r, v.skip)
		v.n += n
		v.skip -= n
		if err != nil {
			v.err = v.fail(err)
			return 0, v.err
		}
	}
	if v.remaining == 0 {
		if v.partial {
			v.err = io.EOF
		} else {
			v.err = v.finish()
		}
		return 0, v.err
	}
	if int64(len(p)) > v.remaining {
		p = p[:v.remaining]
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	v.remaining -= int64(n)
	v.done += int64(n)
	if n > 0 && v.prog != nil {
		v.prog(v.done)
	}
	if err == io.EOF {
		switch {
		case v.remaining > 0 || (v.partial && v.n != v.info.Size):
			v.err = fmt.Errorf("%w: %s ended after %d bytes, expected %d", ErrIntegrity, v.info.Key, v.n, v.info.Size)
		case v.partial:
			v.err = io.EOF
		default:
			v.err = v.check()
		}
		if v.err == io.EOF && n > 0 {
			return n, nil
		}
		return n, v.err
	}
	if err != nil {
		v.err = v.fail(err)
		return n, v.err
	}
	if v.remaining == 0 && !v.partial {
		// Verify the rest before the caller sees EOF.
		v.err = v.finish()
		if v.err != io.EOF {
			return n, v.err
		}
	}
	return n, nil
}

func (v *verifier) fail(err error) error {
	if err == io.EOF {
		return fmt.Errorf("%w: %s ended after %d bytes, expected %d", ErrIntegrity, v.info.Key, v.n, v.info.Size)
	}
	return fmt.Errorf("delta: reading %s: %w", v.info.Key, err)
}

// finish consumes the rest of the content and checks it.
func (v *verifier) finish() error {
	n, err := io.Copy(v.h, v.r)
	v.n += n
	if err != nil {
		return v.fail(err)
	}
	return v.check()
}

func (v *verifier) check() error {
	if v.n != v.info.Size {
		return fmt.Errorf("%w: %s reconstructs to %d bytes, expected %d", ErrIntegrity, v.info.Key, v.n, v.info.Size)
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.info.SHA256 {
		return fmt.Errorf("%w: %s reconstructs to SHA-256 %s, expected %s", ErrIntegrity, v.info.Key, got, v.info.SHA256)
	}
	return io.EOF
}

func (v *verifier) Close() error {
	var first error
	for _, f := range v.closers {
		if err := f(); err != nil && first == nil {
			first = err
		}
	}
	v.closers = nil
	return first
}

// windowsSkipped counts windows range reads did not decode (for tests).
var windowsSkipped atomic.Int64

// fastRange is a decoder started at a window boundary.
type fastRange struct {
	r       io.Reader
	skipped int64 // target offset of the first decoded window
	close   func() error
}

func (*fastRange) Read([]byte) (int, error) { return 0, io.EOF } // never read directly

// windowRange prepares decoding of a delta from the window holding target
// offset off, skipping the windows before it without decoding them. It
// returns nil (no error) when the patch does not allow it: external
// compression, or secondary-compressed sections in the windows needed
// (their compressor state may span windows), or windows without Adler-32.
func (c *Client) windowRange(ctx context.Context, r *resolved, ref *refFile, off int64) (*fastRange, error) {
	i := &r.info
	body, err := c.getStored(ctx, r, 0, -1)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(c.tempDir(), "deltaglider-patch-*")
	if err != nil {
		body.Close()
		return nil, err
	}
	os.Remove(tmp.Name())
	n, err := io.Copy(tmp, ctxReader{ctx, body})
	body.Close()
	if err != nil {
		tmp.Close()
		return nil, err
	}
	pi, err := vcdiff.Inspect(io.NewSectionReader(tmp, 0, n))
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("decoding %s: %w", i.StoredKey, err)
	}
	if ext, err := parseAppHeader(pi.AppHeader); err != nil || ext.any() {
		tmp.Close()
		return nil, nil
	}
	k := -1
	for j, w := range pi.Windows {
		if w.TargetOffset <= off {
			k = j
		}
	}
	if k <= 0 {
		tmp.Close()
		return nil, nil
	}
	for _, w := range pi.Windows[k:] {
		if w.DeltaIndicator != 0 || !w.HasChecksum {
			tmp.Close()
			return nil, nil
		}
	}
	w := pi.Windows[k]
	patch := io.MultiReader(io.NewSectionReader(tmp, 0, pi.HeaderSize), io.NewSectionReader(tmp, w.Offset, n-w.Offset))
	cd, _ := codecFor(CodecVCDIFF)
	out, _, err := cd.decode(bufio.NewReaderSize(ctxReader{ctx, patch}, 256<<10), ref.File, ref.Size, i.Size-w.TargetOffset)
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("decoding %s: %w", i.StoredKey, err)
	}
	windowsSkipped.Add(int64(k))
	return &fastRange{r: out, skipped: w.TargetOffset, close: tmp.Close}, nil
}
