// Package fuzz holds fuzz targets that cross package boundaries: inputs go
// through the delta store (routing, both codecs, secondary compression,
// metadata, SHA-256 checks) and a real store.Store, and must come back
// byte-exactly (FuzzStoreRoundTrip); and the codec is checked against
// stock xdelta3 both ways (FuzzXdelta3Differential: their patches through
// our decoder, ours through `xdelta3 -d`). The per-package targets (decoders, hostile patches) live
// next to the code they test; scripts/fuzz-targets.txt lists them all.
// Crashers found by `go test -fuzz` are kept in testdata/fuzz/.
package fuzz
