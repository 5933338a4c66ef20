package delta

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/deltaglider-go/deltaglider/internal/testtool"
	"github.com/deltaglider-go/deltaglider/store"
)

type tarMember struct {
	name string
	body []byte
}

func makeTar(t *testing.T, members ...tarMember) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "package/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Size: int64(len(m.body)), Mode: 0o755, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMostlyExecutables(t *testing.T) {
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0x90}, 20000)...)
	text := bytes.Repeat([]byte("export function f() { return 1; }\n"), 600)
	for _, tc := range []struct {
		name string
		tar  []byte
		want bool
	}{
		{"binary release", makeTar(t, tarMember{"package/README.md", text[:3000]}, tarMember{"package/bin/tool", elf}), true},
		{"sources", makeTar(t, tarMember{"package/lib.js", text}, tarMember{"package/bin/tiny", elf[:2000]}), false},
		{"empty", makeTar(t), false},
		{"not a tar", text, false},
	} {
		if got := mostlyExecutables(bytes.NewReader(tc.tar), int64(len(tc.tar))); got != tc.want {
			t.Errorf("%s: mostlyExecutables = %v", tc.name, got)
		}
	}
	// Damaged archives: every prefix and a flipped header byte neither
	// panic nor count what could not be read.
	good := makeTar(t, tarMember{"package/bin/tool", elf}, tarMember{"package/lib.js", text})
	for n := 0; n < len(good); n += 97 {
		mostlyExecutables(bytes.NewReader(good[:n]), int64(n))
	}
	bad := bytes.Clone(good)
	bad[512+124] = 'x' // size field of the first file
	mostlyExecutables(bytes.NewReader(bad), int64(len(bad)))
}

// Under the auto codec a tar holding a real ELF binary (the esbuild
// releases, packed as npm packs them) is stored with bsdiff; a tar of text
// keeps VCDIFF.
func TestAutoCodecTarOfExecutables(t *testing.T) {
	files := testtool.Series(t, "elf-esbuild")
	if len(files) < 2 {
		t.Fatalf("elf-esbuild: %d files", len(files))
	}
	ts := newBucket(t, "memory", store.NewMemory())
	c := newClient(t, ts.s)
	readme := bytes.Repeat([]byte("esbuild binary for linux-x64\n"), 50)
	for i, f := range files[:2] {
		bin, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tr := makeTar(t, tarMember{"package/README.md", readme}, tarMember{"package/bin/esbuild", bin})
		key := "npm/" + filepath.Base(f) + ".tar"
		info := put(t, c, ts.bucket, key, tr)
		if i == 1 && (info.StoredAs != Delta || info.Codec != CodecBSDIFF) {
			t.Fatalf("%s: stored %v with codec %q, want a bsdiff delta", key, info.StoredAs, info.Codec)
		}
		mustGet(t, c, ts.bucket, key, tr)
	}
	vs := versions(82, 2, 200<<10)
	for i, v := range vs {
		tr := makeTar(t, tarMember{"package/data.bin", v})
		if info := put(t, c, ts.bucket, "src/v"+string(rune('0'+i))+".tar", tr); i == 1 && info.Codec != CodecVCDIFF {
			t.Errorf("tar of non-executables: codec %q", info.Codec)
		}
	}
}
