package main

import (
	"fmt"
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
// checkout cannot be found (installed from a pseudo-version, or its sources moved) returns ""
// too: its projects build once the version is published (see restartNote).
func restartReplace() string {
	if releaseBuild() {
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

// releaseBuild reports whether this gingen is the release whose restart library its projects
// require: its module version is generator.RestartVersion.
func releaseBuild() bool {
	info, ok := debug.ReadBuildInfo()
	return ok && info.Main.Version == generator.RestartVersion
}

// restartNote is what gingen new says about the restart library of the project it wrote with
// replace (restartReplace's answer): nothing for a release build.
func restartNote(replace string) string {
	switch {
	case replace != "":
		return fmt.Sprintf("development build of gingen: go.mod replaces %s with this checkout's %s (a release build requires the published %s)\n",
			generator.RestartModule, replace, generator.RestartVersion)
	case !releaseBuild():
		return fmt.Sprintf("development build of gingen without its checkout: the project requires %s %s, which builds once that version is published; until then add a replace of it to go.mod\n",
			generator.RestartModule, generator.RestartVersion)
	}
	return ""
}
