package delta

import (
	"fmt"
	"os"
	"strconv"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

// Defaults.
const (
	// DefaultMaxRatio: a delta larger than this fraction of the original is
	// discarded and the original stored directly (DG_MAX_RATIO overrides).
	DefaultMaxRatio = 0.5
	// DefaultMinDeltaSize: smaller objects are stored directly; a delta
	// would save next to nothing, and a tiny first object would make a poor
	// reference for its deltaspace.
	DefaultMinDeltaSize = 4096
	// DefaultLevel is the encoder's compression level (xdelta3's -9).
	DefaultLevel = 9
)

// Option configures a Client.
type Option func(*options) error

type options struct {
	maxRatio     float64
	minDeltaSize int64
	level        int
	codec        string
	cache        *Cache
	noCache      bool
	tempDir      string
	tool         string
	concurrency  int
	secondary    int
	sourceMemory int64
}

func defaultOptions() (options, error) {
	o := options{maxRatio: DefaultMaxRatio, minDeltaSize: DefaultMinDeltaSize, level: DefaultLevel,
		codec: CodecAuto, tool: "deltaglider-go/" + Version, concurrency: 4, secondary: vcdiff.SecondaryLZMA,
		sourceMemory: DefaultSourceMemory}
	if v := os.Getenv("DG_MAX_RATIO"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r > 0 && r <= 1) {
			return o, fmt.Errorf("%w: DG_MAX_RATIO=%q (want a number in (0, 1])", ErrInvalidOption, v)
		}
		o.maxRatio = r
	}
	if v := os.Getenv("DG_SOURCE_MEMORY_MB"); v != "" {
		mb, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mb < 0 || mb > 1<<30 {
			return o, fmt.Errorf("%w: DG_SOURCE_MEMORY_MB=%q (want a whole number of MiB, 0 to keep no references in memory)", ErrInvalidOption, v)
		}
		o.sourceMemory = mb << 20
	}
	return o, nil
}

// Version is written in dg-tool as "deltaglider-go/<Version>".
const Version = "0.1.0"

// WithMaxRatio sets the ratio guard: when delta size / original size
// exceeds r, the original is stored directly. r must be in (0, 1].
func WithMaxRatio(r float64) Option {
	return func(o *options) error {
		if !(r > 0 && r <= 1) {
			return fmt.Errorf("%w: max ratio %v (want (0, 1])", ErrInvalidOption, r)
		}
		o.maxRatio = r
		return nil
	}
}

// WithMinDeltaSize stores objects smaller than n bytes directly.
func WithMinDeltaSize(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("%w: min delta size %d", ErrInvalidOption, n)
		}
		o.minDeltaSize = n
		return nil
	}
}

// WithLevel sets the delta encoder's level, 1 (fastest) to 9 (smallest).
func WithLevel(level int) Option {
	return func(o *options) error {
		if level < 1 || level > 9 {
			return fmt.Errorf("%w: level %d (want 1..9)", ErrInvalidOption, level)
		}
		o.level = level
		return nil
	}
}

// WithCodec selects the codec for new deltas: CodecAuto (the default:
// bsdiff for executables, VCDIFF for the rest), CodecVCDIFF (every delta
// readable by the Python DeltaGlider and the proxy, which know no other
// codec) or CodecBSDIFF (bsdiff for every object up to 256 MiB). Reading
// always follows each object's dg-codec.
func WithCodec(name string) Option {
	return func(o *options) error {
		if _, ok := codecs[name]; !ok && name != CodecAuto {
			return fmt.Errorf("%w: %q", ErrUnknownCodec, name)
		}
		o.codec = name
		return nil
	}
}

// WithSecondary selects the secondary compression of VCDIFF deltas:
// "lzma" (the default, as stock xdelta3 -9 writes and every DeltaGlider
// reads), "djw", or "none". Without secondary compression a range read
// decodes only the windows it needs; with it, LZMA's stream runs across
// windows, so a range read decodes from the start.
func WithSecondary(name string) Option {
	return func(o *options) error {
		switch name {
		case "lzma":
			o.secondary = vcdiff.SecondaryLZMA
		case "djw":
			o.secondary = vcdiff.SecondaryDJW
		case "none":
			o.secondary = vcdiff.SecondaryNone
		default:
			return fmt.Errorf("%w: secondary compressor %q (want lzma, djw or none)", ErrInvalidOption, name)
		}
		return nil
	}
}

func secondaryName(id int) string {
	switch id {
	case vcdiff.SecondaryLZMA:
		return "lzma"
	case vcdiff.SecondaryDJW:
		return "djw"
	}
	return "none"
}

// WithCache uses c for references. Without this option the client opens
// DefaultCacheDir() capped at DefaultCacheMaxBytes().
func WithCache(c *Cache) Option {
	return func(o *options) error {
		o.cache = c
		o.noCache = c == nil
		return nil
	}
}

// WithoutCache keeps no references between operations: each is downloaded
// to a temporary file that is removed after use.
func WithoutCache() Option {
	return func(o *options) error {
		o.cache, o.noCache = nil, true
		return nil
	}
}

// WithTempDir sets where targets and deltas are spooled (default
// os.TempDir()).
func WithTempDir(dir string) Option {
	return func(o *options) error {
		o.tempDir = dir
		return nil
	}
}

// WithSourceMemory sets how much memory the client may keep in references
// read and indexed for the VCDIFF encoder between puts (default
// DefaultSourceMemory, or DG_SOURCE_MEMORY_MB MiB; 0 keeps none). The encoder holds the whole
// reference in memory plus its index (2 x the reference at level 9, the
// default), and building that index is about a third of a put; kept, a
// run of puts into one deltaspace builds it once, and concurrent puts
// share it. A reference is kept for 30 s after its last use; one larger
// than n is never kept.
func WithSourceMemory(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("%w: source memory %d", ErrInvalidOption, n)
		}
		o.sourceMemory = n
		return nil
	}
}

// WithConcurrency bounds parallel store requests in List, Stats and the
// recursive operations (default 4).
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("%w: concurrency %d", ErrInvalidOption, n)
		}
		o.concurrency = n
		return nil
	}
}
