//go:build unix

package restart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// runWorker is the worker side of Run: build the handler, serve on the inherited
// socket, report ready to the master, and drain when ctx is cancelled (the master's SIGTERM
// on shutdown: after opts.DrainDelay) or the lifeline closes (a new worker took over, or
// the master died: at once).
func runWorker(ctx context.Context, opts Options, build Build) error {
	log := opts.logger().With("role", "worker")
	_, shutdownTimeout := masterTimeouts(opts)

	// Only the master restarts. A SIGHUP sent to the whole process group (kill -HUP -PGID, a
	// closed terminal) must neither kill the worker (the default action) nor do anything else.
	signal.Ignore(syscall.SIGHUP)
	// Programs the application starts must not believe they are workers.
	if err := os.Unsetenv(roleEnv); err != nil {
		return fmt.Errorf("restart: worker: unset %s: %w", roleEnv, err)
	}

	lns, ready, life, err := workerFiles()
	if err != nil {
		return err
	}
	defer func() {
		for _, ln := range lns {
			ln.Close() // normally already closed by the drain; a second Close is harmless
		}
	}()
	defer ready.Close()
	defer life.Close()

	signalled := ctx // cancelled by SIGTERM/SIGINT: a shutdown
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// Nothing is ever written to the lifeline: Read returns only once the master's end is
		// closed, by the master when a new worker has taken over, or by the kernel when the
		// master dies, even by SIGKILL.
		_, _ = io.Copy(io.Discard, life)
		if ctx.Err() == nil {
			log.Info("lifeline closed (replaced by a new worker, or the master is gone); draining", "pid", os.Getpid())
		}
		cancel()
	}()

	opts, err = opts.withTLS()
	if err != nil {
		err = fmt.Errorf("restart: worker: %w", err)
		reportFailure(ready, err)
		return err
	}
	handler, cleanup, err := build(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// The master gave up on us (shutdown) while we were starting.
			return nil
		}
		err = fmt.Errorf("restart: worker build: %w", err)
		reportFailure(ready, err)
		return err
	}
	if ctx.Err() != nil {
		return workerCleanup(cleanup)
	}

	srv := startServer(handler, lns, opts)
	log.Info("serving", "pid", os.Getpid(), "addr", lns[0].Addr().String(), "listeners", len(lns))
	// Report ready only once Serve runs; the drain timeout travels along because this process
	// read the config now on disk and the master bounds our drain with it.
	// The drain delay is part of the bound: a shutdown waits it out before draining.
	if _, err := fmt.Fprintf(ready, "ready %d\n", int64(shutdownTimeout+max(opts.DrainDelay, 0))); err != nil {
		log.Warn("could not report ready; is the master gone?", "pid", os.Getpid(), "err", err)
		cancel()
	}
	ready.Close()

	var serveErr error
	select {
	case <-ctx.Done():
	case <-srv.Stopped():
		// Serve failed on its own: drain what is in flight, then exit non-zero so that the
		// master starts a new worker.
		serveErr = srv.Err()
		if serveErr == nil {
			serveErr = errors.New("server stopped")
		}
		serveErr = fmt.Errorf("restart: worker serve: %w", serveErr)
	}
	if serveErr == nil && signalled.Err() != nil {
		// A shutdown (the master's SIGTERM): nobody takes over the socket, so keep accepting
		// until load balancers have seen /readyz fail. A retired worker skips this: the new
		// worker accepts on the same socket.
		srv.DelayDrain(context.WithoutCancel(ctx), opts.DrainDelay, log)
	}
	log.Info("draining", "pid", os.Getpid(), "timeout", shutdownTimeout)
	// Drain closes only this worker's copy of the socket: the master and the new worker keep
	// theirs, so every later connection goes to the new worker.
	drainErr := srv.Drain(context.WithoutCancel(ctx), shutdownTimeout)
	if drainErr != nil {
		drainErr = fmt.Errorf("restart: worker: %w", drainErr)
	}
	err = errors.Join(serveErr, drainErr, workerCleanup(cleanup))
	log.Info("drained", "pid", os.Getpid(), "err", err)
	return err
}

func workerCleanup(cleanup func() error) error {
	if cleanup == nil {
		return nil
	}
	if err := cleanup(); err != nil {
		return fmt.Errorf("restart: worker cleanup: %w", err)
	}
	return nil
}

// workerFiles adopts the descriptors inherited from the master: the listening
// sockets (RESTART_LISTENERS of them, from fd 3), then the ready and lifeline pipes.
func workerFiles() (lns []net.Listener, ready, life *os.File, err error) {
	n := 1
	if v := os.Getenv(listenersEnv); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			return nil, nil, nil, fmt.Errorf("restart: worker: %s=%q is not a count of sockets", listenersEnv, v)
		}
	}
	_ = os.Unsetenv(listenersEnv)
	readyFD, lifeFD := listenerFD+n, listenerFD+n+1
	// exec cleared close-on-exec on the inherited descriptors. Set it again at once, or a
	// program the application starts would inherit the listening sockets (and keep the port
	// open after we exit) and the lifeline (and hide the master's death).
	for fd := listenerFD; fd <= lifeFD; fd++ {
		if _, err := fcntlGetfd(fd); err != nil {
			return nil, nil, nil, fmt.Errorf("restart: worker: inherited fd %d: %w (a worker is started by the master; unset %s to run standalone)",
				fd, err, roleEnv)
		}
		syscall.CloseOnExec(fd)
	}
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for fd := listenerFD; fd < readyFD; fd++ {
		lf := os.NewFile(uintptr(fd), "restart-listener")
		ln, err := net.FileListener(lf) // duplicates the descriptor
		lf.Close()
		if err != nil {
			closeAll()
			return nil, nil, nil, fmt.Errorf("restart: worker: inherited listener (fd %d): %w", fd, err)
		}
		lns = append(lns, ln)
	}
	// Non-blocking pipes go through the poller, so Close interrupts a pending Read. These pipe
	// descriptions are private to this worker and the master, unlike the listening sockets.
	for _, fd := range []int{readyFD, lifeFD} {
		if err := syscall.SetNonblock(fd, true); err != nil {
			closeAll()
			return nil, nil, nil, fmt.Errorf("restart: worker: inherited fd %d: %w", fd, err)
		}
	}
	return lns, os.NewFile(uintptr(readyFD), "restart-ready"), os.NewFile(uintptr(lifeFD), "restart-lifeline"), nil
}

// fcntlGetfd reports whether fd is open (F_GETFD), without touching it.
func fcntlGetfd(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// reportFailure tells the master, on the ready pipe, why this worker will not become
// ready: the master's own error, often the last line a user sees, then names the cause (a
// database down at start, say) instead of only an exit status.
func reportFailure(ready io.Writer, err error) {
	_, _ = fmt.Fprintf(ready, "fail %s\n", strings.Join(strings.Fields(err.Error()), " "))
}
