package restart

// The hand-over of the listening sockets from one generation to the next (SIGHUP).
//
// The old process starts the new one as
//
//	/bin/sh -c 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"' <binary> <args...>
//
// with the listening sockets at fd 3.. (LISTEN_FDS=n, LISTEN_FDNAMES as systemd set them), a
// "ready" pipe at fd 3+n and a "commit" pipe at fd 3+n+1 (RESTART_READY_FD/RESTART_COMMIT_FD).
// sd_listen_fds(3) only accepts the sockets when LISTEN_PID is the pid of the process reading
// them, which a Go parent cannot know before the child exists (Go has no fork without exec);
// the shell knows its own pid ($$) and exec keeps it, so the new binary sees exactly what
// systemd itself would pass, and reads it with the same code as a first start.
//
// Then:
//  1. the new process builds its handler and writes 'R' on the ready pipe; it does not accept
//     yet;
//  2. the old one (bounded by ReadyTimeout) writes 'C' on the commit pipe, sends
//     MAINPID=<new pid> + READY=1 to systemd, and drains;
//  3. the new process starts accepting once it has read 'C'. Connections that arrive in
//     between wait in the socket backlog, which both processes hold open.
//
// Any failure before step 2 (the new process exits, is late, or the reload is cancelled)
// leaves the old process serving; the new one is stopped (SIGTERM, then SIGKILL) without ever
// having accepted a connection. The commit pipe stays open in the old process until it has
// drained (EOF = "previous generation gone"): the new one defers a SIGHUP until then, so there
// are never more than two generations.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// envReadyFD and envCommitFD name the hand-over pipes of a process started by a reload.
	envReadyFD  = "RESTART_READY_FD"
	envCommitFD = "RESTART_COMMIT_FD"
	// listenFDsStart is SD_LISTEN_FDS_START: the first socket-activated descriptor.
	listenFDsStart = 3
	// shellPath runs shellExec, which sets LISTEN_PID to its own pid and execs the binary ($0)
	// with its arguments ($@) in the same process.
	shellPath = "/bin/sh"
	shellExec = `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`
	// msgReady and msgCommit are the one-byte messages of the hand-over pipes.
	msgReady  byte = 'R'
	msgCommit byte = 'C'
	// killGrace is how long a new generation that is being aborted may take to exit after
	// SIGTERM before it is killed.
	killGrace = 5 * time.Second
)

