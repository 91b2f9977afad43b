package restart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
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

	// Build before Ready: the previous generation keeps serving until this one has its router
	// and database, and a build that fails makes the restart fail instead of dropping traffic.
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
	cleanup func() error
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

		case <-upg.Exit():
			// Closed after a successful Upgrade (Stop is only called on the path above).
			attrs := []any{"pid", g.pid, "shutdown_timeout", g.opts.ShutdownTimeout}
			if g.pidFile != "" {
				// The new generation wrote its pid before reporting ready.
				if newPID, err := readPIDFile(g.pidFile); err == nil {
					attrs = append(attrs, "new_pid", newPID)
				}
			}
			g.log.Info("replaced by a new generation; draining", attrs...)
			return g.stop(nil, true, hup)

		case <-g.srv.Stopped():
			// Serve only stops on its own when accepting fails; requests already accepted
			// still get their drain.
			err := g.srv.Err()
			g.log.Error("server stopped unexpectedly", "pid", g.pid, "err", err)
			return g.stop(fmt.Errorf("restart: fork: serve: %w", err), false, hup)

		case <-hup:
			switch {
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
	errs := []error{cause}

	// SIGHUP stays subscribed until Run returns (its default action would kill the process
	// in the middle of its drain); say why it has no effect now.
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		for {
			select {
			case <-hup:
				g.log.Warn("ignoring SIGHUP: this generation is stopping", "pid", g.pid)
			case <-stopped:
				return
			}
		}
	}()

	if err := g.srv.Drain(context.Background(), g.opts.ShutdownTimeout); err != nil {
		errs = append(errs, fmt.Errorf("restart: fork: %w", err))
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
	err := errors.Join(errs...)
	if err != nil {
		g.log.Error("stopped", "pid", g.pid, "err", err)
	} else {
		g.log.Info("stopped", "pid", g.pid)
	}
	return err
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
	for time.Now().Before(deadline) {
		p, err := os.FindProcess(pid)
		if err != nil {
			return
		}
		// Signal 0 only checks that the process exists (and is not yet reaped).
		err = p.Signal(syscall.Signal(0))
		_ = p.Release()
		if err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
