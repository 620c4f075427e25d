package main

import (
	"fmt"
	"io"
	"runtime/debug"
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

func runVersion(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments")
	}
	fmt.Fprintln(stdout, version())
	return nil
}
