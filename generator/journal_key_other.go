//go:build !unix

package generator

import (
	"io/fs"
	"os"
)

// openNoFollow opens name for reading; a symbolic link shows as not a regular file to the
// caller's check of the opened file's mode.
func openNoFollow(name string) (*os.File, error) {
	return os.Open(name)
}

// notPrivate: where files have no unix owner and mode bits, the user's profile folder keeps
// the key private.
func notPrivate(fs.FileInfo, fs.FileMode) string { return "" }
