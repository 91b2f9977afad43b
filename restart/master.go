//go:build unix

package restart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// supervisor is the master: it owns the listening sockets and the worker processes.
type supervisor struct {
	log             *slog.Logger
	exe             string     // binary started for every worker, resolved once at start
	args            []string   // os.Args, passed unchanged to every worker
	lns             []*os.File // the listening sockets, handed to every worker as fds 3, 4, ...
	addr            string     // the first socket's address, for the log
	hooks           masterHooks
	readyTimeout    time.Duration
	shutdownTimeout time.Duration
	// requests carries restart requests that do not come from SIGHUP; the reply channel, if
	// not nil, receives the outcome (buffered, never blocks the loop).
	requests chan chan<- error
	spawned  int // workers started so far: the restart generation of the next one
	// maxCrashes is how many workers in a row may fail within stableAfter of their start
	// before the master gives up (Options.MaxWorkerCrashes).
	maxCrashes int
}

// newSupervisor takes ownership of lns (at least one). It keeps a duplicate of each socket as
// a plain *os.File and closes the listeners: the master never accepts, the workers do.
func newSupervisor(opts Options, lns ...net.Listener) (*supervisor, error) {
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	if len(lns) == 0 {
		return nil, errors.New("restart: master: no listening socket")
	}
	s := &supervisor{
		log:      opts.logger().With("role", "master"),
		args:     append([]string(nil), os.Args...),
		addr:     lns[0].Addr().String(),
		hooks:    noHooks{},
		requests: make(chan chan<- error),
	}
	for _, ln := range lns {
		f, err := listenerFile(ln)
		if err != nil {
			s.close()
			return nil, err
		}
		s.lns = append(s.lns, f)
	}
	exe, err := masterExecutable()
	if err != nil {
		s.close()
		return nil, err
	}
	s.exe = exe
	s.maxCrashes = opts.MaxWorkerCrashes
	if s.maxCrashes <= 0 {
		s.maxCrashes = DefaultMaxWorkerCrashes
	}
	var shutdown time.Duration
	s.readyTimeout, shutdown = masterTimeouts(opts)
	// A worker told to stop first waits out DrainDelay (answering /readyz 503) before it drains.
	s.shutdownTimeout = shutdown + max(opts.DrainDelay, 0)
	return s, nil
}

func (s *supervisor) close() {
	for _, f := range s.lns {
		f.Close()
	}
}

// listenerFile duplicates the listening socket into an *os.File for ExtraFiles.
//
// It must not use (*net.TCPListener).File: that file is marked to return a *blocking*
// descriptor from Fd, which os.StartProcess calls, and O_NONBLOCK lives on the open file
// description that the master and every worker share. Each restart would then switch the
// running worker's socket to blocking mode, and its accept loop could park a thread in a
// blocking accept(2) that outlives its drain and swallows a connection. A descriptor wrapped
// by os.NewFile keeps its mode when Fd is called.
func listenerFile(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("restart: listener %T has no file descriptor", ln)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("restart: listener descriptor: %w", err)
	}
	var (
		fd     int
		dupErr error
	)
	if err := rc.Control(func(s uintptr) {
		fd, dupErr = dupCloexec(int(s))
	}); err != nil {
		return nil, fmt.Errorf("restart: listener descriptor: %w", err)
	}
	if dupErr != nil {
		return nil, fmt.Errorf("restart: duplicate listener descriptor: %w", dupErr)
	}
	return os.NewFile(uintptr(fd), "restart-listener"), nil
}

// masterExecutable returns the path the master starts every worker from.
//
// os.Executable reads /proc/self/exe on Linux, which names the binary the master was started
// from with symlinks resolved (and " (deleted)" appended once that file is replaced, which Go
// strips). The path in os.Args[0] is preferred when it names the same file, because it keeps
// symlinks: a deploy that switches a "current" symlink to a new release is then picked up by
// the next SIGHUP. The path is resolved once, so a later chdir cannot change its meaning.
func masterExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("restart: find own executable: %w", err)
	}
	arg0 := os.Args[0]
	if !strings.ContainsRune(arg0, os.PathSeparator) {
		p, err := exec.LookPath(arg0)
		if err != nil {
			return exe, nil
		}
		arg0 = p
	}
	arg0, err = filepath.Abs(arg0)
	if err != nil {
		return exe, nil
	}
	a, errA := os.Stat(arg0)
	b, errB := os.Stat(exe)
	if errA == nil && errB == nil && os.SameFile(a, b) {
		return arg0, nil
	}
	return exe, nil
}

