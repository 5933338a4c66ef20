package main

import "github.com/urfave/cli/v2"

func decodeCommand(e *env) *cli.Command {
	return &cli.Command{Name: "decode", Usage: "apply a VCDIFF patch (not implemented yet)",
		Action: func(*cli.Context) error { return usageErrorf("decode: not implemented yet") }}
}
