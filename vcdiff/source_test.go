package vcdiff

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestSourceShared: patches made against one prepared Source, by several
// encoders at once, are byte-identical to those the plain encoder makes
// at the source's level, for any hint and concurrency; a level other than
// the source's is refused.
func TestSourceShared(t *testing.T) {
	src, _ := testPair(700_000)
	targets := make([][]byte, 4)
	for i := range targets {
		_, targets[i] = testPair(700_000 + 10_000*i)
	}
	for _, level := range []int{1, DefaultLevel, BestLevel} {
		s, err := NewSource(bytes.NewReader(src), int64(len(src)), level)
		if err != nil {
			t.Fatal(err)
		}
		if s.Size() != int64(len(src)) || s.Level() != level || s.MemBytes() < int64(len(src)) {
			t.Fatalf("Source: size %d level %d mem %d", s.Size(), s.Level(), s.MemBytes())
		}
		var wg sync.WaitGroup
		errs := make([]error, len(targets)*2)
		for i, tgt := range targets {
			for k, hint := range []int{SecondaryNone, SecondaryLZMA} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					want, err := Encode(nil, src, tgt, WithLevel(level), WithSecondaryHint(hint), WithWindowSize(1<<18))
					if err != nil {
						errs[2*i+k] = err
						return
					}
					var buf bytes.Buffer
					e, err := NewEncoderSource(&buf, s, WithSecondaryHint(hint), WithWindowSize(1<<18), WithConcurrency(1+i%2))
					if err == nil {
						_, err = e.Write(tgt)
					}
					if err == nil {
						err = e.Close()
					}
					if err == nil && !bytes.Equal(buf.Bytes(), want) {
						err = fmt.Errorf("patch differs from Encode's (%d vs %d bytes)", buf.Len(), len(want))
					}
					if err == nil {
						var got []byte
						got, err = Decode(nil, buf.Bytes(), src)
						if err == nil && !bytes.Equal(got, tgt) {
							err = errors.New("patch does not decode to the target")
						}
					}
					errs[2*i+k] = err
				}()
			}
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("level %d, target %d, hint %d: %v", level, i/2, i%2, err)
			}
		}
	}
	s, err := NewSource(bytes.NewReader(src), int64(len(src)), 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewEncoderSource(&bytes.Buffer{}, s, WithLevel(4)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("level 4 on a level-3 source: %v, want ErrInvalidOption", err)
	}
	if _, err := NewEncoderSource(&bytes.Buffer{}, nil); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("nil source: %v, want ErrInvalidOption", err)
	}
	if _, err := NewSource(bytes.NewReader(src), int64(len(src))+1, 3); !errors.Is(err, ErrSourceTooShort) {
		t.Errorf("short source: %v, want ErrSourceTooShort", err)
	}
	if _, err := NewSource(bytes.NewReader(src), 10, 10); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("level 10: %v, want ErrInvalidOption", err)
	}
	// Reset takes the encoder back to a source of its own.
	e, err := NewEncoderSource(&bytes.Buffer{}, s)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	other := targets[1]
	if err := e.Reset(&buf, bytes.NewReader(other), int64(len(other))); err != nil {
		t.Fatal(err)
	}
	e.Write(targets[0])
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	want, _ := Encode(nil, other, targets[0], WithLevel(3))
	if !bytes.Equal(buf.Bytes(), want) {
		t.Error("after Reset to another source the patch differs from Encode's")
	}
	if got, err := Decode(nil, buf.Bytes(), other); err != nil || !bytes.Equal(got, targets[0]) {
		t.Errorf("after Reset: decode %v", err)
	}
}
