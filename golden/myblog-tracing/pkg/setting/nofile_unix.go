//go:build unix

package setting

import (
	"fmt"
	"syscall"
)

// OpenFileLimit is the process's soft RLIMIT_NOFILE: how many descriptors it may hold.
// The Go runtime has already raised the soft limit to the hard one at start (os package,
// Go 1.19+), so this is the most the process can get.
func OpenFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	return nonNegative(lim.Cur), nil
}

// nonNegative converts a limit that is uint64 on Linux and Darwin but int64 on the BSDs.
func nonNegative[T int64 | uint64](v T) uint64 {
	if v < 0 {
		return 0
	}
	return uint64(v)
}
