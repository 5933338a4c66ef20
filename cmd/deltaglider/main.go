// Command deltaglider stores many versions of large, similar files as one
// reference plus small VCDIFF deltas, on S3 or a local directory, and offers
// xdelta3-compatible encode/decode/info for scripting.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
