//go:build unix && !linux

package restart

import "syscall"

// workerSysProcAttr: parent-death signals exist only on Linux; elsewhere the worker relies
// on the lifeline pipe alone to notice that the master is gone.
func workerSysProcAttr() *syscall.SysProcAttr { return nil }

// dupCloexec duplicates fd with close-on-exec set. Without F_DUPFD_CLOEXEC
// everywhere, hold ForkLock so no process is started between the dup and the flag.
func dupCloexec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nfd, err := syscall.Dup(fd)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(nfd)
	return nfd, nil
}
