package delta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/deltaglider-go/deltaglider/store"
)

// FuzzGetDelta stores arbitrary bytes as a .delta with valid-looking
// metadata (and arbitrary metadata values) and reads it back: Get must
// never panic, and must either fail or return exactly the bytes whose
// SHA-256 the metadata records.
func FuzzGetDelta(f *testing.F) {
	ref := versions(90, 2, 4096)
	s := store.NewMemory()
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	c, err := New(s, WithoutCache(), WithMinDeltaSize(0))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := c.Put(ctx, "bkt", "p/a.zip", bytes.NewReader(ref[0]), PutOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := c.Put(ctx, "bkt", "p/b.zip", bytes.NewReader(ref[1]), PutOptions{}); err != nil {
		f.Fatal(err)
	}
	rc, _, _ := s.Get(ctx, "bkt", "p/b.zip.delta", 0, -1)
	good, _ := io.ReadAll(rc)
	rc.Close()
	f.Add(good, sha(ref[1]), "4096", "", "")
	f.Add(good[:len(good)/2], sha(ref[1]), "4096", "", "")
	f.Add([]byte("\xd6\xc3\xc4\x00\x04\x05a/G/b/G"), sha(nil), "0", "", "")
	f.Fuzz(func(t *testing.T, patch []byte, fileSHA, fileSize, codec, refPath string) {
		md := map[string]string{"dg-file-sha256": fileSHA, "dg-file-size": fileSize, "dg-ref-sha256": sha(ref[0]),
			"dg-codec": codec, "dg-ref-path": refPath}
		if _, err := s.Put(ctx, "bkt", "p/f.zip.delta", bytes.NewReader(patch), store.PutOptions{Size: int64(len(patch)), Metadata: md}); err != nil {
			return // metadata the store refuses
		}
		rc, info, err := c.Get(ctx, "bkt", "p/f.zip", GetOptions{Length: -1})
		if err != nil {
			return
		}
		out, err := io.ReadAll(io.LimitReader(rc, 1<<24))
		rc.Close()
		if err == nil && sha(out) != info.SHA256 {
			t.Fatalf("returned %d bytes whose SHA-256 is not the recorded one", len(out))
		}
		if err != nil && !errors.Is(err, ErrIntegrity) && errors.Is(err, io.EOF) {
			t.Fatalf("odd error %v", err)
		}
	})
}

func TestCacheSharedByInstances(t *testing.T) {
	dir := t.TempDir()
	data := func(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 3000) }
	done := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() {
			c, err := NewCache(dir, 30000) // room for 5 of 20 entries: constant eviction
			if err != nil {
				done <- err
				return
			}
			for round := 0; round < 50; round++ {
				i := (round*7 + w) % 20
				id := cacheID("b", string(rune('a'+i)), "e", 6000)
				rf, ok := c.open(id, 6000)
				if !ok {
					rf, err = c.fill(id, 6000, func(wr io.Writer) error { _, err := wr.Write(data(i)); return err })
					if err != nil {
						done <- err
						return
					}
				}
				got := make([]byte, 6000)
				if _, err := rf.ReadAt(got, 0); err != nil || !bytes.Equal(got, data(i)) {
					rf.Close()
					done <- errors.New("cache returned wrong content")
					return
				}
				rf.Close()
			}
			done <- nil
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
