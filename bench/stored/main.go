// Command stored encodes corpus series with the vcdiff package in the
// DeltaGlider scheme (version 0 stored whole, every later version a delta
// against version 0) and prints, per series, the total stored bytes, the
// encode CPU/wall time and, with -check, verifies each patch with stock
// xdelta3 -d and with vcdiff.Decode.
//
//	go run ./bench/stored [-level 6] [-check] [-corpus DIR] [-out DIR] series...
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/deltaglider-go/deltaglider/vcdiff"
)

func main() {
	level := flag.Int("level", vcdiff.DefaultLevel, "encoder level")
	conc := flag.Int("j", 0, "concurrency (0 = GOMAXPROCS)")
	check := flag.Bool("check", false, "decode every patch with xdelta3 -d and vcdiff.Decode")
	corpus := flag.String("corpus", filepath.Join(os.Getenv("HOME"), ".cache", "deltaglider-corpus"), "corpus directory")
	outDir := flag.String("out", "", "keep patches in this directory")
	flag.Parse()
	series := flag.Args()
	files, err := manifest(*corpus)
	if err != nil {
		fatal(err)
	}
	if len(series) == 0 {
		for _, s := range files.order {
			series = append(series, s)
		}
	}
	fmt.Printf("series\tfiles\toriginal\tstored\tpct\tencode_s\n")
	for _, s := range series {
		fs := files.bySeries[s]
		if len(fs) == 0 {
			fatal(fmt.Errorf("series %s not in corpus", s))
		}
		ref, err := os.ReadFile(fs[0])
		if err != nil {
			fatal(err)
		}
		orig, stored := int64(len(ref)), int64(len(ref))
		var dur time.Duration
		for _, f := range fs[1:] {
			tgt, err := os.ReadFile(f)
			if err != nil {
				fatal(err)
			}
			t0 := time.Now()
			p, err := vcdiff.Encode(nil, ref, tgt, vcdiff.WithLevel(*level), vcdiff.WithConcurrency(*conc))
			dur += time.Since(t0)
			if err != nil {
				fatal(err)
			}
			orig += int64(len(tgt))
			stored += int64(len(p))
			if *outDir != "" {
				if err := os.WriteFile(filepath.Join(*outDir, filepath.Base(f)+".vcdiff"), p, 0o644); err != nil {
					fatal(err)
				}
			}
			if *check {
				if err := verify(p, fs[0], ref, tgt); err != nil {
					fatal(fmt.Errorf("%s: %w", f, err))
				}
			}
		}
		fmt.Printf("%s\t%d\t%d\t%d\t%.3f\t%.2f\n", s, len(fs), orig, stored, 100*float64(stored)/float64(orig), dur.Seconds())
	}
}

func verify(p []byte, refPath string, ref, tgt []byte) error {
	got, err := vcdiff.Decode(nil, p, ref)
	if err != nil {
		return fmt.Errorf("vcdiff.Decode: %w", err)
	}
	if !bytes.Equal(got, tgt) {
		return fmt.Errorf("vcdiff.Decode: output differs")
	}
	tmp, err := os.CreateTemp("", "stored-*.vcdiff")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(p); err != nil {
		return err
	}
	tmp.Close()
	var out, stderr bytes.Buffer
	cmd := exec.Command("xdelta3", "-d", "-c", "-s", refPath, tmp.Name())
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("xdelta3 -d: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if !bytes.Equal(out.Bytes(), tgt) {
		return fmt.Errorf("xdelta3 -d: output differs")
	}
	return nil
}

type corpusFiles struct {
	order    []string
	bySeries map[string][]string
}

func manifest(dir string) (*corpusFiles, error) {
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &corpusFiles{bySeries: map[string][]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 || cols[0] == "series" {
			continue
		}
		if _, ok := c.bySeries[cols[0]]; !ok {
			c.order = append(c.order, cols[0])
		}
		c.bySeries[cols[0]] = append(c.bySeries[cols[0]], filepath.Join(dir, cols[2]))
	}
	return c, sc.Err()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "stored:", err)
	os.Exit(1)
}
