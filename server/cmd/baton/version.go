package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/peterbourgon/ff/v4"
)

// version describes this binary from its build info: the module version (set when built
// from a tag, or by go install pkg@version), the commit and the Go release.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "baton (no build info)"
	}
	v := "baton " + info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.time":
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += " (modified)"
			}
		}
	}
	return v + " " + info.GoVersion
}

// versionCommand is "baton version".
func versionCommand(stdout io.Writer) *ff.Command {
	return command(flag.NewFlagSet("version", flag.ContinueOnError), false, "baton version",
		"print the version, commit and Go release of this binary",
		"The version is the module version the binary was built at: a release tag (go install\n"+
			"github.com/batonhq/baton/server/cmd/baton@v0.1.0), or a pseudo-version, or (devel) for a build\n"+
			"from a checkout, followed by the commit and its time when built from a git checkout.",
		noArgs(func(context.Context) error {
			fmt.Fprintln(stdout, version())
			return nil
		}))
}
