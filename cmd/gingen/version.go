package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print gingen's module version and VCS revision",
		Example: "  gingen version",
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(c.OutOrStdout(), versionString(debug.ReadBuildInfo()))
			return err
		},
	}
}

// versionString renders the build info: module version, VCS revision (with "+dirty" for a
// modified tree) and the Go version.
func versionString(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "gingen (unknown version: built without module support)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	revision, modified := "unknown", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified {
		revision += "+dirty"
	}
	return fmt.Sprintf("gingen %s (revision %s, %s)", version, revision, info.GoVersion)
}
