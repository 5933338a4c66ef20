package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError marks an error caused by how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// env carries the process's standard streams to the commands, so tests can
// run every command in-process and inspect stdout, stderr and the exit code.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// newApp builds the command-line application. Each command lives in its own
// file and is listed here.
func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:  "deltaglider",
		Usage: "store many versions of large files as one reference plus tiny deltas",
		Description: "deltaglider keeps versioned artifacts (release archives, jars, tarballs, dumps)\n" +
			"as a reference plus VCDIFF deltas, on S3 or on a local directory, and reads and\n" +
			"writes xdelta3-compatible patches.",
		Reader:               e.stdin,
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		EnableBashCompletion: true,
		Version:              version(),
		Flags:                append(backendFlags(), jsonFlag()),
		Commands: []*cli.Command{
			cpCommand(e),
			lsCommand(e),
			rmCommand(e),
			syncCommand(e),
			statsCommand(e),
			verifyCommand(e),
			purgeCommand(e),
			migrateCommand(e),
			analyzeCommand(e),
			mbCommand(e),
			rbCommand(e),
			completionCommand(e),
			decodeCommand(e),
			encodeCommand(e),
			infoCommand(e),
			serveCommand(e),
		},
		// Errors are printed by run, once, as one line.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err.Error()}
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
		// No command has subcommands: without this, urfave/cli adds a
		// "help"/"h" subcommand to each, so `cp h s3://b/` showed help
		// instead of uploading ./h, and `cp <TAB>` completed to "help".
		// --help still works.
		c.HideHelpCommand = true
	}
	return app
}

// run executes the CLI with args and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	app := newApp(e)
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return exitOK
	}
	msg := strings.TrimSpace(err.Error())
	if slices.Contains(args, "--debug") || strings.EqualFold(os.Getenv("DG_LOG_LEVEL"), "debug") {
		fmt.Fprintf(stderr, "deltaglider: %s\n", msg)
	} else {
		fmt.Fprintf(stderr, "deltaglider: %s\n", firstLine(friendly(err)))
	}
	var ue usageError
	switch {
	case errors.As(err, &ue) || strings.HasPrefix(msg, "flag provided but not defined") ||
		strings.HasPrefix(msg, "Required flag") || strings.Contains(msg, "No help topic"):
		return exitUsage
	case ctx.Err() != nil:
		return exitInterrupted
	}
	return exitFailure
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
