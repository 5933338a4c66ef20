// Command bsdiffbench drives package bsdiff from the command line for
// bench/bsdiff.sh (measuring a separate process, as for the peer tools):
//
//	bsdiffbench diff [-format BSDIFF40|BSDIFF43] OLD NEW PATCH
//	bsdiffbench patch OLD PATCH NEW
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/deltaglider-go/deltaglider/bsdiff"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bsdiffbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: bsdiffbench diff|patch ...")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	format := fs.String("format", "BSDIFF40", "patch format: BSDIFF40 or BSDIFF43")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 3 {
		return fmt.Errorf("%s needs 3 file arguments", args[0])
	}
	a, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		return err
	}
	var out []byte
	switch args[0] {
	case "diff":
		f := map[string]bsdiff.Format{"BSDIFF40": bsdiff.FormatBSDIFF40, "BSDIFF43": bsdiff.FormatBSDIFF43}[*format]
		out, err = bsdiff.Diff(a, b, bsdiff.WithFormat(f))
	case "patch":
		out, err = bsdiff.Patch(a, b)
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	if err != nil {
		return err
	}
	return os.WriteFile(fs.Arg(2), out, 0o644)
}
