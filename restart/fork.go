package restart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cloudflare/tableflip"
)

// upgradeAbortWait bounds how long a shutdown waits for tableflip to abandon a restart that was
// in progress when the shutdown began. tableflip kills the new process as soon as Stop is
// called, so in practice this returns at once; the bound only protects the shutdown path.
const upgradeAbortWait = 5 * time.Second

// pidFileReclaimWait bounds how long a generation whose restart failed waits for the killed
// new process to disappear before it rewrites the PID file with its own pid.
const pidFileReclaimWait = 2 * time.Second

// Run serves the handler returned by build on opts.Addr until ctx is cancelled, restarting
// with the fork strategy (github.com/cloudflare/tableflip):
//
//   - SIGHUP re-executes the binary now on disk (os.Args[0]) with the same arguments,
//     environment and working directory, and hands it the listening socket. The new process
//     builds its handler and only then reports ready; the old one stops accepting, finishes
//     its in-flight requests (bounded by opts.ShutdownTimeout), runs cleanup and Run returns
//     nil. The socket is never closed, so no connection is refused during the switch.
//   - A new process that exits at start or is not ready within opts.ReadyTimeout is killed,
//     the failure is logged and this process keeps serving; a later SIGHUP tries again.
//   - A new process that dies after it became ready, while this one still drains (kill -9,
//     a crash, the OOM killer), is noticed within successorPollInterval: this process serves
//     again on the listening socket it kept open, rewrites the PID file and logs an error
//     naming the dead pid (connections made meanwhile waited in the accept queue). It cannot
//     restart any more (tableflip hands a socket over once per process): later SIGHUPs are
//     refused with an error and the PID file is rewritten, so ExecReload= fails. Where it
//     cannot serve again, Run returns an error once its drain is over.
//   - Only one restart runs at a time. A SIGHUP that arrives while a restart is in progress,
//     before this process is ready, or once it is stopping is ignored with a log line. One
//     that arrives while the previous generation is still draining (tableflip cannot restart
//     before it has exited) is deferred until it has exited, with a log line.
//   - When opts.PIDFile is set it always names the serving process: the first process writes
//     it when ready, a new generation overwrites it before the old one exits, and a clean
//     shutdown removes it if it still names this process.
//
// tableflip allows a single Upgrader per process, so Run can be called only once per process.
func runFork(ctx context.Context, opts Options, build Build) error {
	log := opts.logger()
	pid := os.Getpid()

	// Subscribe to SIGHUP first: its default action terminates the process, and the PID file
	// (hence `kill -HUP`, systemd's ExecReload) names this process as soon as it is ready.
	// The subscription lasts until Run returns so a late SIGHUP cannot kill a draining process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// tableflip re-executes os.Args[0], resolved when the restart happens. A relative path
	// such as ./app would then depend on the working directory at that moment, so pin it
	// now while it still means the binary that was started.
	if len(os.Args) > 0 {
		os.Args[0] = absExecutable(os.Args[0])
	}

	pidFile := opts.PIDFile
	if pidFile != "" {
		abs, err := filepath.Abs(pidFile)
		if err != nil {
			return fmt.Errorf("restart: fork: resolve PID file %q: %w", pidFile, err)
		}
		pidFile = abs
	}

	upg, err := tableflip.New(tableflip.Options{
		PIDFile:        pidFile,
		UpgradeTimeout: opts.ReadyTimeout,
	})
	if err != nil {
		return fmt.Errorf("restart: fork: %w", err)
	}
	// Stop is idempotent. When nothing was upgraded it closes tableflip's copies of the
	// sockets; after an upgrade it is a no-op.
	defer upg.Stop()

	// The socket is inherited from the previous generation when there is one, otherwise it is
	// created here. Either way tableflip keeps a duplicate to pass on at the next restart.
	ln, err := upg.Fds.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("restart: fork: listen on %q: %w", opts.Addr, err)
	}

	// Load the certificate and build before Ready: the previous generation keeps serving
	// until this one has its certificate, router and database, and a failure makes the
	// restart fail instead of dropping traffic.
	opts, err = opts.withTLS()
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("restart: fork: %w", err)
	}
	handler, cleanup, err := build(ctx)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("restart: fork: build: %w", err)
	}

	g := &forkGeneration{
		log:     log,
		opts:    opts,
		pid:     pid,
		pidFile: pidFile,
		ln:      ln,
		handler: handler,
		cleanup: cleanup,
	}
	// Accept before reporting ready, so connections are taken as soon as the old generation
	// stops accepting.
	g.srv = startServer(handler, []net.Listener{ln}, opts)

	// A SIGHUP received while this process was starting belongs to a restart that was still
	// in progress (this process was the new generation), so it must not start another one.
	// This is checked before Ready: once Ready has written the PID file, a SIGHUP sent to the
	// pid it names (kill -HUP, ExecReload=) is a restart request and must not be dropped.
	select {
	case <-hup:
		log.Warn("ignoring SIGHUP received before this process was ready", "pid", pid)
	default:
	}

	// Ready writes the PID file, then tells the previous generation to drain.
	if err := upg.Ready(); err != nil {
		return g.stop(fmt.Errorf("restart: fork: ready: %w", err), false, hup)
	}
	log.Info("serving", "pid", pid, "addr", ln.Addr().String(), "restarted", upg.HasParent())

	return g.loop(ctx, upg, hup)
}

