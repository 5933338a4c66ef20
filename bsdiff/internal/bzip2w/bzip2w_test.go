package bzip2w

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/dsnet/compress/bzip2"
	"pgregory.net/rapid"
)

// tb is what the helpers need from *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func compress(t tb, data []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	// Uneven writes.
	for i := 0; i < len(data); {
		n := min(len(data)-i, 1+i%7919)
		if _, err := w.Write(data[i : i+n]); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func dsnetDecode(t tb, z []byte) []byte {
	t.Helper()
	r, err := bzip2.NewReader(bytes.NewReader(z), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("dsnet bzip2 reader: %v", err)
	}
	return out
}

func testInputs() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 1))
	rnd := make([]byte, 300_000)
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	sparse := make([]byte, 1_200_000) // like a bsdiff diff stream
	for i := 0; i < len(sparse); i += 1 + r.IntN(200) {
		sparse[i] = byte(r.IntN(9) - 4)
	}
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog "), 5000)
	runs := bytes.Repeat(append(bytes.Repeat([]byte{'a'}, 300), 'b', 'b', 'b', 'b', 'c'), 3000)
	return map[string][]byte{
		"empty": nil, "one": {42}, "random": rnd, "sparse": sparse,
		"text": text, "runs": runs, "zeros": make([]byte, 2_000_000),
		"255run": bytes.Repeat([]byte{7}, 255), "256run": bytes.Repeat([]byte{7}, 256),
	}
}

func TestRoundTripDsnet(t *testing.T) {
	for name, data := range testInputs() {
		for _, level := range []int{1, 9} {
			z := compress(t, data, level)
			if got := dsnetDecode(t, z); !bytes.Equal(got, data) {
				t.Fatalf("%s level %d: round trip mismatch", name, level)
			}
		}
	}
}

// TestLibbzip2Reads checks the streams with the reference decoder.
func TestLibbzip2Reads(t *testing.T) {
	bz := testtool.Tool(t, "bzip2")
	for name, data := range testInputs() {
		z := compress(t, data, 9)
		cmd := exec.Command(bz, "-d", "-c")
		cmd.Stdin = bytes.NewReader(z)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: bzip2 -d: %v", name, err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("%s: bzip2 -d output differs", name)
		}
	}
}

func TestRoundTripRapid(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		data := rapid.SliceOfN(rapid.ByteRange(0, 3), 0, 5000).Draw(rt, "data")
		level := rapid.IntRange(1, 9).Draw(rt, "level")
		if got := dsnetDecode(rt, compress(rt, data, level)); !bytes.Equal(got, data) {
			rt.Fatal("mismatch")
		}
	})
}
