package delta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/deltaglider-go/deltaglider/store"
)

// ListOptions controls List.
type ListOptions struct {
	// Prefix, Delimiter and StartAfter are those of store.ListOptions,
	// applied to logical keys.
	Prefix, Delimiter, StartAfter string
	// StoredSizes skips the per-delta metadata lookup: deltas then report
	// Size -1 and only StoredSize. Without it every delta costs one Stat.
	StoredSizes bool
	Progress    ProgressFunc
}

// ListEntry is one logical object, or a common prefix (IsPrefix, only Key
// set). List does not read the metadata of non-delta objects, so those
// report StoredAs Direct whether or not they carry DeltaGlider metadata
// (Stat tells them apart) and no SHA256.
type ListEntry struct {
	Info
	IsPrefix bool
}

// List calls fn for each logical object under opts.Prefix, in the order of
// their stored keys: deltas appear under their logical name with their
// original size, references and .deltaglider/ internals are hidden, and a
// key stored both ways is listed once. Like store.List it never holds the
// whole listing in memory.
func (c *Client) List(ctx context.Context, bucket string, opts ListOptions, fn func(ListEntry) error) error {
	type pend struct {
		e     ListEntry
		final bool
	}
	var buf []pend
	count := int64(0)
	var ready []ListEntry
	// deliver fills in delta metadata for the ready entries, concurrently,
	// and hands them to fn in order.
	deliver := func() error {
		if !opts.StoredSizes {
			if err := c.fillDeltaInfo(ctx, bucket, ready); err != nil {
				return err
			}
		}
		for _, e := range ready {
			if e.Size == -2 {
				continue // deleted since listed
			}
			count++
			if opts.Progress != nil {
				opts.Progress(Progress{Op: "list", Done: count, Total: -1})
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		ready = ready[:0]
		return nil
	}
	emit := func(p pend) error {
		if p.e.Key <= opts.StartAfter {
			return nil
		}
		ready = append(ready, p.e)
		if len(ready) >= listBatch {
			return deliver()
		}
		return nil
	}
	flush := func(cur string, all bool) error {
		for len(buf) > 0 {
			p := buf[0]
			if !all && !p.final && cur <= p.e.StoredKey+DeltaSuffix {
				return nil
			}
			buf = buf[1:]
			if err := emit(p); err != nil {
				return err
			}
		}
		return nil
	}
	err := c.s.List(ctx, bucket, store.ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter, StartAfter: opts.StartAfter},
		func(se store.Entry) error {
			k := se.Key
			switch {
			case se.IsPrefix:
				if k != InternalPrefix {
					buf = append(buf, pend{ListEntry{Info: Info{Bucket: bucket, Key: k}, IsPrefix: true}, true})
				}
			case isInternal(k):
			case strings.HasSuffix(k, DeltaSuffix):
				lk := logicalKey(k)
				e := ListEntry{Info: Info{Bucket: bucket, Key: lk, StoredKey: k, StoredAs: Delta, Size: -1,
					StoredSize: se.Size, ModTime: se.ModTime, ETag: se.ETag}}
				merged := false
				for i := range buf {
					if !buf[i].final && buf[i].e.Key == lk {
						if !buf[i].e.ModTime.After(se.ModTime) {
							buf[i].e = e
						}
						buf[i].final, merged = true, true
					}
				}
				if !merged {
					buf = append(buf, pend{e, true})
				}
			default:
				buf = append(buf, pend{ListEntry{Info: Info{Bucket: bucket, Key: k, StoredKey: k, StoredAs: Direct,
					Size: se.Size, StoredSize: se.Size, ModTime: se.ModTime, ETag: se.ETag}}, false})
			}
			return flush(k, false)
		})
	if err != nil {
		return fmt.Errorf("delta: List %s: %w", opts.Prefix, err)
	}
	if err := flush("", true); err != nil {
		return fmt.Errorf("delta: List %s: %w", opts.Prefix, err)
	}
	if err := deliver(); err != nil {
		return fmt.Errorf("delta: List %s: %w", opts.Prefix, err)
	}
	return nil
}

// listBatch is how many listed entries wait for their metadata together.
const listBatch = 128

// fillDeltaInfo reads the metadata of the deltas among es with up to
// c.o.concurrency parallel Stats; a delta deleted meanwhile gets Size -2.
func (c *Client) fillDeltaInfo(ctx context.Context, bucket string, es []ListEntry) error {
	sem := make(chan struct{}, c.o.concurrency)
	errs := make([]error, len(es))
	var wg sync.WaitGroup
	for i := range es {
		e := &es[i]
		if e.IsPrefix || e.StoredAs != Delta {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			oi, err := c.s.Stat(ctx, bucket, e.StoredKey)
			if errors.Is(err, store.ErrNotExist) {
				e.Size = -2
				return
			}
			if err != nil {
				errs[i] = err
				return
			}
			if m, user, err := parseMeta(oi.Metadata); err == nil && m.managed() {
				e.Size, e.SHA256, e.Metadata = m.FileSize, m.FileSHA256, user
				e.RefKey, e.RefSHA256, e.Codec = resolveRef(e.StoredKey, &m), m.RefSHA256, m.Codec
				if e.Codec == "" {
					e.Codec = CodecVCDIFF
				}
			}
			e.ContentType = oi.ContentType
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Delete removes a logical object (its delta and any direct variant). The
// deltaspace's reference is kept even when this was its last delta: removing
// it here could orphan a delta another writer is adding. Purge reclaims
// unused references safely.
func (c *Client) Delete(ctx context.Context, bucket, key string) (Info, error) {
	r, err := c.resolve(ctx, bucket, key)
	if err != nil && !errors.Is(err, ErrMissingMetadata) && !errors.Is(err, ErrInvalidMetadata) && !errors.Is(err, ErrIntegrity) {
		return Info{}, fmt.Errorf("delta: Delete %s: %w", key, err)
	}
	var info Info
	if r != nil {
		info = r.info
	}
	if err := c.s.DeleteMany(ctx, bucket, []string{key + DeltaSuffix, key}); err != nil {
		return info, fmt.Errorf("delta: Delete %s: %w", key, err)
	}
	return info, nil
}

// DeleteRecursive removes every logical object whose key starts with
// prefix, then reclaims the references of the deltaspaces it emptied (with
// Purge's safety checks; references still used by deltas outside prefix are
// kept). It returns the number of logical objects removed.
func (c *Client) DeleteRecursive(ctx context.Context, bucket, prefix string, progress ProgressFunc) (int64, error) {
	var batch []string
	spaces := map[string]bool{}
	var n int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := c.s.DeleteMany(ctx, bucket, batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	err := c.s.List(ctx, bucket, store.ListOptions{Prefix: prefix}, func(se store.Entry) error {
		k := se.Key
		if strings.HasPrefix(k, InternalPrefix) {
			return nil
		}
		space, name := deltaspace(k)
		if name == ReferenceName {
			spaces[space] = true
			return nil
		}
		batch = append(batch, k)
		if strings.HasSuffix(k, DeltaSuffix) {
			spaces[space] = true // its reference may now be unused, even outside prefix
		}
		if !strings.HasSuffix(k, DeltaSuffix) {
			n++
		} else if _, err := c.s.Stat(ctx, bucket, logicalKey(k)); err != nil {
			n++ // a delta without a direct twin is one logical object
		}
		if progress != nil {
			progress(Progress{Op: "delete", Key: k, Done: n, Total: -1})
		}
		if len(batch) >= 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return n, fmt.Errorf("delta: DeleteRecursive %s: %w", prefix, err)
	}
	for space := range spaces {
		if _, err := c.purgeSpace(ctx, bucket, space); err != nil {
			return n, fmt.Errorf("delta: DeleteRecursive %s: %w", prefix, err)
		}
	}
	return n, nil
}

// Purge removes the references of deltaspaces under prefix that no delta
// uses any more, and returns their keys. It is safe against concurrent
// writers: after removing a reference it lists the deltaspace again, and if
// a delta made against that reference appeared meanwhile it restores the
// reference (or, if a new one was seeded in between, re-stores those
// objects against the new one).
func (c *Client) Purge(ctx context.Context, bucket, prefix string) ([]string, error) {
	var refs []string
	err := c.s.List(ctx, bucket, store.ListOptions{Prefix: prefix}, func(se store.Entry) error {
		if _, name := deltaspace(se.Key); name == ReferenceName {
			refs = append(refs, se.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delta: Purge %s: %w", prefix, err)
	}
	var removed []string
	for _, rk := range refs {
		space, _ := deltaspace(rk)
		ok, err := c.purgeSpace(ctx, bucket, space)
		if err != nil {
			return removed, fmt.Errorf("delta: Purge %s: %w", prefix, err)
		}
		if ok {
			removed = append(removed, rk)
		}
	}
	return removed, nil
}

// deltasOf lists the deltas directly in a deltaspace that use reference rk.
func (c *Client) deltasOf(ctx context.Context, bucket, space, rk string, max int) ([]string, error) {
	var out []string
	lp := ""
	if space != "" {
		lp = space + "/"
	}
	errEnough := errors.New("enough")
	err := c.s.List(ctx, bucket, store.ListOptions{Prefix: lp, Delimiter: "/"}, func(se store.Entry) error {
		if se.IsPrefix || !strings.HasSuffix(se.Key, DeltaSuffix) {
			return nil
		}
		oi, err := c.s.Stat(ctx, bucket, se.Key)
		if errors.Is(err, store.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		m, _, _ := parseMeta(oi.Metadata)
		if resolveRef(se.Key, &m) != rk {
			return nil
		}
		out = append(out, se.Key)
		if max > 0 && len(out) >= max {
			return errEnough
		}
		return nil
	})
	if err == errEnough {
		err = nil
	}
	return out, err
}

// purgeSpace removes the reference of one deltaspace if no delta uses it.
func (c *Client) purgeSpace(ctx context.Context, bucket, space string) (bool, error) {
	rk := join(space, ReferenceName)
	users, err := c.deltasOf(ctx, bucket, space, rk, 1)
	if err != nil || len(users) > 0 {
		return false, err
	}
	roi, err := c.s.Stat(ctx, bucket, rk)
	if errors.Is(err, store.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Keep a verified local copy until the deltaspace is known to be safe.
	ref, err := c.openRef(ctx, bucket, rk, roi, "")
	if err != nil {
		return false, err
	}
	defer ref.Close()
	if err := c.s.Delete(ctx, bucket, rk); err != nil {
		return false, err
	}
	late, err := c.deltasOf(ctx, bucket, space, rk, 0)
	if err != nil {
		return false, c.restoreRef(ctx, bucket, rk, roi, ref, err)
	}
	if len(late) == 0 {
		return true, nil
	}
	// A writer stored a delta against this reference while we removed it.
	if err := c.restoreRef(ctx, bucket, rk, roi, ref, nil); err == nil {
		return false, nil
	}
	// A new reference was seeded in between: rebuild the late objects
	// from our copy of the old one and store them against the new one.
	for _, dk := range late {
		if err := c.rebuild(ctx, bucket, dk, ref); err != nil {
			return false, fmt.Errorf("re-storing %s after a concurrent reference change: %w", dk, err)
		}
	}
	return true, nil
}

// restoreRef puts a purged reference back unless an identical one is there.
func (c *Client) restoreRef(ctx context.Context, bucket, rk string, roi store.ObjectInfo, ref *refFile, cause error) error {
	_, err := c.s.Put(ctx, bucket, rk, io.NewSectionReader(ref.File, 0, ref.Size), store.PutOptions{
		Size: ref.Size, Metadata: roi.Metadata, ContentType: roi.ContentType, IfNotExists: true})
	if errors.Is(err, store.ErrExist) {
		cur, serr := c.s.Stat(ctx, bucket, rk)
		if serr == nil {
			if m, _, _ := parseMeta(cur.Metadata); m.FileSHA256 == ref.SHA256 {
				err = nil
			}
		}
	}
	if cause != nil {
		return errors.Join(cause, err)
	}
	return err
}

// rebuild reconstructs the delta dk against the old reference ref and
// stores the object again through Put.
func (c *Client) rebuild(ctx context.Context, bucket, dk string, ref *refFile) error {
	// The metadata must come with the body: the writer of dk may be
	// storing it again against the new reference right now, and a Stat
	// followed by a Get could pair the old metadata with the new delta.
	body, oi, err := c.s.Get(ctx, bucket, dk, 0, -1)
	if errors.Is(err, store.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer body.Close()
	m, user, err := parseMeta(oi.Metadata)
	if err != nil {
		return err
	}
	if m.RefSHA256 != "" && m.RefSHA256 != ref.SHA256 {
		return nil // made against the new reference already
	}
	cd, err := codecFor(m.Codec)
	if err != nil {
		return err
	}
	out, _, err := cd.decode(body, ref.File, ref.Size, m.FileSize)
	if err != nil {
		return err
	}
	if cl, ok := out.(io.Closer); ok {
		defer cl.Close()
	}
	info := Info{Key: logicalKey(dk), Size: m.FileSize, SHA256: m.FileSHA256}
	v := newVerifier(ctx, out, nil, &info, 0, m.FileSize, nil)
	_, err = c.Put(ctx, bucket, logicalKey(dk), v, PutOptions{Size: m.FileSize, ContentType: oi.ContentType, Metadata: user})
	return err
}

// CopyOptions controls Copy.
type CopyOptions struct {
	// ReplaceMetadata stores Metadata and ContentType on the copy instead
	// of the source's.
	ReplaceMetadata bool
	Metadata        map[string]string
	ContentType     string
	// ReplaceTags gives the copy Tags instead of the source's tags, which
	// it keeps otherwise.
	ReplaceTags bool
	Tags        map[string]string
	Progress    ProgressFunc
}

// Copy copies a logical object. A delta copied within its deltaspace is
// copied server-side as a delta; anything else is reconstructed, verified
// and stored again with Put (so it is re-routed for its new place).
func (c *Client) Copy(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (Info, error) {
	if err := checkKey(dstKey); err != nil {
		return Info{}, fmt.Errorf("delta: Copy to %s: %w", dstKey, err)
	}
	if opts.ReplaceMetadata {
		if err := checkUserMeta(opts.Metadata); err != nil {
			return Info{}, err
		}
	}
	tags, err := store.NormalizeTags(opts.Tags)
	if err != nil {
		return Info{}, fmt.Errorf("delta: Copy to %s: %w", dstKey, err)
	}
	opts.Tags = tags
	for attempt := 1; ; attempt++ {
		info, err := c.copyOnce(ctx, srcBucket, srcKey, dstBucket, dstKey, opts)
		// The source was replaced between its lookup and its read:
		// start again from the lookup, as Get does.
		if errors.Is(err, store.ErrObjectChanged) && attempt < maxOpenAttempts && ctx.Err() == nil {
			continue
		}
		return info, err
	}
}

func (c *Client) copyOnce(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (Info, error) {
	tags := opts.Tags
	r, err := c.resolve(ctx, srcBucket, srcKey)
	if err != nil {
		return Info{}, fmt.Errorf("delta: Copy %s: %w", srcKey, err)
	}
	if !opts.ReplaceTags {
		if tags, err = c.s.Tags(ctx, srcBucket, r.oi.Key); err != nil {
			return Info{}, fmt.Errorf("delta: Copy %s: %w", srcKey, err)
		}
	}
	user, ctype := r.info.Metadata, r.info.ContentType
	if opts.ReplaceMetadata {
		user, ctype = opts.Metadata, opts.ContentType
	}
	srcSpace, _ := deltaspace(srcKey)
	dstSpace, dstName := deltaspace(dstKey)
	if r.info.StoredAs == Delta && srcBucket == dstBucket && srcSpace == dstSpace && r.info.RefKey == refKey(dstKey) {
		m := r.m
		m.OriginalName = dstName
		m.CreatedAt = timestamp(c.now())
		m.Note = noteDelta
		oi, err := c.s.Copy(ctx, srcBucket, r.info.StoredKey, dstBucket, dstKey+DeltaSuffix, store.CopyOptions{
			ReplaceMetadata: true, Metadata: m.encode(user), ContentType: ctype, ReplaceTags: true, Tags: tags,
			IfMatch: r.oi.ETag}) // the version m describes, not one that replaced it since
		if err != nil {
			return Info{}, fmt.Errorf("delta: Copy %s: %w", srcKey, err)
		}
		if err := c.s.Delete(ctx, dstBucket, dstKey); err != nil {
			return Info{}, fmt.Errorf("delta: Copy %s: %w", srcKey, err)
		}
		i := r.info
		i.Bucket, i.Key, i.StoredKey, i.Metadata, i.ContentType = dstBucket, dstKey, dstKey+DeltaSuffix, user, ctype
		i.ModTime, i.ETag, i.Tags = oi.ModTime, oi.ETag, tags
		return i, nil
	}
	rc, err := c.open(ctx, r, GetOptions{Offset: 0, Length: -1}, "copy")
	if err != nil {
		return Info{}, fmt.Errorf("delta: Copy %s: %w", srcKey, err)
	}
	defer rc.Close()
	info, err := c.Put(ctx, dstBucket, dstKey, rc, PutOptions{Size: r.info.Size, ContentType: ctype, Metadata: user,
		Tags: tags, Progress: opts.Progress})
	if err != nil {
		return Info{}, fmt.Errorf("delta: Copy %s: %w", srcKey, err)
	}
	return info, nil
}

// Verify reconstructs a logical object and checks it against its recorded
// SHA-256 without writing it anywhere. Plain objects (no recorded
// checksum) verify if they can be read.
func (c *Client) Verify(ctx context.Context, bucket, key string, progress ProgressFunc) (Info, error) {
	r, rc, err := c.resolveOpen(ctx, bucket, key, GetOptions{Length: -1, Progress: progress}, "verify")
	if err != nil {
		var info Info
		if r != nil {
			info = r.info
		}
		return info, fmt.Errorf("delta: Verify %s: %w", key, err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return r.info, fmt.Errorf("delta: Verify %s: %w", key, err)
	}
	return r.info, nil
}

// Stats summarises a prefix of a bucket.
type Stats struct {
	Objects       int64 // logical objects
	DeltaObjects  int64
	DirectObjects int64 // direct and plain
	References    int64
	// OriginalBytes is the logical size of all objects; StoredBytes what
	// the store holds for them, references included.
	OriginalBytes  int64
	StoredBytes    int64
	ReferenceBytes int64
}

// Savings is 1 - StoredBytes/OriginalBytes.
func (s Stats) Savings() float64 {
	if s.OriginalBytes == 0 {
		return 0
	}
	return 1 - float64(s.StoredBytes)/float64(s.OriginalBytes)
}

// Stats walks every object under prefix (one Stat per delta for its
// original size).
func (c *Client) Stats(ctx context.Context, bucket, prefix string, progress ProgressFunc) (Stats, error) {
	var st Stats
	err := c.s.List(ctx, bucket, store.ListOptions{Prefix: prefix}, func(se store.Entry) error {
		k := se.Key
		if strings.HasPrefix(k, InternalPrefix) {
			return nil
		}
		if _, name := deltaspace(k); name == ReferenceName {
			st.References++
			st.ReferenceBytes += se.Size
			st.StoredBytes += se.Size
			return nil
		}
		st.StoredBytes += se.Size
		st.Objects++
		if strings.HasSuffix(k, DeltaSuffix) {
			st.DeltaObjects++
			oi, err := c.s.Stat(ctx, bucket, k)
			if err != nil && !errors.Is(err, store.ErrNotExist) {
				return err
			}
			if m, _, err := parseMeta(oi.Metadata); err == nil && m.FileSize >= 0 {
				st.OriginalBytes += m.FileSize
			}
		} else {
			st.DirectObjects++
			st.OriginalBytes += se.Size
		}
		if progress != nil {
			progress(Progress{Op: "stats", Key: k, Done: st.Objects, Total: -1})
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("delta: Stats %s: %w", prefix, err)
	}
	return st, nil
}
