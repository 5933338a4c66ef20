// Command secondary measures secondary compression on the public corpus,
// DeltaGlider scheme (per series: version 0 stored whole, every later
// version stored as a delta against version 0), side by side in one run:
//
//   - ours6, ours9: vcdiff.Encode at the default level and level 9, no
//     secondary compression;
//   - ours6+lzma, ours6+djw: the level-6 patch recoded with vcdiff.Recode
//     (LZMA, DJW) at the default recode level; ours9+lzma9, ours9+djw9: the
//     level-9 patch recoded at recode level 9;
//   - xd3-9: `xdelta3 -e -9 -D` (stock default LZMA secondary; what the
//     Python DeltaGlider stores);
//   - zstd-19: `zstd -19 --single-thread --long=N --patch-from=v0` with
//     N covering source and target.
//
// Every recoded patch is decoded with vcdiff.Decode and compared with the
// target; -xdverify also decodes each with stock `xdelta3 -d`.
//
//	go run ./bench/secondary                      # every series
//	go run ./bench/secondary -series gomod-x-net,elf-esbuild -zstd-max-mb 100
//
// Output: one Markdown table row per series (stored bytes as % of the
// series' original bytes, and the ratios the targets of issue 7 use), plus
// per-pair progress on stderr.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

var columns = []string{"ours6", "ours6+lzma", "ours6+djw", "ours9", "ours9+lzma9", "ours9+djw9", "xd3-9", "zstd-19"}

func main() {
	home, _ := os.UserHomeDir()
	corpus := flag.String("corpus", filepath.Join(home, ".cache", "deltaglider-corpus"), "corpus directory (manifest.tsv inside)")
	seriesFlag := flag.String("series", "", "comma-separated series (default: all in the manifest)")
	zstdMax := flag.Int("zstd-max-mb", 1<<20, "skip zstd -19 on series larger than this many MB (it is slow)")
	xdVerify := flag.Bool("xdverify", false, "also decode every recoded patch with stock xdelta3 -d")
	flag.Parse()

	series, err := readManifest(*corpus)
	if err != nil {
		fatal(err)
	}
	var names []string
	if *seriesFlag != "" {
		names = strings.Split(*seriesFlag, ",")
	} else {
		for _, s := range series.order {
			names = append(names, s)
		}
	}
	tmp, err := os.MkdirTemp("", "secondary-bench")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)

	fmt.Printf("| series | original MB | %s | ours6+lzma / xd3-9 | best ours / zstd-19 |\n", strings.Join(columns, " | "))
	fmt.Printf("|---|---|%s---|---|\n", strings.Repeat("---|", len(columns)))
	grand := map[string]int64{}
	var grandOrig int64
	for _, name := range names {
		files := series.files[name]
		if len(files) < 2 {
			fmt.Fprintf(os.Stderr, "%s: fewer than 2 files, skipped\n", name)
			continue
		}
		src, err := os.ReadFile(files[0])
		if err != nil {
			fatal(err)
		}
		orig := int64(len(src))
		total := map[string]int64{}
		secs := map[string]time.Duration{}
		for _, c := range columns {
			total[c] = int64(len(src)) // version 0 stored whole
		}
		var seriesBytes int64
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil {
				fatal(err)
			}
			seriesBytes += st.Size()
		}
		doZstd := seriesBytes <= int64(*zstdMax)<<20
		for _, f := range files[1:] {
			tgt, err := os.ReadFile(f)
			if err != nil {
				fatal(err)
			}
			orig += int64(len(tgt))
			sizes, times, err := pair(src, tgt, files[0], f, tmp, doZstd, *xdVerify)
			if err != nil {
				fatal(fmt.Errorf("%s %s: %w", name, filepath.Base(f), err))
			}
			var line []string
			for _, c := range columns {
				if s, ok := sizes[c]; ok {
					total[c] += int64(s)
					secs[c] += times[c]
					line = append(line, fmt.Sprintf("%s %d (%.1fs)", c, s, times[c].Seconds()))
				} else {
					total[c] = -1 << 62
				}
			}
			fmt.Fprintf(os.Stderr, "%s %s (%d bytes): %s\n", name, filepath.Base(f), len(tgt), strings.Join(line, ", "))
		}
		grandOrig += orig
		row := fmt.Sprintf("| %s | %.1f |", name, float64(orig)/1e6)
		for _, c := range columns {
			if total[c] < 0 {
				row += " – |"
				grand[c] = -1 << 62
				continue
			}
			grand[c] += total[c]
			row += fmt.Sprintf(" %.2f %% |", 100*float64(total[c])/float64(orig))
		}
		row += fmt.Sprintf(" %.3f |", ratioDelta(total, orig, len(src), "ours6+lzma", "xd3-9"))
		best := min(total["ours9+lzma9"], total["ours9+djw9"], total["ours6+lzma"], total["ours6+djw"])
		if total["zstd-19"] > 0 {
			row += fmt.Sprintf(" %.3f |", float64(best)/float64(total["zstd-19"]))
		} else {
			row += " – |"
		}
		fmt.Println(row)
		var tl []string
		for _, c := range columns {
			if total[c] >= 0 {
				tl = append(tl, fmt.Sprintf("%s %.1fs", c, secs[c].Seconds()))
			}
		}
		fmt.Fprintf(os.Stderr, "%s encode seconds (wall): %s\n", name, strings.Join(tl, ", "))
	}
	row := fmt.Sprintf("| all | %.1f |", float64(grandOrig)/1e6)
	for _, c := range columns {
		if grand[c] < 0 {
			row += " – |"
		} else {
			row += fmt.Sprintf(" %.2f %% |", 100*float64(grand[c])/float64(grandOrig))
		}
	}
	fmt.Println(row + " | |")
}