// supervisorWorker is one worker process, seen from the master.
type supervisorWorker struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	ready   *os.File // read end of the ready pipe
	life    *os.File // write end of the lifeline pipe: kept open while the worker should live
	// shutdownTimeout is the drain timeout the worker reported with its ready line: the worker
	// read the config now on disk, which may be longer than the master's.
	shutdownTimeout time.Duration
	done            chan struct{} // closed once the process has been reaped
	err             error         // result of Wait, read only after done is closed
}

// exitReason is how the worker ended, for the log and STATUS=: "exit status 2", "signal:
// killed". Only after done.
func (w *supervisorWorker) exitReason() string {
	if w.err == nil {
		return "exit status 0"
	}
	return w.err.Error()
}

// exitErr is the worker's exit status as an error (nil for exit 0). Only after done.
func (w *supervisorWorker) exitErr() error {
	if w.err == nil {
		return nil
	}
	return fmt.Errorf("restart: worker %d: %w", w.pid, w.err)
}

// spawn starts a worker process: same binary path, same arguments, same environment plus the
// role variables, the listening sockets as fds 3, 4, ... and the two pipes after them.
func (s *supervisor) spawn() (*supervisorWorker, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("restart: ready pipe: %w", err)
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		readyR.Close()
		readyW.Close()
		return nil, fmt.Errorf("restart: lifeline pipe: %w", err)
	}
	// The worker's ends are closed here once it has them: the master must see EOF on the ready
	// pipe when the worker dies, and only the master may hold the lifeline's write end.
	defer readyW.Close()
	defer lifeR.Close()

	cmd := &exec.Cmd{
		Path:        s.exe,
		Args:        s.args,
		Env:         nextGenerationEnv(workerEnv(os.Environ(), len(s.lns)), s.spawned, time.Now()),
		Stdout:      os.Stdout, // *os.File: passed as is, no copying goroutine in the master
		Stderr:      os.Stderr,
		ExtraFiles:  append(append([]*os.File(nil), s.lns...), readyW, lifeR),
		SysProcAttr: workerSysProcAttr(),
	}
	if err := cmd.Start(); err != nil {
		readyR.Close()
		lifeW.Close()
		return nil, fmt.Errorf("restart: start worker %s: %w", s.exe, err)
	}
	w := &supervisorWorker{
		cmd:     cmd,
		pid:     cmd.Process.Pid,
		started: time.Now(),
		ready:   readyR,
		life:    lifeW,
		done:    make(chan struct{}),
	}
	go func() {
		w.err = cmd.Wait()
		// The ready pipe is not closed here: a worker that failed at once may have exited
		// before start began to read it, and its reason ("fail ...") waits in the pipe.
		// Its exit closed its end, so the read gets that line, then EOF; a deadline bounds
		// the read should a process the worker started still hold the pipe. The reader
		// closes the pipe (start).
		_ = w.ready.SetReadDeadline(time.Now().Add(exitWait))
		w.life.Close()
		close(w.done)
	}()
	s.spawned++
	s.log.Info("worker started", "pid", w.pid, "exe", s.exe)
	return w, nil
}

// workerEnv returns env with the role variables set for a worker that inherits
// listeners sockets (each only once), and without the variables that only the master may use:
// NOTIFY_SOCKET (systemd accepts notifications from its main process only, the master) and
// socket activation's LISTEN_* (the worker's sockets come from the master).
func workerEnv(env []string, listeners int) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case roleEnv, listenersEnv,
			"NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES":
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		roleEnv+"="+roleWorker,
		listenersEnv+"="+strconv.Itoa(listeners))
}

