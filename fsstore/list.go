package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/deltaglider-go/deltaglider/store"
)

// dirEntry is one name in a directory with the string it sorts by: the
// name, plus "/" for a directory, because every key below directory "a"
// starts with "a/". This puts "a-b" (0x2D) before "a/..." (0x2F) before
// "a0" (0x30), the byte order of the full keys.
type dirEntry struct {
	sortKey string
	isDir   bool
}

// List walks the bucket's directory tree depth first, reading each
// directory and sorting its names (as above) so that keys come out in
// byte order. Memory is bounded by the sizes of the directories on the
// current path, not by the size of the listing. Subtrees that lie before
// StartAfter, outside Prefix or inside an already reported common prefix
// are not read. Symbolic links, other non-regular files, names that are
// not valid keys and the store's internal ".dg" directory are skipped; a
// directory holding no objects produces no common prefix.
func (s *Store) List(ctx context.Context, bucket string, opts store.ListOptions, fn func(store.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.bucketDir(bucket); err != nil {
		return err
	}
	// Start at the deepest directory that the prefix names in full.
	start := ""
	if i := strings.LastIndexByte(opts.Prefix, '/'); i >= 0 {
		dir := opts.Prefix[:i]
		if checkKey(dir) != nil {
			return nil // no valid key has this prefix
		}
		start = dir + "/"
	}
	f := store.NewListFolder(opts, func(e store.Entry) error {
		e.Bucket = bucket
		return fn(e)
	})
	w := &walker{s: s, ctx: ctx, bucket: bucket, f: f, prefix: opts.Prefix}
	return w.walk(start)
}

type walker struct {
	s      *Store
	ctx    context.Context
	bucket string
	f      *store.ListFolder
	prefix string
}

// readDir returns the sorted, filtered entries of the directory holding
// keys starting with rel ("" or ending in "/").
func (w *walker) readDir(rel string) ([]dirEntry, error) {
	name := w.bucket
	if rel != "" {
		name += "/" + strings.TrimSuffix(rel, "/")
	}
	d, err := w.s.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil // removed meanwhile
		}
		return nil, fmt.Errorf("fsstore: list: %w", err)
	}
	defer d.Close()
	var out []dirEntry
	for {
		ents, err := d.ReadDir(1024)
		for _, e := range ents {
			n := e.Name()
			if rel == "" && n == internalDir {
				continue
			}
			if store.ValidateKey(n) != nil {
				continue
			}
			switch {
			case e.IsDir():
				out = append(out, dirEntry{sortKey: n + "/", isDir: true})
			case e.Type().IsRegular():
				out = append(out, dirEntry{sortKey: n})
			}
		}
		if err != nil || len(ents) == 0 {
			break
		}
		if err := w.ctx.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b dirEntry) int { return strings.Compare(a.sortKey, b.sortKey) })
	return out, nil
}

func (w *walker) walk(rel string) error {
	ents, err := w.readDir(rel)
	if err != nil {
		return err
	}
	// Files are opened relative to their directory: one openat each
	// instead of one per path segment.
	var dir *os.Root
	defer func() {
		if dir != nil {
			dir.Close()
		}
	}()
	for _, e := range ents {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		full := rel + e.sortKey
		if w.f.Skip(full) {
			continue
		}
		if e.isDir {
			if cp, ok := w.f.Group(full); ok {
				// Every key below folds into cp: one entry, if the
				// directory holds any object at all.
				has, err := w.s.hasObject(w.ctx, w.bucket, full)
				if err != nil {
					return err
				}
				if has {
					if err := w.f.AddPrefix(cp); err != nil {
						return err
					}
				}
				continue
			}
			if err := w.walk(full); err != nil {
				return err
			}
			continue
		}
		if !strings.HasPrefix(full, w.prefix) {
			continue
		}
		if dir == nil {
			name := w.bucket
			if rel != "" {
				name += "/" + strings.TrimSuffix(rel, "/")
			}
			if dir, err = w.s.root.OpenRoot(name); err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
					return nil // removed meanwhile
				}
				return fmt.Errorf("fsstore: list: %w", err)
			}
		}
		info, err := w.stat(dir, e.sortKey, full)
		if errors.Is(err, store.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		if err := w.f.Add(info); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) stat(dir *os.Root, name, key string) (store.ObjectInfo, error) {
	// readDir saw a regular file here; open it directly (a symlink put
	// in its place meanwhile is at worst followed inside the root).
	f, err := dir.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return store.ObjectInfo{}, w.s.notFound(w.bucket, key, err)
	}
	defer f.Close()
	info, err := w.s.describe(f, w.bucket, key, false)
	info.Metadata, info.ContentType = nil, ""
	return info, err
}

// hasObject reports whether the directory of keys starting with rel ("" for
// the whole bucket) holds at least one object. It reads the directory in
// small batches and stops at the first object, so a delimited listing of
// directories that hold many files stays cheap.
func (s *Store) hasObject(ctx context.Context, bucket, rel string) (bool, error) {
	name := bucket
	if rel != "" {
		name += "/" + strings.TrimSuffix(rel, "/")
	}
	d, err := s.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return false, nil
		}
		return false, fmt.Errorf("fsstore: list: %w", err)
	}
	var dirs []string
	for {
		ents, err := d.ReadDir(64)
		for _, e := range ents {
			n := e.Name()
			if (rel == "" && n == internalDir) || store.ValidateKey(n) != nil {
				continue
			}
			if e.Type().IsRegular() {
				d.Close()
				return true, nil
			}
			if e.IsDir() {
				dirs = append(dirs, n)
			}
		}
		if err != nil || len(ents) == 0 {
			break
		}
	}
	d.Close()
	for _, n := range dirs {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if has, err := s.hasObject(ctx, bucket, rel+n+"/"); has || err != nil {
			return has, err
		}
	}
	return false, nil
}
