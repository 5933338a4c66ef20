package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/deltaglider-go/deltaglider/bsdiff"
	"github.com/deltaglider-go/deltaglider/vcdiff"
)

func infoCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "describe a patch: VCDIFF header, secondary compressor, app header, windows (or a bsdiff header)",
		ArgsUsage: "PATCH",
		Description: "Prints the file header and, per window, the source segment, target size,\n" +
			"section sizes (stored and decoded) and Adler-32, like `xdelta3 printhdrs`.\n" +
			"PATCH may be '-' for stdin. No source is needed and nothing is decoded.\n\n" +
			"Example:\n" +
			"  deltaglider info app-1.2.0.vcdiff",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		},
		Action: func(c *cli.Context) error { return runInfo(e, c) },
	}
}

// infoJSON is the --json document: vcdiff.PatchInfo plus the app header
// as text when it is valid UTF-8.
type infoJSON struct {
	*vcdiff.PatchInfo
	AppHeaderText *string `json:"app_header_text,omitempty"`
}

func runInfo(e *env, c *cli.Context) error {
	args := c.Args().Slice()
	asJSON := c.Bool("json")
	// Accept `info PATCH --json` too (flags after the operand).
	var ops []string
	for _, a := range args {
		if a == "--json" || a == "-json" {
			asJSON = true
			continue
		}
		ops = append(ops, a)
	}
	if len(ops) != 1 {
		return usageErrorf("info: want exactly one PATCH argument")
	}
	var r io.Reader = e.stdin
	if ops[0] != "-" {
		f, err := os.Open(ops[0])
		if err != nil {
			return fmt.Errorf("info: %w", err)
		}
		defer f.Close()
		r = f
	}
	br, format, err := sniffPatch(r)
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}
	if format != bsdiff.FormatUnknown {
		return runBsdiffInfo(e, ops[0], br, asJSON)
	}
	info, err := vcdiff.Inspect(br)
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}
	if asJSON {
		doc := infoJSON{PatchInfo: info}
		if info.AppHeader != nil && utf8.Valid(info.AppHeader) {
			s := string(info.AppHeader)
			doc.AppHeaderText = &s
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	return printInfo(e.stdout, ops[0], info)
}

func printInfo(w io.Writer, name string, info *vcdiff.PatchInfo) error {
	version := "0 (RFC 3284 / xdelta3)"
	if info.Version == 'S' {
		version = "'S' (open-vcdiff extended)"
	}
	app := "none"
	if info.AppHeader != nil {
		// Quoted: the app header is untrusted text, never a path.
		app = fmt.Sprintf("%q (%d bytes)", info.AppHeader, len(info.AppHeader))
	}
	fmt.Fprintf(w, "patch:       %s (%d bytes)\n", name, info.PatchSize)
	fmt.Fprintf(w, "version:     %s\n", version)
	fmt.Fprintf(w, "secondary:   %s (ID %d)\n", info.SecondaryName, info.Secondary)
	fmt.Fprintf(w, "app header:  %s\n", app)
	fmt.Fprintf(w, "target size: %d\n", info.TargetSize)
	fmt.Fprintf(w, "windows:     %d\n", len(info.Windows))
	if len(info.Windows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "window\toffset\tind\tsrc seg len\tsrc seg pos\ttarget off\ttarget len\tdelta\tdata\tinst\taddr\tadler32\t")
	sec := func(s vcdiff.SectionInfo) string {
		if s.Compressed {
			return fmt.Sprintf("%d->%d", s.Stored, s.Decoded)
		}
		return fmt.Sprint(s.Stored)
	}
	for _, wi := range info.Windows {
		seg, pos, sum := "-", "-", "-"
		if wi.HasSource {
			seg, pos = fmt.Sprint(wi.SegmentLength), fmt.Sprint(wi.SegmentOffset)
		}
		if wi.HasChecksum {
			sum = fmt.Sprintf("%08x", wi.Checksum)
		}
		fmt.Fprintf(tw, "%d\t%d\t0x%02x\t%s\t%s\t%d\t%d\t0x%02x\t%s\t%s\t%s\t%s\t\n",
			wi.Index, wi.Offset, wi.Indicator, seg, pos, wi.TargetOffset, wi.TargetLength,
			wi.DeltaIndicator, sec(wi.Data), sec(wi.Inst), sec(wi.Addr), sum)
	}
	return tw.Flush()
}

// runBsdiffInfo describes a bsdiff patch from its header and size.
func runBsdiffInfo(e *env, name string, r io.Reader, asJSON bool) error {
	h, err := bsdiff.ReadHeader(r)
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}
	rest, err := io.Copy(io.Discard, r)
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}
	size := int64(h.HeaderLen) + rest
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Format    string `json:"format"`
			PatchSize int64  `json:"patch_size"`
			bsdiff.Header
		}{h.Format.String(), size, h})
	}
	fmt.Fprintf(e.stdout, "patch:       %s (%d bytes)\n", name, size)
	fmt.Fprintf(e.stdout, "format:      %s (bsdiff)\n", h.Format)
	fmt.Fprintf(e.stdout, "target size: %d\n", h.NewSize)
	if h.Format == bsdiff.FormatBSDIFF40 {
		fmt.Fprintf(e.stdout, "streams:     control %d, diff %d, extra %d bytes (bzip2)\n",
			h.ControlLen, h.DiffLen, size-int64(h.HeaderLen)-h.ControlLen-h.DiffLen)
	}
	return nil
}