// start spawns a worker and waits, bounded by the ready timeout, for its ready report. A worker
// that exits first or is not ready in time is killed and reaped. If ctx is cancelled meanwhile
// the worker is stopped gracefully (it may already accept connections) and ctx's error returned.
func (s *supervisor) start(ctx context.Context) (*supervisorWorker, error) {
	w, err := s.spawn()
	if err != nil {
		return nil, err
	}
	type report struct {
		shutdown time.Duration
		err      error
	}
	ready := make(chan report, 1)
	go func() {
		d, err := readReady(w.ready)
		w.ready.Close()
		ready <- report{d, err}
	}()
	timer := time.NewTimer(s.readyTimeout)
	defer timer.Stop()
	select {
	case r := <-ready:
		if r.err == nil {
			w.shutdownTimeout = r.shutdown
			s.log.Info("worker ready", "pid", w.pid, "after", time.Since(w.started).Round(time.Millisecond))
			return w, nil
		}
		// Give a worker that closed the pipe because it is exiting a moment to do so: its
		// own exit status says more in the log than our SIGKILL would.
		select {
		case <-w.done:
		case <-time.After(exitWait):
		}
		s.kill(w)
		var failed *workerError
		if errors.As(r.err, &failed) {
			return nil, fmt.Errorf("restart: worker %d failed before it was ready: %s", w.pid, failed.reason)
		}
		select {
		case <-w.done: // w.err is only valid once the worker has been reaped
			if w.err != nil {
				return nil, fmt.Errorf("restart: worker %d failed before it was ready: %w", w.pid, w.err)
			}
		default:
		}
		return nil, fmt.Errorf("restart: worker %d failed before it was ready: %w", w.pid, r.err)
	case <-timer.C:
		s.kill(w)
		return nil, fmt.Errorf("restart: worker %d was not ready within %s; killed it", w.pid, s.readyTimeout)
	case <-ctx.Done():
		if err := s.stop(w); err != nil {
			s.log.Debug("stopped a worker that was starting", "pid", w.pid, "err", err)
		}
		return nil, ctx.Err()
	}
}

// workerError is a worker's own report of why it will not become ready.
type workerError struct{ reason string }

func (f *workerError) Error() string { return f.reason }

// readReady reads the worker's ready line: "ready <shutdown timeout in ns>\n", or
// "fail <reason>\n" from a worker that could not start (a *workerError).
func readReady(r *os.File) (time.Duration, error) {
	var buf [4096]byte
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if i := strings.IndexByte(string(buf[:n]), '\n'); i >= 0 {
			if reason, ok := strings.CutPrefix(string(buf[:i]), "fail "); ok {
				return 0, &workerError{reason: reason}
			}
			var ns int64
			if _, err := fmt.Sscanf(string(buf[:i]), "ready %d", &ns); err != nil {
				return 0, fmt.Errorf("restart: bad ready report %q: %w", buf[:i], err)
			}
			return time.Duration(ns), nil
		}
		if err != nil {
			return 0, fmt.Errorf("restart: ready pipe: %w", err)
		}
	}
	return 0, fmt.Errorf("restart: ready report too long: %q", buf[:n])
}

// stop sends SIGTERM and waits for the worker to drain and exit; a worker still running after
// its shutdown timeout (and drain delay) plus a margin is SIGKILLed. It returns nil only for
// a clean exit. On SIGTERM the worker first waits out its DrainDelay with /readyz answering
// 503: stop is for a shutdown, where nobody else will accept.
func (s *supervisor) stop(w *supervisorWorker) error {
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.log.Warn("could not signal worker", "pid", w.pid, "err", err)
	}
	return s.awaitExit(w)
}

// retire tells a worker that a new one has taken over to drain at once, without the
// DrainDelay of a shutdown: the new worker accepts on the same socket, so no connection is
// refused, and an old worker answering /readyz 503 on the shared socket would only make the
// load balancer drop this instance for nothing. The signal is closing the lifeline, which
// the worker also reads as "the master is gone". Then it waits as stop does.
func (s *supervisor) retire(w *supervisorWorker) error {
	if err := w.life.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		s.log.Warn("could not close the worker's lifeline; sending SIGTERM", "pid", w.pid, "err", err)
		return s.stop(w)
	}
	return s.awaitExit(w)
}

// awaitExit waits for a worker told to drain; one still running after its shutdown timeout
// (and drain delay) plus a margin is SIGKILLed.
func (s *supervisor) awaitExit(w *supervisorWorker) error {
	grace := max(s.shutdownTimeout, w.shutdownTimeout) + killMargin
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-w.done:
		return w.exitErr()
	case <-timer.C:
	}
	s.log.Error("worker did not exit in time; killing it", "pid", w.pid, "waited", grace)
	s.kill(w)
	return fmt.Errorf("restart: worker %d did not exit within %s and was killed", w.pid, grace)
}

// kill SIGKILLs the worker and waits (bounded) until it has been reaped.
func (s *supervisor) kill(w *supervisorWorker) {
	if err := w.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.log.Warn("could not kill worker", "pid", w.pid, "err", err)
	}
	select {
	case <-w.done:
	case <-time.After(killMargin):
		// Only a process stuck in the kernel (e.g. on a dead NFS mount) survives SIGKILL;
		// the Wait goroutine reaps it whenever it dies.
		s.log.Error("worker survived SIGKILL", "pid", w.pid)
	}
}