// ratioDelta compares the delta bytes (without version 0) of two columns.
func ratioDelta(total map[string]int64, orig int64, v0 int, a, b string) float64 {
	da, db := total[a]-int64(v0), total[b]-int64(v0)
	if da < 0 || db <= 0 {
		return 0
	}
	return float64(da) / float64(db)
}

// pair measures one (source, target) pair with every tool.
func pair(src, tgt []byte, srcPath, tgtPath, tmp string, doZstd, xdVerify bool) (map[string]int, map[string]time.Duration, error) {
	sizes := map[string]int{}
	times := map[string]time.Duration{}
	for _, lvl := range []int{6, 9} {
		t0 := time.Now()
		p, err := vcdiff.Encode(nil, src, tgt, vcdiff.WithLevel(lvl))
		if err != nil {
			return nil, nil, err
		}
		base := fmt.Sprintf("ours%d", lvl)
		sizes[base], times[base] = len(p), time.Since(t0)
		// The LZMA columns recode a patch encoded for LZMA
		// (vcdiff.WithSecondaryHint), as the CLI and the store make it.
		t0 = time.Now()
		pl, err := vcdiff.Encode(nil, src, tgt, vcdiff.WithLevel(lvl), vcdiff.WithSecondaryHint(vcdiff.SecondaryLZMA))
		if err != nil {
			return nil, nil, err
		}
		lzmaEnc := time.Since(t0)
		recodes := map[string][]vcdiff.RecodeOption{
			base + "+lzma": {vcdiff.WithRecodeSecondary(vcdiff.SecondaryLZMA)},
			base + "+djw":  {vcdiff.WithRecodeSecondary(vcdiff.SecondaryDJW)},
		}
		if lvl == 9 {
			recodes = map[string][]vcdiff.RecodeOption{
				base + "+lzma9": {vcdiff.WithRecodeSecondary(vcdiff.SecondaryLZMA), vcdiff.WithRecodeLevel(9)},
				base + "+djw9":  {vcdiff.WithRecodeSecondary(vcdiff.SecondaryDJW), vcdiff.WithRecodeLevel(9)},
			}
		}
		for name, opts := range recodes {
			in, encTime := p, times[base]
			if strings.Contains(name, "lzma") {
				in, encTime = pl, lzmaEnc
			}
			t1 := time.Now()
			r, err := vcdiff.Recode(nil, in, opts...)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", name, err)
			}
			sizes[name], times[name] = len(r), encTime+time.Since(t1)
			got, err := vcdiff.Decode(nil, r, src)
			if err != nil || !bytes.Equal(got, tgt) {
				return nil, nil, fmt.Errorf("%s: recoded patch does not decode to the target (%v)", name, err)
			}
			if xdVerify {
				if err := xdelta3Check(r, srcPath, tgt, tmp); err != nil {
					return nil, nil, fmt.Errorf("%s: %w", name, err)
				}
			}
		}
	}
	out := filepath.Join(tmp, "xd3.vcdiff")
	t0 := time.Now()
	if err := run("xdelta3", "-e", "-9", "-D", "-f", "-s", srcPath, tgtPath, out); err != nil {
		return nil, nil, err
	}
	times["xd3-9"] = time.Since(t0)
	st, err := os.Stat(out)
	if err != nil {
		return nil, nil, err
	}
	sizes["xd3-9"] = int(st.Size())
	if doZstd {
		wlog := max(bits.Len(uint(max(len(src), len(tgt))))+1, 20)
		out := filepath.Join(tmp, "z.zst")
		t0 := time.Now()
		if err := run("zstd", "-q", "-f", "-19", "--single-thread", fmt.Sprintf("--long=%d", wlog),
			"--patch-from="+srcPath, tgtPath, "-o", out); err != nil {
			return nil, nil, err
		}
		times["zstd-19"] = time.Since(t0)
		st, err := os.Stat(out)
		if err != nil {
			return nil, nil, err
		}
		sizes["zstd-19"] = int(st.Size())
	}
	return sizes, times, nil
}

func xdelta3Check(patch []byte, srcPath string, want []byte, tmp string) error {
	pp := filepath.Join(tmp, "recoded.vcdiff")
	if err := os.WriteFile(pp, patch, 0o600); err != nil {
		return err
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command("xdelta3", "-d", "-D", "-c", "-s", srcPath, pp)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("xdelta3 -d: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if !bytes.Equal(out.Bytes(), want) {
		return errors.New("xdelta3 -d output differs from the target")
	}
	return nil
}

func run(name string, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %v: %s", name, args, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

type manifest struct {
	order []string
	files map[string][]string
}

// readManifest lists each series' files in version order.
func readManifest(dir string) (*manifest, error) {
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &manifest{files: map[string][]string{}}
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		cols := strings.Split(sc.Text(), "\t")
		if first || len(cols) < 3 {
			continue
		}
		if _, ok := m.files[cols[0]]; !ok {
			m.order = append(m.order, cols[0])
		}
		m.files[cols[0]] = append(m.files[cols[0]], filepath.Join(dir, cols[2]))
	}
	return m, sc.Err()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "secondary:", err)
	os.Exit(1)
}
