//go:build unix

package generator

import (
	"fmt"
	"os"
	"syscall"
)

// lockProject takes an exclusive lock on the project's folder itself (flock, released when the
// process ends, even by kill -9), so that two gingen commands never work the journal of one
// project at once: the second waits, then finds the first one's change done. It leaves no file
// behind. unlock releases it.
func lockProject(root string) (unlock func(), err error) {
	d, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", root, err)
	}
	for {
		err = syscall.Flock(int(d.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR { //nolint:errorlint // a raw errno from the system call
			break
		}
	}
	if err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("lock %s: %w", root, err)
	}
	return func() { _ = d.Close() }, nil
}
