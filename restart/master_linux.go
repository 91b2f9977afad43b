package restart

import "syscall"

// workerSysProcAttr makes the kernel send SIGTERM to a worker when the master dies, so a
// worker never outlives its master and keeps the port (it drains and exits). Pdeathsig fires
// when the *thread* that started the child exits (golang/go#27505); Go only ends threads of
// goroutines that exit while locked with runtime.LockOSThread, which the master never does.
// Should it happen anyway, the worker drains, the master sees it exit and starts a new one;
// the lifeline pipe remains the main guarantee.
func workerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// dupCloexec duplicates fd atomically with close-on-exec set, so a process started
// concurrently (by the application) cannot inherit the listening socket.
func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
