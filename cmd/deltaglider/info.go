package main

import "github.com/urfave/cli/v2"

func infoCommand(e *env) *cli.Command {
	return &cli.Command{Name: "info", Usage: "describe a VCDIFF patch (not implemented yet)",
		Action: func(*cli.Context) error { return usageErrorf("info: not implemented yet") }}
}
