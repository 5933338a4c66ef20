package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/bsdiff"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

func encodeCommand(e *env) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "source `FILE` to encode against (omit for plain compression of TARGET)"},
		&cli.IntFlag{Name: "level", Value: vcdiff.DefaultLevel, Usage: "compression `LEVEL` 0 (fastest) .. 9 (smallest); also -0 .. -9"},
		&cli.IntFlag{Name: "window", Aliases: []string{"W"}, Value: vcdiff.DefaultWindowSize, Usage: "target window size in `BYTES` (max 16 MiB, the largest xdelta3 3.0 decodes)"},
		&cli.BoolFlag{Name: "no-checksum", Aliases: []string{"n"}, Usage: "omit the per-window Adler-32 checksums"},
		&cli.IntFlag{Name: "concurrency", Usage: "windows encoded in parallel (default: number of CPUs); the patch is the same for any value"},
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "overwrite PATCH if it exists"},
		&cli.StringFlag{Name: "secondary", Aliases: []string{"S"}, Value: "none", Usage: "secondary compression of the VCDIFF sections: `none`, lzma (as xdelta3's default) or djw"},
		&cli.StringFlag{Name: "codec", Value: codecVCDIFF, Usage: "patch format: `vcdiff` (xdelta3), bsdiff (BSDIFF40, Debian bspatch) or bsdiff43 (ENDSLEY/BSDIFF43); bsdiff suits executables"},
	}
	for l := vcdiff.MinLevel; l <= vcdiff.BestLevel; l++ {
		flags = append(flags, &cli.BoolFlag{Name: strconv.Itoa(l), Usage: "same as --level " + strconv.Itoa(l), Hidden: l != 0 && l != 9})
	}
	return &cli.Command{
		Name:      "encode",
		Usage:     "make a VCDIFF patch (decodable by xdelta3 -d) or a bsdiff patch from a source to a target file",
		ArgsUsage: "[TARGET [PATCH]]",
		Description: "Writes a patch that turns SOURCE into TARGET, like `xdelta3 -e -S none -s SOURCE\n" +
			"TARGET PATCH`; stock `xdelta3 -d -s SOURCE PATCH OUT` and `deltaglider decode` apply it.\n" +
			"Matches are found anywhere in SOURCE (it is read into memory once), not only within\n" +
			"a window of it. TARGET and PATCH may be '-' or omitted for stdin/stdout. PATCH is\n" +
			"written to a temporary file in its directory and renamed into place only when\n" +
			"complete, so a failed encode leaves nothing behind. Without -s the target is\n" +
			"compressed on its own. --secondary lzma gives what `xdelta3 -e` writes by default\n" +
			"(smaller, slower). --codec bsdiff writes a BSDIFF40 patch (Debian's bspatch applies\n" +
			"it; both files are held in memory, at most 512 MiB each): much smaller than VCDIFF\n" +
			"on executables, whose new versions shift addresses everywhere.\n\n" +
			"Examples:\n" +
			"  deltaglider encode -s app-1.1.0.zip app-1.2.0.zip app-1.2.0.vcdiff\n" +
			"  deltaglider encode --codec bsdiff -s app-1.1 app-1.2 app-1.2.bsdiff",
		Flags:  flags,
		Action: func(c *cli.Context) error { return runEncode(c.Context, e, c) },
	}
}

