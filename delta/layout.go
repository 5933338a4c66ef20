package delta

import (
	"fmt"
	"path"
	"strings"
)

// Reserved names inside a deltaspace.
const (
	// ReferenceName is the reference object of every deltaspace.
	ReferenceName = "reference.bin"
	// DeltaSuffix ends the key of every delta object.
	DeltaSuffix = ".delta"
	// InternalPrefix holds DeltaGlider's own bookkeeping (stats caches,
	// rehydrated temporaries); hidden from listings.
	InternalPrefix = ".deltaglider/"
)

// deltaspace returns the parent prefix of key ("" at the bucket root) and
// the base name.
func deltaspace(key string) (space, name string) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", key
	}
	return key[:i], key[i+1:]
}

// join builds a key inside a deltaspace.
func join(space, name string) string {
	if space == "" {
		return name
	}
	return space + "/" + name
}

// refKey is the key of the reference of key's deltaspace.
func refKey(key string) string {
	s, _ := deltaspace(key)
	return join(s, ReferenceName)
}

// isReserved reports whether the base name of key is one of ours.
func isReserved(key string) bool {
	_, name := deltaspace(key)
	return name == ReferenceName || strings.HasSuffix(name, DeltaSuffix)
}

// checkKey validates a logical (user) key.
func checkKey(key string) error {
	if key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("delta: invalid key %q: empty object name", key)
	}
	if isReserved(key) {
		return fmt.Errorf("%w: %q", ErrReservedKey, key)
	}
	if strings.HasPrefix(key, InternalPrefix) {
		return fmt.Errorf("%w: %q is under %s", ErrReservedKey, key, InternalPrefix)
	}
	return nil
}

// isInternal reports whether a stored key is hidden from listings.
func isInternal(key string) bool {
	if strings.HasPrefix(key, InternalPrefix) {
		return true
	}
	_, name := deltaspace(key)
	return name == ReferenceName
}

// logicalKey maps a stored key to the logical key it represents.
func logicalKey(stored string) string {
	return strings.TrimSuffix(stored, DeltaSuffix)
}

// resolveRef finds the reference key a delta at deltaKey names in its
// metadata: Python's bucket-relative dg-ref-key, else the proxy's
// deltaspace-relative dg-ref-path, else the deltaspace's reference.bin.
func resolveRef(deltaKey string, m *meta) string {
	if m.RefKey != "" {
		return strings.TrimPrefix(m.RefKey, "/")
	}
	space, _ := deltaspace(deltaKey)
	if m.RefPath != "" {
		p := m.RefPath
		if strings.HasPrefix(p, "/") {
			return strings.TrimPrefix(path.Clean(p), "/")
		}
		return join(space, path.Clean(p))
	}
	return join(space, ReferenceName)
}
