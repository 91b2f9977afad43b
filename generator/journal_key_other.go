//go:build !unix

package generator

import (
	"fmt"
	"io/fs"
	"os"
)

// openNoFollow opens name for reading, refusing a symbolic link (checked just before: there
// is no O_NOFOLLOW here).
func openNoFollow(name string) (*os.File, error) {
	info, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link", name)
	}
	return os.Open(name)
}

// notPrivate: where files have no unix owner and mode bits, the user's profile folder keeps
// the key private.
func notPrivate(fs.FileInfo, fs.FileMode) string { return "" }