func runEncode(ctx context.Context, e *env, c *cli.Context) error {
	if c.NArg() > 2 {
		return usageErrorf("encode: too many arguments (want [TARGET [PATCH]])")
	}
	tgtArg, outArg := c.Args().Get(0), c.Args().Get(1)
	level := c.Int("level")
	n := 0
	for l := vcdiff.MinLevel; l <= vcdiff.BestLevel; l++ {
		if c.Bool(strconv.Itoa(l)) {
			level = l
			n++
		}
	}
	if n > 1 || (n == 1 && c.IsSet("level")) {
		return usageErrorf("encode: give one level")
	}
	opts := []vcdiff.EncoderOption{
		vcdiff.WithLevel(level),
		vcdiff.WithWindowSize(c.Int("window")),
		vcdiff.WithChecksum(!c.Bool("no-checksum")),
	}
	if c.IsSet("concurrency") {
		opts = append(opts, vcdiff.WithConcurrency(c.Int("concurrency")))
	}
	secondary, err := parseSecondary(c.String("secondary"))
	if err != nil {
		return err
	}
	codec := c.String("codec")
	switch codec {
	case codecVCDIFF, codecBSDIFF, codecBSDIFF43:
	default:
		return usageErrorf("encode: unknown codec %q (want vcdiff, bsdiff or bsdiff43)", codec)
	}
	if codec != codecVCDIFF && c.IsSet("secondary") {
		return usageErrorf("encode: --secondary applies to --codec vcdiff only")
	}

	var tgt io.Reader = e.stdin
	tgtSize := int64(-1)
	if tgtArg != "" && tgtArg != "-" {
		f, err := os.Open(tgtArg)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		defer f.Close()
		tgt = f
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			opts = append(opts, vcdiff.WithTargetSize(st.Size()))
			tgtSize = st.Size()
		}
	}
	var src io.ReaderAt
	var srcSize int64
	if name := c.String("source"); name != "" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("encode: source: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("encode: source: %w", err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("encode: source %s is not a regular file", name)
		}
		src, srcSize = f, st.Size()
	}
	// Check the output before spending time on the source.
	toFile := outArg != "" && outArg != "-"
	if toFile && !c.Bool("force") {
		if _, err := os.Lstat(outArg); err == nil {
			return fmt.Errorf("encode: %s exists (use --force to overwrite)", outArg)
		}
	}
	// (bsdiff keeps about ten times its inputs live: it keeps the
	// runtime's pacing.)
	if tuneGC != nil && tgtSize >= 0 && codec == codecVCDIFF {
		tuneGC(srcSize + tgtSize)
	}
	// The encoder (which validates the options and reads the source) is
	// made before any output file exists; its output is routed later.
	out := &lateWriter{}
	var enc patchEncoder
	switch codec {
	case codecBSDIFF:
		enc, err = newBsdiffEncoder(out, src, srcSize, bsdiff.FormatBSDIFF40)
	case codecBSDIFF43:
		enc, err = newBsdiffEncoder(out, src, srcSize, bsdiff.FormatBSDIFF43)
	default:
		enc, err = newVCDIFFEncoder(out, src, srcSize, secondary, level, opts)
	}
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if !toFile {
		bw := bufio.NewWriterSize(ctxWriter{ctx, e.stdout}, 256<<10)
		out.w = bw
		if err := encodeTo(ctx, enc, tgt); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("encode: writing output: %w", err)
		}
		return nil
	}
	return encodeToFile(ctx, enc, out, outArg, tgt)
}

// lateWriter forwards to w, which is set once the destination is open.
type lateWriter struct{ w io.Writer }

func (l *lateWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

// encodeTo streams the target through enc.
func encodeTo(ctx context.Context, enc patchEncoder, tgt io.Reader) error {
	if _, err := enc.ReadFrom(ctxReader{ctx, tgt}); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("encode: %w", ctx.Err())
		}
		return fmt.Errorf("encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("encode: %w", ctx.Err())
		}
		return fmt.Errorf("encode: %w", err)
	}
	return nil
}

// encodeToFile encodes into a temporary file next to out and renames it
// into place only after the whole patch was written.
func encodeToFile(ctx context.Context, enc patchEncoder, lw *lateWriter, out string, tgt io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".encode-*")
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	lw.w = bw
	if err := encodeTo(ctx, enc, tgt); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("encode: writing %s: %w", out, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ok = true
	return nil
}

// ctxReader fails reads once ctx is cancelled, so an interrupted encode
// stops promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
