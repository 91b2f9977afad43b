package generator

// The restart library generated projects import (main.go calls restart.Run). It is a module
// of gingen's repository, tagged restart/VERSION together with gingen's own vVERSION (see
// docs/RELEASING.md), so a project requires the library of the gingen that generated it.
const (
	RestartModule  = "github.com/gingen/gingen/restart"
	RestartVersion = "v0.1.0"
)