// forkGeneration is one serving process of the fork strategy.
type forkGeneration struct {
	log     *slog.Logger
	opts    Options
	pid     int
	pidFile string
	ln      net.Listener
	srv     *server
	handler http.Handler
	cleanup func() error
	// prevDrain, once this generation has resumed serving after its successor died, yields
	// the result of the drain of the server it had before (its in-flight requests): cleanup
	// must wait for it.
	prevDrain <-chan error
	// resumed is set once this generation serves again after its successor died: tableflip
	// allows one upgrade per process, so it cannot restart any more.
	resumed bool
}

// loop handles signals and restarts until this generation stops serving.
func (g *forkGeneration) loop(ctx context.Context, upg *tableflip.Upgrader, hup <-chan os.Signal) error {
	// tableflip refuses to restart until the previous generation has exited: its drain bounds
	// how soon the next restart can run. A SIGHUP that arrives before then is deferred.
	previousGone := make(chan struct{})
	go func() {
		defer close(previousGone)
		if !upg.HasParent() {
			return
		}
		if err := upg.WaitForParent(ctx); err != nil {
			if ctx.Err() == nil {
				g.log.Warn("previous generation exited uncleanly", "pid", g.pid, "err", err)
			}
			return
		}
		g.log.Info("previous generation exited; restart complete", "pid", g.pid)
	}()
	waitPrevious := (<-chan struct{})(previousGone) // nil once handled
	exited := upg.Exit()                            // nil once this generation has resumed

	upgrading := false // a new generation is starting
	deferred := false  // a SIGHUP waits for the previous generation to exit
	upgraded := make(chan error, 1)
	startUpgrade := func() {
		upgrading = true
		g.log.Info("restart requested: starting a new generation", "pid", g.pid,
			"executable", os.Args[0], "ready_timeout", g.opts.ReadyTimeout)
		// Upgrade blocks until the new process is ready, has failed or timed out; run it
		// aside so that shutdown and further signals are still handled.
		go func() { upgraded <- upgradeAfterParent(upg) }()
	}

	for {
		select {
		case <-ctx.Done():
			g.log.Info("shutting down", "pid", g.pid, "cause", context.Cause(ctx))
			// Stop kills a new generation that is not ready yet and prevents new restarts.
			upg.Stop()
			replaced := false
			if upgrading {
				select {
				case err := <-upgraded:
					replaced = err == nil
					if err != nil {
						g.log.Warn("restart aborted by the shutdown", "pid", g.pid, "err", err)
					}
				case <-time.After(upgradeAbortWait):
					g.log.Warn("restart still running while shutting down", "pid", g.pid)
				}
			}
			if replaced {
				// The new generation became ready before Stop took effect. It owns the socket
				// and the PID file now, and needs its own SIGTERM.
				g.log.Warn("a restart completed while shutting down; the new generation keeps serving",
					"pid", g.pid, "pid_file", g.pidFile)
			} else {
				// Nobody takes over the socket: keep accepting until load balancers have
				// seen /readyz fail (DrainDelay), then drain.
				g.srv.DelayDrain(context.Background(), g.opts.DrainDelay, g.log)
			}
			return g.stop(nil, replaced, hup)

		case <-exited:
			// Closed after a successful Upgrade (Stop is only called on the path above).
			resumed, err := g.handOver(ctx, hup)
			if !resumed {
				return err
			}
			// The new generation died during the drain and this one serves again; tableflip's
			// Exit channel stays closed.
			exited = nil

		case <-g.srv.Stopped():
			// Serve only stops on its own when accepting fails; requests already accepted
			// still get their drain.
			err := g.srv.Err()
			g.log.Error("server stopped unexpectedly", "pid", g.pid, "err", err)
			return g.stop(fmt.Errorf("restart: fork: serve: %w", err), false, hup)

		case <-hup:
			switch {
			case g.resumed:
				// ExecReload= waits for the PID file to be rewritten with this pid to know
				// that the reload failed; it is rewritten before the line is logged.
				g.reclaimPIDFile()
				g.log.Error("cannot restart: this generation resumed serving after its successor died, "+
					"and a process can hand over its socket only once; restart the service to make "+
					"reloads work again", "pid", g.pid)
			case upgrading:
				g.log.Warn("ignoring SIGHUP: a restart is already in progress", "pid", g.pid)
			case deferred:
				g.log.Warn("ignoring SIGHUP: a restart is already deferred", "pid", g.pid)
			case waitPrevious != nil:
				deferred = true
				g.log.Warn("SIGHUP deferred: the previous generation is still draining; "+
					"the restart starts when it has exited", "pid", g.pid)
			default:
				startUpgrade()
			}

		case <-waitPrevious:
			waitPrevious = nil
			if deferred {
				deferred = false
				startUpgrade()
			}

		case err := <-upgraded:
			upgrading = false
			if err != nil {
				g.log.Error("restart failed; this generation keeps serving", "pid", g.pid, "err", err)
				g.reclaimPIDFile()
				continue
			}
			g.log.Info("new generation is ready", "pid", g.pid)
			// upg.Exit() is closed now; the next iteration drains.
		}
	}
}

