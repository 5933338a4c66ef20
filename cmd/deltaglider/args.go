package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs moves the flags that follow a command's operands in front of
// them, so that `deltaglider cp SRC DST --recursive` works as with
// `aws s3 cp` (urfave/cli, like package flag, stops parsing flags at the
// first operand). Whether a flag takes a value is read from the command's
// flag definitions. An explicit "--" ends flag parsing as usual.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	for _, a := range args {
		if a == "--generate-bash-completion" {
			return args
		}
	}
	out := []string{args[0]}
	i := 1
	for i < len(args) && isFlagArg(args[i]) {
		out = append(out, args[i])
		if takesValue(app.Flags, args[i]) && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
		i++
	}
	if i >= len(args) || args[i] == "--" {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil || cmd.SkipFlagParsing || len(cmd.Subcommands) > 0 {
		return args
	}
	out = append(out, args[i])
	var flags, ops []string
	dash := false
	for i++; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			dash = true
			ops = append(ops, args[i+1:]...)
			i = len(args)
		case isFlagArg(a):
			if a == "-h" && cmd.Name == "ls" {
				a = "--human-readable" // as in `aws s3 ls -h`; --help still shows help
			}
			flags = append(flags, a)
			if takesValue(cmd.Flags, a) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			ops = append(ops, a)
		}
	}
	out = append(out, flags...)
	if dash {
		out = append(out, "--")
	}
	return append(out, ops...)
}

func isFlagArg(a string) bool {
	return len(a) > 1 && a[0] == '-' && a != "--"
}

// takesValue reports whether the flag named by arg (without "=value")
// consumes the next argument.
func takesValue(flags []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, ok := f.(*cli.BoolFlag); ok {
				return false
			}
			return true
		}
	}
	return false
}
