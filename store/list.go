package store

import "strings"

// CommonPrefix reports the common prefix under which a listing with the
// given prefix and delimiter groups key: key up to and including the first
// delimiter after prefix. ok is false when the key is listed as itself
// (no delimiter, or none after the prefix). key must start with prefix.
func CommonPrefix(key, prefix, delimiter string) (cp string, ok bool) {
	if delimiter == "" || len(key) < len(prefix) {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delimiter)], true
}

// ListFolder turns a stream of objects in ascending key order into the
// entries List must deliver for opts: it drops keys outside opts.Prefix or
// not after opts.StartAfter, folds keys into common prefixes when
// opts.Delimiter is set, and emits each common prefix once. An entry (key
// or common prefix) is emitted only if it is strictly greater than
// opts.StartAfter, so a listing resumed with StartAfter set to the last
// entry seen (even a common prefix) continues exactly after it.
//
// Implementations of Store.List may use it so that all of them agree.
type ListFolder struct {
	opts   ListOptions
	fn     func(Entry) error
	lastCP string
}

// NewListFolder returns a ListFolder that calls fn for each entry.
func NewListFolder(opts ListOptions, fn func(Entry) error) *ListFolder {
	return &ListFolder{opts: opts, fn: fn}
}

// Skip reports whether every key starting with keyPrefix is certain to be
// dropped or folded into a common prefix already emitted, so that a
// backend may skip that part of its key space (for example a directory).
func (f *ListFolder) Skip(keyPrefix string) bool {
	o := &f.opts
	// Entirely before StartAfter: if keyPrefix < StartAfter and StartAfter
	// does not start with keyPrefix, they differ within keyPrefix, so every
	// key keyPrefix+x is < StartAfter too.
	if keyPrefix < o.StartAfter && !strings.HasPrefix(o.StartAfter, keyPrefix) {
		return true
	}
	// Disjoint from Prefix.
	if !strings.HasPrefix(keyPrefix, o.Prefix) && !strings.HasPrefix(o.Prefix, keyPrefix) {
		return true
	}
	if cp, ok := CommonPrefix(keyPrefix, o.Prefix, o.Delimiter); ok && strings.HasPrefix(keyPrefix, o.Prefix) {
		// All keys under keyPrefix fold into cp.
		if cp == f.lastCP || cp <= o.StartAfter {
			return true
		}
	}
	return false
}

// Group reports the common prefix that all keys starting with keyPrefix
// fold into, if there is one; a backend that knows no objects of its own
// are needed below keyPrefix may call Add for the prefix instead of
// enumerating the keys (for example a directory when the delimiter is
// "/"). It is a convenience over CommonPrefix.
func (f *ListFolder) Group(keyPrefix string) (string, bool) {
	if !strings.HasPrefix(keyPrefix, f.opts.Prefix) {
		return "", false
	}
	return CommonPrefix(keyPrefix, f.opts.Prefix, f.opts.Delimiter)
}

// Add offers one object. Objects must be offered in ascending key order.
// It returns the error of the callback, if any.
func (f *ListFolder) Add(info ObjectInfo) error {
	o := &f.opts
	if !strings.HasPrefix(info.Key, o.Prefix) {
		return nil
	}
	if cp, ok := CommonPrefix(info.Key, o.Prefix, o.Delimiter); ok {
		return f.AddPrefix(cp)
	}
	if info.Key <= o.StartAfter {
		return nil
	}
	return f.fn(Entry{ObjectInfo: info})
}

// AddPrefix offers a common prefix directly (as an S3 listing returns
// them). Prefixes not after StartAfter and repeats of the last one are
// dropped.
func (f *ListFolder) AddPrefix(cp string) error {
	if cp == f.lastCP || cp <= f.opts.StartAfter {
		return nil
	}
	f.lastCP = cp
	return f.fn(Entry{ObjectInfo: ObjectInfo{Key: cp}, IsPrefix: true})
}