// tableflipParentNotExited and tableflipNotReady are the error texts of Upgrader.Upgrade
// (tableflip v1.2.3, upgrader.go) when the previous generation has not exited yet and when
// this process has not called Ready yet. tableflip has no sentinel errors for them.
const (
	tableflipParentNotExited = "parent hasn't exited"
	tableflipNotReady        = "process is not ready yet"
)

// upgradeAfterParent calls upg.Upgrade. It is only called after Ready and once WaitForParent
// has returned, but tableflip learns of both in its own goroutine, which may not have run yet
// (a SIGHUP sent as soon as the PID file appears races with it): in that case Upgrade refuses
// with one of the errors above, and is retried briefly.
func upgradeAfterParent(upg *tableflip.Upgrader) error {
	restore, err := markNextGeneration(time.Now())
	if err != nil {
		return err
	}
	err = upg.Upgrade()
	for i := 0; i < 20 && err != nil && upgradeRefusedForNow(err); i++ {
		time.Sleep(10 * time.Millisecond)
		err = upg.Upgrade()
	}
	if err != nil {
		restore()
	}
	return err
}

// upgradeRefusedForNow reports whether Upgrade refused only because tableflip's goroutine has
// not yet seen this process become ready or the previous generation exit.
func upgradeRefusedForNow(err error) bool {
	msg := err.Error()
	return msg == tableflipParentNotExited || msg == tableflipNotReady
}

// stop stops serving within opts.ShutdownTimeout, runs cleanup and, unless this generation was
// replaced, removes the PID file if it still names this process. cause is returned joined with
// any error of the stop.
//
// The drain (server.Drain) first closes this process's copy of the listening socket: after a
// restart the new generation holds the same socket, so new connections (and those still in
// the accept queue) go there; on a plain shutdown they are refused.
func (g *forkGeneration) stop(cause error, replaced bool, hup <-chan os.Signal) error {
	defer g.ignoreHUP(hup)()
	errs := []error{cause}
	if err := g.srv.Drain(context.Background(), g.opts.ShutdownTimeout); err != nil {
		errs = append(errs, fmt.Errorf("restart: fork: %w", err))
	}
	return g.stopped(g.release(errs, replaced))
}

// ignoreHUP logs and drops the SIGHUPs received until the returned func is called. SIGHUP
// stays subscribed until Run returns (its default action would kill the process in the
// middle of its drain); this says why it has no effect now.
func (g *forkGeneration) ignoreHUP(hup <-chan os.Signal) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				g.log.Warn("ignoring SIGHUP: this generation is stopping", "pid", g.pid)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// release is the end of a stop once the server has drained: it waits for the drain of the
// server this generation had before it resumed serving (if it did), runs cleanup and, unless
// this generation was replaced, removes the PID file if it still names this process.
func (g *forkGeneration) release(errs []error, replaced bool) []error {
	if g.prevDrain != nil {
		if err := <-g.prevDrain; err != nil {
			errs = append(errs, fmt.Errorf("restart: fork: %w", err))
		}
		g.prevDrain = nil
	}
	if g.cleanup != nil {
		if err := g.cleanup(); err != nil {
			errs = append(errs, fmt.Errorf("restart: fork: cleanup: %w", err))
		}
	}
	if !replaced && g.pidFile != "" {
		if err := removePIDFileIfOwned(g.pidFile, g.pid); err != nil {
			g.log.Warn("could not remove PID file", "pid", g.pid, "err", err)
		}
	}
	return errs
}