// restart requests a restart as SIGHUP does and waits for its outcome: nil once a new worker
// serves and the old one has been told to drain. A request made while a restart is in progress
// is answered by the restart that runs after it.
func (s *supervisor) restart(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case s.requests <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startResult is the outcome of one start, sent back to the loop.
type startResult struct {
	w   *supervisorWorker
	err error
}

// run starts the first worker and then supervises until ctx is cancelled. All state below is
// owned by this goroutine; starting, stopping and draining happen in helper goroutines that
// report back over channels, so a slow worker never blocks signal handling.
func (s *supervisor) run(ctx context.Context, hup <-chan os.Signal) error {
	s.log.Info("supervisor master started", "pid", os.Getpid(), "addr", s.addr)
	first, err := s.start(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		// Fail fast: a binary or config that cannot start at all is reported to whoever
		// started us (systemd, supervisord) instead of being retried forever.
		return fmt.Errorf("restart: first worker: %w", err)
	}
	s.hooks.serving(first.pid)

	var (
		cur      = first
		started  = make(chan startResult, 1)
		starting bool
		waiters  []chan<- error // callers waiting for the start in progress
		pending  bool           // a restart was requested while one was in progress
		reload   bool           // a requested restart is in progress or queued (hooks)
		lastErr  error          // outcome of the last requested restart (hooks)
		queued   []chan<- error // callers waiting for the pending restart
		delay    time.Duration  // backoff of the next crash restart
		respawn  *time.Timer
		retiring sync.WaitGroup // old workers that are draining
		crashes  int            // workers in a row that failed within stableAfter of their start
	)
	// Starts stop when ctx is cancelled, and when the master gives up.
	startCtx, cancelStarts := context.WithCancel(ctx)
	defer cancelStarts()
	cancelRespawn := func() {
		if respawn != nil {
			respawn.Stop()
			respawn = nil
		}
	}
	begin := func() {
		cancelRespawn()
		starting = true
		go func() {
			w, err := s.start(startCtx)
			started <- startResult{w, err}
		}()
	}
	scheduleRespawn := func(cause string) {
		if delay == 0 {
			delay = backoffMin
		} else {
			delay = min(2*delay, backoffMax)
		}
		s.log.Info("starting a new worker after backoff", "delay", delay)
		why := fmt.Sprintf("restarting in %s after %s", delay, cause)
		if crashes > 0 {
			why += fmt.Sprintf(", fast failure %d of %d", crashes, s.maxCrashes)
		}
		s.hooks.down(why)
		respawn = time.NewTimer(delay)
	}
	servingPID := func() int {
		if cur == nil {
			return 0
		}
		return cur.pid
	}
	request := func(reply chan<- error) {
		if !reload {
			reload = true
			s.hooks.reloading(servingPID())
		}
		if starting {
			// Never two starts at once: remember one more restart and run it after this one,
			// so the binary and config on disk at the time of the latest SIGHUP are used.
			if pending {
				s.log.Info("restart already in progress and another already queued; coalesced")
			} else {
				s.log.Info("restart already in progress; another will run after it")
			}
			pending = true
			if reply != nil {
				queued = append(queued, reply)
			}
			return
		}
		if reply != nil {
			waiters = append(waiters, reply)
		}
		begin()
	}
	answer := func(list []chan<- error, err error) {
		for _, r := range list {
			r <- err
		}
	}

	for {
		var curDone <-chan struct{}
		if cur != nil {
			curDone = cur.done
		}
		var respawnC <-chan time.Time
		if respawn != nil {
			respawnC = respawn.C
		}
		select {
		case <-ctx.Done():
			cancelRespawn()
			s.hooks.stopping(servingPID())
			err := s.shutdown(cur, starting, started)
			answer(waiters, errors.New("restart: shutting down"))
			answer(queued, errors.New("restart: shutting down"))
			retiring.Wait()
			s.log.Info("supervisor master stopped", "pid", os.Getpid(), "err", err)
			return err

		case <-hup:
			s.log.Info("SIGHUP received: restarting the worker")
			request(nil)

		case reply := <-s.requests:
			s.log.Info("restart requested")
			request(reply)

		case <-respawnC:
			respawn = nil
			begin()

		case res := <-started:
			starting = false
			if res.err != nil {
				if cur != nil {
					s.log.Error("restart failed; the old worker keeps serving", "pid", cur.pid, "err", res.err)
				} else {
					s.log.Error("worker start failed", "err", res.err)
					crashes++
					if crashes >= s.maxCrashes {
						return s.giveUp(crashes, res.err, cancelStarts, waiters, queued, &retiring)
					}
					scheduleRespawn(fmt.Sprintf("a worker start failed (%s)", startFailure(res.err)))
				}
			} else {
				old := cur
				cur = res.w
				if old != nil {
					s.log.Info("restart complete; draining the old worker", "old_pid", old.pid, "pid", cur.pid)
					retiring.Add(1)
					go func() {
						defer retiring.Done()
						if err := s.retire(old); err != nil {
							s.log.Error("old worker did not drain cleanly", "pid", old.pid, "err", err)
							return
						}
						s.log.Info("old worker exited", "pid", old.pid)
					}()
				} else {
					s.log.Info("worker serving again", "pid", cur.pid)
					s.hooks.serving(cur.pid)
				}
			}
			answer(waiters, res.err)
			waiters = nil
			lastErr = res.err
			if pending {
				pending, waiters, queued = false, queued, nil
				s.log.Info("running the queued restart")
				begin()
			} else if reload {
				reload = false
				s.hooks.reloaded(servingPID(), lastErr)
			}

		case <-curDone:
			if ctx.Err() != nil {
				// A Ctrl-C reaches the whole process group: the worker drained on its own
				// SIGINT. Not a crash; the next iteration shuts down.
				cur = nil
				continue
			}
			ran := time.Since(cur.started)
			s.log.Error("worker exited unexpectedly", "pid", cur.pid, "ran", ran.Round(time.Millisecond), "err", cur.err)
			if ran >= stableAfter {
				delay = 0
				crashes = 0
			} else {
				crashes++
			}
			dead := cur
			cur = nil
			// A start in progress (a SIGHUP restart) becomes the replacement; otherwise
			// respawn after the backoff, or give up after too many fast crashes. Requests
			// queue in the socket's backlog meanwhile.
			cause := fmt.Sprintf("worker %d exited (%s) after %s", dead.pid, dead.exitReason(), ran.Round(time.Millisecond))
			switch {
			case starting:
				s.hooks.down(cause + "; a new worker is starting")
			case crashes >= s.maxCrashes:
				return s.giveUp(crashes, fmt.Errorf("%s", cause), cancelStarts, waiters, queued, &retiring)
			default:
				scheduleRespawn(cause)
			}
		}
	}
}

// giveUp ends the master after crashes workers in a row failed within stableAfter of their
// start, last being the last failure: no worker serves (none is starting), old workers may
// still drain. It returns the error Run returns, so the process exits non-zero and its
// service manager acts (Restart=, StartLimitBurst=) instead of a crash loop that looks
// healthy.
func (s *supervisor) giveUp(crashes int, last error, cancelStarts context.CancelFunc, waiters, queued []chan<- error, retiring *sync.WaitGroup) error {
	err := fmt.Errorf("restart: master: giving up: %d workers in a row failed within %s of their start; the last: %w",
		crashes, stableAfter, last)
	s.log.Error("giving up: workers keep failing", "failures", crashes, "limit", s.maxCrashes, "err", last)
	s.hooks.down(fmt.Sprintf("gave up after %d fast failures in a row; the last: %s", crashes, last))
	cancelStarts()
	for _, r := range append(waiters, queued...) {
		r <- err
	}
	retiring.Wait()
	s.log.Info("supervisor master stopped", "pid", os.Getpid(), "err", err)
	return err
}

// startFailure is a start error without the package prefix, for STATUS=.
func startFailure(err error) string {
	return strings.TrimPrefix(err.Error(), "restart: ")
}

// shutdown stops the serving worker and a worker being started, in parallel, each bounded.
func (s *supervisor) shutdown(cur *supervisorWorker, starting bool, started <-chan startResult) error {
	s.log.Info("shutting down: draining the worker")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	stop := func(w *supervisorWorker) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.stop(w); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			s.log.Info("worker exited", "pid", w.pid)
		}()
	}
	if cur != nil {
		stop(cur)
	}
	if starting {
		// start sees ctx cancelled and stops its worker itself, unless it became ready at
		// the same moment; then it is ours to stop.
		if res := <-started; res.w != nil {
			stop(res.w)
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}
