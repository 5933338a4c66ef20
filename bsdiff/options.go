package bsdiff

import "fmt"

const (
	// DefaultMaxInputSize caps each encoder input (old and new) unless
	// WithMaxInputSize says otherwise: 512 MiB, for which the encoder needs
	// about 5 GiB (see the package documentation).
	DefaultMaxInputSize = 512 << 20
	// MaxInputSize is the largest input the encoder can handle at all: its
	// suffix array uses 32-bit positions.
	MaxInputSize = 1<<31 - 2
	// DefaultMaxNewSize caps the output size a patch may declare unless
	// WithMaxNewSize says otherwise: 2 GiB.
	DefaultMaxNewSize = 2 << 30
)

// Option configures Diff, Patch and Apply. Options are validated when
// applied; an invalid one makes the call fail with ErrInvalidOption.
type Option func(*options) error

type options struct {
	format       Format
	maxInputSize int64
	maxNewSize   int64
	bzip2Level   int
}

func buildOptions(opts []Option) (options, error) {
	o := options{
		format:       FormatBSDIFF40,
		maxInputSize: DefaultMaxInputSize,
		maxNewSize:   DefaultMaxNewSize,
		bzip2Level:   9,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithFormat selects the patch format Diff writes. The default is
// FormatBSDIFF40, the classic format that the widely installed bspatch
// applies. The decoder ignores this option: it detects the format from the
// patch magic.
func WithFormat(f Format) Option {
	return func(o *options) error {
		switch f {
		case FormatBSDIFF40, FormatBSDIFF43:
			o.format = f
			return nil
		}
		return fmt.Errorf("%w: unknown format %d", ErrInvalidOption, int(f))
	}
}

// WithMaxInputSize caps the size of each encoder input; Diff fails with
// ErrTooLarge above it. n must be in [1, MaxInputSize].
func WithMaxInputSize(n int64) Option {
	return func(o *options) error {
		if n < 1 || n > MaxInputSize {
			return fmt.Errorf("%w: max input size %d not in [1, %d]", ErrInvalidOption, n, int64(MaxInputSize))
		}
		o.maxInputSize = n
		return nil
	}
}

// WithMaxNewSize caps the new-file size a patch may declare; the decoder
// fails with ErrLimit, before allocating anything, above it.
func WithMaxNewSize(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("%w: max new size %d is negative", ErrInvalidOption, n)
		}
		o.maxNewSize = n
		return nil
	}
}

// WithBzip2Level sets the bzip2 block size level (1..9, default 9, as in
// bsdiff) used for the bzip2-based formats.
func WithBzip2Level(level int) Option {
	return func(o *options) error {
		if level < 1 || level > 9 {
			return fmt.Errorf("%w: bzip2 level %d not in [1, 9]", ErrInvalidOption, level)
		}
		o.bzip2Level = level
		return nil
	}
}