// stopped logs the end of this generation and returns errs joined.
func (g *forkGeneration) stopped(errs []error) error {
	err := errors.Join(errs...)
	if err != nil {
		g.log.Error("stopped", "pid", g.pid, "err", err)
	} else {
		g.log.Info("stopped", "pid", g.pid)
	}
	return err
}

// successorPollInterval is how often a draining generation checks that the new generation it
// handed its socket to is still alive. Connections that arrive between that process's death
// and the check wait in the socket's accept queue: the old generation keeps the socket open.
const successorPollInterval = 50 * time.Millisecond

// handOver drains this generation after a successful restart, watching the new generation
// (the pid its PID file names) until this one exits. tableflip's hand-over is final: if the
// new generation dies (kill -9, a crash, the OOM killer) while this one drains, nobody would
// accept on the socket, this process would exit 0 and the PID file would name a dead pid, so
// a service manager would see a clean stop. Instead, this generation keeps a duplicate of
// the listening socket during the drain, without accepting on it, and when the new one dies
// it serves on it again with its own handler, rewrites the PID file and logs an error naming
// the dead pid; it returns resumed true and its in-flight requests keep draining aside.
// Where it cannot (the handler was already cleaned up, the socket could not be kept) it
// finishes its drain and returns an error saying that nothing serves, so the process exits
// non-zero and the service manager restarts it.
//
// A death while ctx is done (the service is stopping: both generations got SIGTERM) is not a
// fault.
func (g *forkGeneration) handOver(ctx context.Context, hup <-chan os.Signal) (resumed bool, err error) {
	stopIgnoring := g.ignoreHUP(hup)
	defer stopIgnoring()

	newPID := 0
	attrs := []any{"pid", g.pid, "shutdown_timeout", g.opts.ShutdownTimeout}
	if g.pidFile != "" {
		// tableflip's new process writes its pid to the PID file before it reports ready.
		if p, err := readPIDFile(g.pidFile); err == nil && p != g.pid {
			newPID = p
			attrs = append(attrs, "new_pid", newPID)
		}
	}
	g.log.Info("replaced by a new generation; draining", attrs...)

	addr := g.ln.Addr().String()
	spare, spareErr := dupListener(g.ln)
	if spare != nil {
		defer spare.Close()
	} else {
		g.log.Warn("cannot keep the listening socket during the drain; if the new generation dies "+
			"now, this one exits with an error", "pid", g.pid, "err", spareErr)
	}
	gone := make(<-chan struct{}) // never closed when the new generation cannot be watched
	if newPID > 0 {
		var stopWatch func()
		gone, stopWatch = watchProcess(newPID, successorPollInterval)
		defer stopWatch()
	} else {
		g.log.Warn("the new generation cannot be watched during the drain: no PID file names it",
			"pid", g.pid)
	}
	// The watch polls; a death since its last look is seen by asking once more, so that a
	// drain that ends at once (no request in flight) still notices it.
	successorDied := func() bool {
		if ctx.Err() != nil {
			return false
		}
		select {
		case <-gone:
			return true
		default:
			return newPID > 0 && !processExists(newPID)
		}
	}

	srv := g.srv
	drained := make(chan error, 1)
	go func() { drained <- srv.Drain(context.Background(), g.opts.ShutdownTimeout) }()

	var drainErr error
	drainDone := false
	select {
	case drainErr = <-drained:
		drainDone = true
	case <-gone:
	}
	if !drainDone && !successorDied() {
		drainErr = <-drained
		drainDone = true
	}
	// Either the new generation died (this drain may still run), or the drain is over and
	// the handler is still intact: cleanup has not run yet.
	var fault error
	if successorDied() {
		prev := drained
		if drainDone {
			done := make(chan error, 1)
			done <- drainErr
			prev = done
		}
		err := g.resume(newPID, spare, spareErr, prev)
		if err == nil {
			return true, nil
		}
		fault = fmt.Errorf("restart: fork: the new generation (pid %d) died while this one was "+
			"draining, and this one cannot serve again (%w): nothing serves on %s", newPID, err, addr)
		g.log.Error("the new generation died while this one was draining", "pid", g.pid,
			"dead_pid", newPID, "err", fault)
		if !drainDone {
			drainErr = <-drained
		}
	}
	errs := []error{fault}
	if drainErr != nil {
		errs = append(errs, fmt.Errorf("restart: fork: %w", drainErr))
	}
	errs = g.release(errs, true)
	if fault == nil && successorDied() {
		// Too late to serve again: cleanup has run. A non-zero exit makes the service
		// manager restart the service instead of taking it for a clean stop.
		errs = append(errs, fmt.Errorf("restart: fork: the new generation (pid %d) died while this "+
			"one was shutting down after its drain: nothing serves on %s", newPID, addr))
	}
	return false, g.stopped(errs)
}

