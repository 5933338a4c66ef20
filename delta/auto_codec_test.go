package delta

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/store"
)

// The default codec sends real ELF binaries (the esbuild series) to bsdiff,
// records it in dg-codec, and stores much less than VCDIFF would; a
// WithCodec(CodecVCDIFF) client, for buckets the Python DeltaGlider must
// read, never writes bsdiff.
func TestAutoCodecExecutables(t *testing.T) {
	files := testtool.Series(t, "elf-esbuild")
	if len(files) < 2 {
		t.Fatalf("elf-esbuild: %d files", len(files))
	}
	files = files[:2] // what scripts/fetch-test-corpus.sh fetches: 0.27.0, 0.27.4
	ctx := context.Background()
	auto := newBucket(t, "memory", store.NewMemory())
	plain := newBucket(t, "memory", store.NewMemory())
	ca := newClient(t, auto.s) // default: CodecAuto
	cv := newClient(t, plain.s, WithCodec(CodecVCDIFF))
	rv := newClient(t, auto.s, WithCodec(CodecVCDIFF)) // reads the auto bucket
	var autoBytes, vcdiffBytes int64
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		key := "esbuild/" + filepath.Base(f)
		ia := put(t, ca, auto.bucket, key, data)
		iv := put(t, cv, plain.bucket, key, data)
		if ia.StoredAs != Delta || iv.StoredAs != Delta {
			t.Fatalf("%s: stored as %v / %v", key, ia.StoredAs, iv.StoredAs)
		}
		wantCodec := CodecBSDIFF
		if i == 0 {
			wantCodec = CodecVCDIFF // zero-diff against the reference it seeded
		}
		if ia.Codec != wantCodec || iv.Codec != CodecVCDIFF {
			t.Fatalf("%s: codecs %q (auto), %q (vcdiff client); want %q, vcdiff", key, ia.Codec, iv.Codec, wantCodec)
		}
		oi, err := auto.s.Stat(ctx, auto.bucket, key+DeltaSuffix)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && oi.Metadata["dg-codec"] != CodecBSDIFF {
			t.Fatalf("%s: dg-codec %q", key, oi.Metadata["dg-codec"])
		}
		if i > 0 {
			autoBytes += ia.StoredSize
			vcdiffBytes += iv.StoredSize
		}
		mustGet(t, ca, auto.bucket, key, data)
		// Any client reads by dg-codec, whatever its own setting.
		mustGet(t, rv, auto.bucket, key, data)
		mustGet(t, cv, plain.bucket, key, data)
	}
	t.Logf("esbuild delta of %s: bsdiff (auto) %d bytes, vcdiff+lzma %d bytes (%.2f)", filepath.Base(files[1]), autoBytes, vcdiffBytes,
		float64(autoBytes)/float64(vcdiffBytes))
	if float64(autoBytes) > 0.6*float64(vcdiffBytes) {
		t.Errorf("auto (bsdiff) deltas %d bytes, more than 0.6 x VCDIFF's %d", autoBytes, vcdiffBytes)
	}

	// Non-executables keep VCDIFF under CodecAuto, even named like one's
	// neighbours.
	vs := versions(80, 2, 200<<10)
	put(t, ca, auto.bucket, "zips/a.zip", vs[0])
	if info := put(t, ca, auto.bucket, "zips/b.zip", vs[1]); info.Codec != CodecVCDIFF {
		t.Errorf("zip under auto: codec %q", info.Codec)
	}
	// The ratio guard still applies to bsdiff: an unrelated new binary
	// is stored whole.
	rnd := versions(81, 1, 300<<10)[0]
	copy(rnd, "\x7fELF")
	elf0 := append([]byte("\x7fELF\x02\x01\x01\x00"), vs[0]...)
	put(t, ca, auto.bucket, "bins/tool-1", elf0)
	if info := put(t, ca, auto.bucket, "bins/tool-2", rnd); info.StoredAs != Direct || info.Reason != "ratio" {
		t.Errorf("unrelated binary under auto: stored %v (%s), want direct (ratio)", info.StoredAs, info.Reason)
	}
	mustGet(t, ca, auto.bucket, "bins/tool-2", rnd)

	// An executable by name only (no magic) goes to bsdiff as well.
	put(t, ca, auto.bucket, "libs/libx.so.1", vs[0])
	if info := put(t, ca, auto.bucket, "libs/libx.so.2", bytes.Clone(vs[1])); info.StoredAs == Delta && info.Codec != CodecBSDIFF {
		t.Errorf("libx.so.2 under auto: codec %q", info.Codec)
	}
}

// TestAutoCodecSizeFallback: above the auto codec's bsdiff size limit an
// executable is stored as a VCDIFF delta (bsdiff works in memory), and the
// codec recorded in its metadata says so; below it, bsdiff.
func TestAutoCodecSizeFallback(t *testing.T) {
	files := testtool.Series(t, "elf-esbuild")
	if len(files) < 2 {
		t.Fatalf("elf-esbuild: %d files", len(files))
	}
	v0, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	// Keep the test fast: 2 MiB prefixes of two releases (ELF headers
	// intact) and a limit just below their size.
	v0, v1 = v0[:2<<20], v1[:2<<20]
	defer func(old int64) { autoBsdiffMax = old }(autoBsdiffMax)
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s)
	put(t, c, ts.bucket, "bin/esbuild-0", v0)
	for _, tc := range []struct {
		limit int64
		codec string
	}{{4 << 20, CodecBSDIFF}, {2<<20 - 1, CodecVCDIFF}} {
		autoBsdiffMax = tc.limit
		i := put(t, c, ts.bucket, "bin/esbuild-1", v1)
		if i.StoredAs != Delta || i.Codec != tc.codec {
			t.Errorf("limit %d: stored as %v with codec %q, want a %s delta", tc.limit, i.StoredAs, i.Codec, tc.codec)
		}
		oi, err := ts.s.Stat(context.Background(), ts.bucket, "bin/esbuild-1"+DeltaSuffix)
		if err != nil {
			t.Fatal(err)
		}
		if got := oi.Metadata["dg-codec"]; (tc.codec == CodecBSDIFF) != (got == CodecBSDIFF) {
			t.Errorf("limit %d: dg-codec metadata %q", tc.limit, got)
		}
		mustGet(t, newClient(t, ts.s), ts.bucket, "bin/esbuild-1", v1)
	}
}
