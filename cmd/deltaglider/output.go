package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/deltaglider-go/deltaglider/delta"
)

// reporter writes a command's results: human lines on stdout (unless
// --quiet or --json), JSON objects one per line with --json, warnings and
// per-item errors on stderr, and a progress bar on stderr when stderr is a
// terminal. Safe for concurrent use by the workers of a recursive command.
type reporter struct {
	mu    sync.Mutex
	out   io.Writer
	err   io.Writer
	quiet bool
	json  bool
	tty   bool
	bar   *progressbar.ProgressBar
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newReporter(e *env, quiet, js, noProgress bool) *reporter {
	return &reporter{out: e.stdout, err: e.stderr, quiet: quiet, json: js,
		tty: !quiet && !noProgress && isTerminal(e.stderr) && os.Getenv("TERM") != "dumb"}
}

// linef prints a human-readable result line (not with --quiet or --json).
func (r *reporter) linef(format string, args ...any) {
	if r.quiet || r.json {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Clear()
	}
	fmt.Fprintf(r.out, format+"\n", args...)
}

// record prints v as one JSON line with --json.
func (r *reporter) record(v any) {
	if !r.json {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out.Write(append(b, '\n'))
}

// warnf prints a warning or a per-item failure on stderr, even with --quiet.
func (r *reporter) warnf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Clear()
	}
	fmt.Fprintf(r.err, "deltaglider: "+format+"\n", args...)
}

// startBar starts a progress bar on a terminal: bytes (with rate and ETA)
// when bytes is true, else a count of items. total < 0 means unknown.
func (r *reporter) startBar(desc string, total int64, bytes bool) {
	if !r.tty {
		return
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(r.err),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(30),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true), progressbar.OptionShowCount(),
			progressbar.OptionUseIECUnits(true))
	} else {
		opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("obj"))
	}
	r.mu.Lock()
	r.bar = progressbar.NewOptions64(total, opts...)
	r.mu.Unlock()
}

// add advances the bar by n (bytes or items).
func (r *reporter) add(n int64) {
	if r.bar == nil || n == 0 {
		return
	}
	r.mu.Lock()
	r.bar.Add64(n)
	r.mu.Unlock()
}

func (r *reporter) finishBar() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Finish()
		r.bar.Clear()
		r.bar = nil
	}
}

// byteProgress returns a delta.ProgressFunc that feeds one transfer's
// running byte count into the shared bar.
func (r *reporter) byteProgress() delta.ProgressFunc {
	if r.bar == nil {
		return nil
	}
	var last int64
	return func(p delta.Progress) {
		if p.Done > last {
			r.add(p.Done - last)
			last = p.Done
		}
	}
}

// countingWriter advances the bar as bytes are written.
type countingWriter struct {
	w io.Writer
	r *reporter
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.r.add(int64(n))
	return n, err
}
