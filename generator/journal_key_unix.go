//go:build unix

package generator

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens name for reading, refusing a symbolic link.
func openNoFollow(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

// notPrivate says why a file of gingen's key is not private to the user: another owner, or
// one of the permission bits in loose set; "" when it is private.
func notPrivate(info fs.FileInfo, loose fs.FileMode) string {
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Sprintf("is owned by uid %d, not by you (uid %d)", st.Uid, os.Getuid())
	}
	if perm := info.Mode().Perm(); perm&loose != 0 {
		return fmt.Sprintf("is open to others (mode %04o)", perm)
	}
	return ""
}
