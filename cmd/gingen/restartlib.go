package main

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"golang.org/x/mod/modfile"

	"github.com/gingen/gingen/generator"
)

// restartReplace is where a project's go.mod points the restart library: "" for a release
// build of gingen, whose projects require the published generator.RestartVersion; for a
// development build (go run ./cmd/gingen, go build in a checkout), the checkout's restart/
// folder, since the version it requires is not published yet. A development build whose
// checkout cannot be found (its sources moved) returns "" too: its projects build once the
// version is published.
func restartReplace() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version == generator.RestartVersion {
		return ""
	}
	_, file, _, ok := runtime.Caller(0) // <checkout>/cmd/gingen/restartlib.go
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "restart")
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil || modfile.ModulePath(b) != generator.RestartModule {
		return ""
	}
	return dir
}