// executablePath returns the absolute path this process was started as. A reload starts the
// binary found at this path, i.e. the one deployed now. os.Executable is not used on purpose:
// on Linux it reads /proc/self/exe, which names the inode that is running, so after a deploy
// that replaced the file it points to the old, deleted binary.
func executablePath() (string, error) {
	p, err := exec.LookPath(os.Args[0])
	if err != nil && !errors.Is(err, exec.ErrDot) {
		return "", fmt.Errorf("restart: locate own binary %q: %w", os.Args[0], err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("restart: locate own binary %q: %w", os.Args[0], err)
	}
	return abs, nil
}

// handover is the new process's side of the hand-over pipes.
type handover struct {
	ready  *os.File // write end: 'R' once the handler is built
	commit *os.File // read end: 'C' when the old process commits, EOF when it is gone
}

// takeHandover returns the hand-over pipes when this process was started by a reload, nil for a
// first start. It unsets their environment variables so no later child inherits them.
func takeHandover() (*handover, error) {
	readyVal, commitVal := os.Getenv(envReadyFD), os.Getenv(envCommitFD)
	if readyVal == "" && commitVal == "" {
		return nil, nil
	}
	_ = os.Unsetenv(envReadyFD)
	_ = os.Unsetenv(envCommitFD)
	ready, err := inheritedPipe(envReadyFD, readyVal, false)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so that reads park in the Go poller and Close interrupts them.
	commit, err := inheritedPipe(envCommitFD, commitVal, true)
	if err != nil {
		_ = ready.Close()
		return nil, err
	}
	return &handover{ready: ready, commit: commit}, nil
}

func inheritedPipe(name, val string, nonblock bool) (*os.File, error) {
	fd, err := strconv.Atoi(val)
	if err != nil || fd < listenFDsStart {
		return nil, fmt.Errorf("restart: %s=%q is not a file descriptor", name, val)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil, fmt.Errorf("restart: %s=%d is not an inherited pipe", name, fd)
	}
	// Inherited descriptors lack FD_CLOEXEC: without it every process we start later (the next
	// reload) would inherit them, and the old process would never see EOF.
	syscall.CloseOnExec(fd)
	if nonblock {
		if err := syscall.SetNonblock(fd, true); err != nil {
			return nil, fmt.Errorf("restart: %s: set non-blocking: %w", name, err)
		}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// awaitCommit tells the previous generation that this one is ready and waits until it commits
// the hand-over (bounded by timeout; the previous generation bounds it too).
func (h *handover) awaitCommit(ctx context.Context, timeout time.Duration) error {
	if _, err := h.ready.Write([]byte{msgReady}); err != nil {
		return fmt.Errorf("restart: hand-over: signal readiness: %w", err)
	}
	_ = h.ready.Close()

	got := make(chan error, 1)
	go func() {
		var b [1]byte
		if _, err := io.ReadFull(h.commit, b[:]); err != nil {
			got <- fmt.Errorf("restart: hand-over aborted by the previous generation: %w", err)
			return
		}
		if b[0] != msgCommit {
			got <- fmt.Errorf("restart: hand-over: unexpected message %q", b[0])
			return
		}
		got <- nil
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-got:
		return err
	case <-ctx.Done():
		_ = h.commit.Close() // unblocks the reader
		return fmt.Errorf("restart: hand-over: %w", ctx.Err())
	case <-timer.C:
		_ = h.commit.Close()
		return fmt.Errorf("restart: hand-over: no commit from the previous generation within %s", timeout)
	}
}

// parentGone returns a channel closed when the previous generation has drained (it closes the
// commit pipe) or exited.
func (h *handover) parentGone() <-chan struct{} {
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		_, _ = io.Copy(io.Discard, h.commit)
	}()
	return gone
}

func (h *handover) close() {
	_ = h.ready.Close()
	_ = h.commit.Close()
}

// childProcess is a new generation started by a reload, seen from the old one.
type childProcess struct {
	cmd     *exec.Cmd
	pid     int
	commitW *os.File
	exited  chan struct{} // closed once cmd.Wait has returned
	waitErr error         // cmd.Wait's result, valid once exited is closed
}

// startChild starts the binary at exe as the next generation, hands it the listening sockets and
// waits (bounded by readyTimeout and ctx) until it is ready. On error the child is stopped.
func startChild(ctx context.Context, exe string, lns activatedListeners, readyTimeout time.Duration,
	log *slog.Logger) (*childProcess, error) {
	files := make([]*os.File, 0, len(lns.listeners)+2)
	closeFiles := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	for _, ln := range lns.listeners {
		f, err := dupListener(ln)
		if err != nil {
			closeFiles()
			return nil, err
		}
		files = append(files, f)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		closeFiles()
		return nil, fmt.Errorf("restart: hand-over pipe: %w", err)
	}
	commitR, commitW, err := os.Pipe()
	if err != nil {
		closeFiles()
		_ = readyR.Close()
		_ = readyW.Close()
		return nil, fmt.Errorf("restart: hand-over pipe: %w", err)
	}
	files = append(files, readyW, commitR)

	n := len(lns.listeners)
	cmd := &exec.Cmd{
		Path:       shellPath,
		Args:       append([]string{shellPath, "-c", shellExec, exe}, os.Args[1:]...),
		Env:        nextGenerationEnv(handoverEnv(os.Environ(), n, lns.fdNames, listenFDsStart+n, listenFDsStart+n+1), nextGeneration(), time.Now()),
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: files, // fd 3+i in the child
	}
	err = cmd.Start()
	// Close our copies of the child's ends right away: the ready pipe must see EOF when the
	// child exits, and the sockets stay open in our own listeners anyway.
	closeFiles()
	if err != nil {
		_ = readyR.Close()
		_ = commitW.Close()
		return nil, fmt.Errorf("restart: start new generation %s: %w", exe, err)
	}
	c := &childProcess{cmd: cmd, pid: cmd.Process.Pid, commitW: commitW, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()

	ready := make(chan error, 1)
	go func() {
		defer readyR.Close()
		var b [1]byte
		if _, err := io.ReadFull(readyR, b[:]); err != nil {
			ready <- err
			return
		}
		if b[0] != msgReady {
			ready <- fmt.Errorf("unexpected message %q", b[0])
			return
		}
		ready <- nil
	}()
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case err := <-ready:
		if err == nil {
			return c, nil
		}
		c.abort(log)
		select {
		case <-c.exited: // waitErr is valid: report the exit status rather than EOF
			if c.waitErr != nil {
				err = c.waitErr
			}
		default:
		}
		return nil, fmt.Errorf("restart: new generation (pid %d) exited before it was ready: %w", c.pid, err)
	case <-timer.C:
		c.abort(log)
		return nil, fmt.Errorf("restart: new generation (pid %d) not ready within %s", c.pid, readyTimeout)
	case <-ctx.Done():
		c.abort(log)
		return nil, fmt.Errorf("restart: reload cancelled: %w", ctx.Err())
	}
}

// commit tells the child it owns the sockets now. An error means the child is gone.
func (c *childProcess) commit() error {
	if _, err := c.commitW.Write([]byte{msgCommit}); err != nil {
		return fmt.Errorf("restart: commit hand-over to pid %d: %w", c.pid, err)
	}
	return nil
}

// release tells a committed child that this generation has drained.
func (c *childProcess) release() {
	_ = c.commitW.Close()
}

// abort stops a child that was not committed. It has accepted no connection, so stopping it
// loses nothing: its sockets are ours too.
func (c *childProcess) abort(log *slog.Logger) {
	// EOF on the commit pipe makes a ready child exit by itself.
	_ = c.commitW.Close()
	if c.waitExit(0) {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if c.waitExit(killGrace) {
		return
	}
	log.Warn("reload: new generation ignored SIGTERM, killing it", "pid", c.pid)
	_ = c.cmd.Process.Kill()
	if !c.waitExit(killGrace) {
		log.Error("reload: new generation still running after SIGKILL", "pid", c.pid)
	}
}

func (c *childProcess) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.exited:
		return true
	case <-t.C:
		return false
	}
}

// dupListener duplicates ln's descriptor for a child. It goes through SyscallConn instead of
// (*net.TCPListener).File: File returns a *os.File whose Fd() (called by os.StartProcess) puts
// the descriptor in blocking mode, and O_NONBLOCK belongs to the open file description shared
// with our own listener, so our Accept would block in the kernel and Shutdown could not stop it
// (golang/go#24942, golang/go#29277). os.NewFile on a non-blocking descriptor keeps it that way.
func dupListener(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("restart: listener %s (%T) cannot be passed to another process", ln.Addr(), ln)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("restart: listener %s: %w", ln.Addr(), err)
	}
	var (
		dup    int
		dupErr error
	)
	if err := raw.Control(func(fd uintptr) {
		dup, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("restart: listener %s: %w", ln.Addr(), err)
	}
	if dupErr != nil {
		return nil, fmt.Errorf("restart: dup listener %s: %w", ln.Addr(), dupErr)
	}
	return os.NewFile(uintptr(dup), "listener "+ln.Addr().String()), nil
}

// handoverEnv is the environment of the next generation: ours, without any stale socket
// activation or hand-over variable, plus the new ones (LISTEN_PID is set by the shell).
// NOTIFY_SOCKET is kept: the child notifies systemd once it is the main process.
func handoverEnv(environ []string, nfds int, fdNames string, readyFD, commitFD int) []string {
	env := make([]string, 0, len(environ)+5)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", envReadyFD, envCommitFD:
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"LISTEN_FDS="+strconv.Itoa(nfds),
		envReadyFD+"="+strconv.Itoa(readyFD),
		envCommitFD+"="+strconv.Itoa(commitFD),
	)
	if fdNames != "" {
		env = append(env, "LISTEN_FDNAMES="+fdNames)
	}
	return env
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, as sd_notify's MONOTONIC_USEC= wants it.
func monotonicUsec() (int64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, false
	}
	return ts.Nano() / 1000, true
}
