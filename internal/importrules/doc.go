// Package importrules holds only a test: the module's dependency firewall
// (docs/style.md, habit 12). Only cmd/ imports urfave/cli, only s3store
// imports aws-sdk-go-v2, and every package builds without cgo.
package importrules
