package fuzz

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/deltaglider-go/deltaglider/delta"
	"github.com/deltaglider-go/deltaglider/store"
)

// FuzzStoreRoundTrip puts two versions of a file into one deltaspace
// through the delta engine (codec and secondary chosen by the fuzzer, the
// file name making it an archive or an executable) and reads both back:
// every Put either stores something readable or fails cleanly, and every
// Get returns exactly what was put.
func FuzzStoreRoundTrip(f *testing.F) {
	base := bytes.Repeat([]byte("PK\x03\x04 release archive contents 0123456789 "), 200)
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), base...)
	f.Add(base, []byte("an edit"), uint(100), uint8(0))
	f.Add(elf, []byte("\x00\x01\x02\x03"), uint(4000), uint8(1))
	f.Add([]byte{}, []byte{}, uint(0), uint8(2))
	f.Add(base, base, uint(0), uint8(5))
	f.Fuzz(func(t *testing.T, v1, edit []byte, at uint, mode uint8) {
		if len(v1) > 1<<20 || len(edit) > 1<<16 {
			return
		}
		pos := 0
		if len(v1) > 0 {
			pos = int(at % uint(len(v1)+1))
		}
		v2 := append(append(append([]byte(nil), v1[:pos]...), edit...), v1[pos:]...)
		codecs := []string{delta.CodecAuto, delta.CodecVCDIFF, delta.CodecBSDIFF}
		secondaries := []string{"lzma", "djw", "none"}
		names := []string{"app.zip", "tool.exe", "libx.so.1", "dump.sql"}
		opts := []delta.Option{
			delta.WithoutCache(), delta.WithMinDeltaSize(0),
			delta.WithCodec(codecs[int(mode)%len(codecs)]),
			delta.WithSecondary(secondaries[int(mode/3)%len(secondaries)]),
		}
		name := names[int(mode/9)%len(names)]
		ctx := context.Background()
		s := store.NewMemory()
		if err := s.CreateBucket(ctx, "bkt"); err != nil {
			t.Fatal(err)
		}
		c, err := delta.New(s, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range [][]byte{v1, v2} {
			key := "p/" + string(rune('a'+i)) + "-" + name
			if _, err := c.Put(ctx, "bkt", key, bytes.NewReader(v), delta.PutOptions{Size: int64(len(v))}); err != nil {
				t.Fatalf("Put %s (%d bytes): %v", key, len(v), err)
			}
		}
		for i, v := range [][]byte{v1, v2} {
			key := "p/" + string(rune('a'+i)) + "-" + name
			rc, _, err := c.Get(ctx, "bkt", key, delta.GetOptions{Length: -1})
			if err != nil {
				t.Fatalf("Get %s: %v", key, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, v) {
				t.Fatalf("Get %s: %d bytes, want %d, err %v", key, len(got), len(v), err)
			}
		}
	})
}
