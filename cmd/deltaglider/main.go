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
	// The first Ctrl-C cancels the work (in-flight writes are aborted and
	// cleaned up, exit 130); a second one kills the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	tuneGC = deferGCForSmallJob
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