// resume makes this generation serve again on spare, the duplicate of its listening socket
// kept during the drain, after the new generation (deadPID) died. prevDrain yields the result
// of the drain of the server it had, which goes on aside. It returns why it cannot.
func (g *forkGeneration) resume(deadPID int, spare *os.File, spareErr error, prevDrain <-chan error) error {
	if spare == nil {
		return fmt.Errorf("the listening socket was not kept: %w", spareErr)
	}
	ln, err := net.FileListener(spare)
	if err != nil {
		return fmt.Errorf("listen on the kept socket: %w", err)
	}
	opts := g.opts
	opts.OnServe = nil // this generation was counted when it started serving
	g.ln = ln
	g.srv = startServer(g.handler, []net.Listener{ln}, opts)
	g.prevDrain = prevDrain
	g.resumed = true
	if g.pidFile != "" {
		if err := writePIDFile(g.pidFile, g.pid); err != nil {
			g.log.Error("could not rewrite the PID file after resuming", "pid", g.pid, "err", err)
		}
	}
	g.log.Error("the new generation died while this one was draining; serving again",
		"pid", g.pid, "dead_pid", deadPID, "addr", ln.Addr().String())
	return nil
}

// dupListener returns a duplicate of ln's socket: the socket stays open while the duplicate
// is, even once ln is closed, and connections wait in its accept queue.
func dupListener(ln net.Listener) (*os.File, error) {
	f, ok := ln.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("restart: fork: %T has no file descriptor to keep", ln)
	}
	file, err := f.File()
	if err != nil {
		return nil, fmt.Errorf("restart: fork: duplicate listening socket: %w", err)
	}
	return file, nil
}

// watchProcess polls every interval whether pid still exists; gone is closed when it does
// not. stop ends the polling.
func watchProcess(pid int, interval time.Duration) (gone <-chan struct{}, stop func()) {
	goneC := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for processExists(pid) {
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
		close(goneC)
	}()
	var once sync.Once
	return goneC, func() { once.Do(func() { close(quit) }) }
}

// reclaimPIDFile rewrites the PID file with this process's pid after a failed restart. The new
// process writes the PID file just before it reports ready, so one that is killed by the
// ready timeout at that moment leaves the file naming a dead process. The file is rewritten
// (a new file renamed over it) even when it already names this process: that is how the
// unit's ExecReload= tells a failed restart from one still in progress (see
// deploy/*.service).
func (g *forkGeneration) reclaimPIDFile() {
	if g.pidFile == "" {
		return
	}
	current, err := readPIDFile(g.pidFile)
	if err == nil && current > 0 && current != g.pid {
		// Wait for the killed process to be gone, so it cannot rewrite the file after us.
		waitProcessGone(current, pidFileReclaimWait)
	}
	if err := writePIDFile(g.pidFile, g.pid); err != nil {
		g.log.Error("could not rewrite PID file after a failed restart", "pid", g.pid, "err", err)
		return
	}
	if current != g.pid {
		g.log.Warn("PID file rewritten after a failed restart", "pid", g.pid, "stale_pid", current)
	}
}

// absExecutable returns arg0 made absolute when it is a relative path (./app, bin/app).
// A bare name is left alone: it was found through $PATH and is looked up there again.
func absExecutable(arg0 string) string {
	if arg0 == "" || filepath.IsAbs(arg0) || !strings.ContainsRune(arg0, filepath.Separator) {
		return arg0
	}
	abs, err := filepath.Abs(arg0)
	if err != nil {
		return arg0
	}
	return abs
}

// waitProcessGone polls until pid no longer exists, for at most timeout.
func waitProcessGone(pid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && processExists(pid) {
		time.Sleep(20 * time.Millisecond)
	}
}

// processExists reports whether pid names a process (one not yet reaped included) this
// process may signal.
func processExists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	// Signal 0 only checks that the process exists.
	err = p.Signal(syscall.Signal(0))
	_ = p.Release()
	return err == nil
}
