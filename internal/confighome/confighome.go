// Package confighome points the user's config folder (os.UserConfigDir, where gingen keeps
// its journal key) at a temporary folder, for tests: no test reads or writes the real one.
package confighome

import (
	"os"
	"path/filepath"
	"runtime"
)

// Isolate points os.UserConfigDir of this process, and of the processes it starts, at a new
// temporary folder, which it returns with a function that removes it. The go command's caches
// stay where they were (on macOS the config folder follows HOME, so HOME moves and GOPATH and
// GOCACHE are pinned first).
func Isolate() (dir string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", "gingen-test-config-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { _ = os.RemoveAll(tmp) }
	set := map[string]string{"XDG_CONFIG_HOME": tmp}
	dir = tmp
	switch runtime.GOOS {
	case "windows":
		set["AppData"] = tmp
	case "darwin", "ios":
		home, herr := os.UserHomeDir()
		cache, cerr := os.UserCacheDir()
		if herr == nil && os.Getenv("GOPATH") == "" {
			set["GOPATH"] = filepath.Join(home, "go")
		}
		if cerr == nil && os.Getenv("GOCACHE") == "" {
			set["GOCACHE"] = filepath.Join(cache, "go-build")
		}
		set["HOME"] = tmp
		dir = filepath.Join(tmp, "Library", "Application Support")
	}
	for k, v := range set {
		if err := os.Setenv(k, v); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return dir, cleanup, nil
}
