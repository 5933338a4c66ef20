package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/bsdiff"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

func decodeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "decode",
		Usage:     "apply a VCDIFF (xdelta3-compatible) or bsdiff patch to a source file",
		ArgsUsage: "PATCH [OUT]",
		Description: "Reconstructs the target from PATCH and the source file it was made against,\n" +
			"like `xdelta3 -d -s SOURCE PATCH OUT`. PATCH or OUT may be '-' or omitted for\n" +
			"stdin/stdout. OUT is written to a temporary file in its directory and renamed\n" +
			"into place only when the whole patch has been decoded and every window checksum\n" +
			"verified, so a failed decode leaves nothing behind. File names stored in the\n" +
			"patch's application header are never used. bsdiff patches (BSDIFF40 and\n" +
			"ENDSLEY/BSDIFF43) are recognised by their magic and applied the same way.\n\n" +
			"Example:\n" +
			"  deltaglider decode -s app-1.1.0.zip app-1.2.0.vcdiff app-1.2.0.zip",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "source `FILE` the patch was made against (omit for patches without a source)"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "overwrite OUT if it exists"},
			&cli.BoolFlag{Name: "no-verify", Aliases: []string{"n"}, Usage: "do not verify the per-window Adler-32 checksums"},
			&cli.Int64Flag{Name: "max-window", Value: vcdiff.MaxWindowSize, Usage: "largest target window to accept, in `BYTES`"},
		},
		Action: func(c *cli.Context) error { return runDecode(c.Context, e, c) },
	}
}

func runDecode(ctx context.Context, e *env, c *cli.Context) error {
	if c.NArg() > 2 {
		return usageErrorf("decode: too many arguments (want PATCH [OUT])")
	}
	patchArg, outArg := c.Args().Get(0), c.Args().Get(1)
	opts := []vcdiff.DecoderOption{
		vcdiff.WithVerifyChecksum(!c.Bool("no-verify")),
		vcdiff.WithMaxWindowSize(c.Int64("max-window")),
	}

	var patch io.Reader = e.stdin
	if patchArg != "" && patchArg != "-" {
		f, err := os.Open(patchArg)
		if err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		defer f.Close()
		patch = f
	}
	var src io.ReaderAt
	var srcSize int64
	if name := c.String("source"); name != "" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("decode: source: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("decode: source: %w", err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("decode: source %s is not a regular file (it must be seekable)", name)
		}
		src, srcSize = f, st.Size()
	}
	patch, format, err := sniffPatch(patch)
	if err != nil {
		return fmt.Errorf("decode: reading patch: %w", err)
	}
	var d io.WriterTo
	if format != bsdiff.FormatUnknown {
		d = bsdiffApplier{patch: patch, src: src, srcSize: srcSize}
	} else {
		// The VCDIFF decoder's heap is a few long-lived buffers (target
		// window, source block cache, sections) allocated in its first
		// milliseconds, and it makes little garbage after that. At the
		// default GOGC the runtime runs several collections while those
		// buffers are allocated, about a fifth of the CPU of decoding a
		// small patch, for no memory saved; collect less often.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		if d, err = vcdiff.NewDecoder(patch, src, srcSize, opts...); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
	}

	if outArg == "" || outArg == "-" {
		bw := bufio.NewWriterSize(ctxWriter{ctx, e.stdout}, 256<<10)
		if _, err := d.WriteTo(bw); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("decode: writing output: %w", err)
		}
		return nil
	}
	return decodeToFile(ctx, d, outArg, c.Bool("force"))
}

// decodeToFile decodes into a temporary file next to out and renames it
// into place only after a complete, verified decode.
func decodeToFile(ctx context.Context, d io.WriterTo, out string, force bool) error {
	if !force {
		if _, err := os.Lstat(out); err == nil {
			return fmt.Errorf("decode: %s exists (use --force to overwrite)", out)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".decode-*")
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(ctxWriter{ctx, tmp}, 256<<10)
	if _, err := d.WriteTo(bw); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("decode: %w", ctx.Err())
		}
		return fmt.Errorf("decode: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("decode: writing %s: %w", out, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	ok = true
	return nil
}

// ctxWriter fails writes once ctx is cancelled, so an interrupted decode
// stops promptly.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}
