package delta

import "errors"

// Sentinel errors. Errors from the underlying store keep their identity
// (errors.Is(err, store.ErrNotExist) works for a missing object).
var (
	// ErrReservedKey: the key is "reference.bin" or ends in ".delta"; those
	// names hold the deltaspace's internals.
	ErrReservedKey = errors.New("delta: reserved key name (reference.bin and *.delta hold deltaspace internals)")
	// ErrIntegrity: reconstructed data does not match its recorded SHA-256.
	ErrIntegrity = errors.New("delta: integrity check failed (SHA-256 mismatch)")
	// ErrMissingMetadata: a .delta object carries no DeltaGlider metadata
	// (typically copied by a tool that drops user metadata), so the
	// reference and checksum it needs are unknown.
	ErrMissingMetadata = errors.New("delta: DeltaGlider metadata missing on delta object")
	// ErrWrongReference: the reference found is not the one the delta was
	// made against (its SHA-256 differs from the delta's dg-ref-sha256).
	ErrWrongReference = errors.New("delta: reference does not match the one the delta was made against")
	// ErrExternalCompression: the delta was made by xdelta3 with external
	// (de)compression of its inputs and the original bytes cannot be
	// reproduced.
	ErrExternalCompression = errors.New("delta: delta uses xdelta3 external compression")
	// ErrUnknownCodec: the object names a delta codec this build lacks.
	ErrUnknownCodec = errors.New("delta: unknown delta codec")
	// ErrInvalidOption: an option value is out of range.
	ErrInvalidOption = errors.New("delta: invalid option")
	// ErrInvalidMetadata: user metadata uses a reserved (dg-) key or a
	// DeltaGlider metadata value cannot be parsed.
	ErrInvalidMetadata = errors.New("delta: invalid metadata")
)
