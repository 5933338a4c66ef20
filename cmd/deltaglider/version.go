package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version describes this binary for --version: the module version `go
// install ...@vX` recorded (or "(devel)" for a build from a checkout), the
// commit when the build saw one, and the Go toolchain and platform.
func version() string {
	v := "(unknown)"
	var extra []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if modified == "true" {
				rev += ", modified"
			}
			extra = append(extra, "commit "+rev)
		}
	}
	extra = append(extra, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
	return v + " (" + strings.Join(extra, ", ") + ")"
}
