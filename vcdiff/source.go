package vcdiff

import (
	"fmt"
	"io"
)

// A Source is an encoder source read into memory and indexed once, for
// encoding any number of targets against it (NewEncoderSource), from any
// number of goroutines at once: once built it is only read. Building the
// index is a large part of encoding a target that resembles its source
// (about a third at level 9), so a caller that encodes many versions
// against one reference saves that each time.
//
// A Source holds Size() bytes of source plus its index (see WithLevel for
// the index size: 0.5 x the source at the default level, 2 x at level 9);
// MemBytes reports the total.
type Source struct {
	level int
	src   []byte
	idx   sourceIndex
}

// NewSource reads size bytes of r from offset 0 and indexes them for
// encoders at the given level (MinLevel..BestLevel).
func NewSource(r io.ReaderAt, size int64, level int) (*Source, error) {
	if level < MinLevel || level > BestLevel {
		return nil, fmt.Errorf("%w: level %d (want %d..%d)", ErrInvalidOption, level, MinLevel, BestLevel)
	}
	size, err := checkSourceSize(r, size)
	if err != nil {
		return nil, err
	}
	s := &Source{level: level}
	if s.src, err = readSource(nil, r, size); err != nil {
		return nil, err
	}
	p := &levelTable[level]
	if err := s.idx.build(s.src, p.srcStep, p.srcWays, p.srcLen); err != nil {
		return nil, err
	}
	return s, nil
}

// Size is the source's size in bytes.
func (s *Source) Size() int64 { return int64(len(s.src)) }

// Level is the level the source was indexed for.
func (s *Source) Level() int { return s.level }

// MemBytes is the memory the source and its index hold.
func (s *Source) MemBytes() int64 { return int64(cap(s.src)) + int64(s.idx.memBytes()) }

// NewEncoderSource returns an Encoder writing to dst a patch against the
// prepared source s, as NewEncoder does against a source it reads itself.
// The encoder's level is the source's: a WithLevel option giving another
// one is an error. Reset turns the encoder back to a source of its own.
func NewEncoderSource(dst io.Writer, s *Source, opts ...EncoderOption) (*Encoder, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil Source", ErrInvalidOption)
	}
	opts = append([]EncoderOption{WithLevel(s.level)}, opts...)
	e, err := newEncoder(opts)
	if err != nil {
		return nil, err
	}
	if e.opts.level != s.level {
		return nil, fmt.Errorf("%w: level %d for a source indexed at level %d", ErrInvalidOption, e.opts.level, s.level)
	}
	e.dst = dst
	e.src, e.idx = s.src, &s.idx
	return e, nil
}
