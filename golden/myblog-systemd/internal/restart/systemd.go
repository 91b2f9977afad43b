package restart

// The systemd strategy: socket activation plus sd_notify.
//
//   - The listening sockets come from systemd (LISTEN_FDS, read with go-systemd's activation
//     package). Without socket activation (development) the process listens on Options.Addr.
//   - systemd is told READY=1 once the process serves, STOPPING=1 when it drains on
//     SIGTERM/SIGINT and RELOADING=1 when a SIGHUP starts a reload. Without NOTIFY_SOCKET the
//     notifications are no-ops.
//   - SIGHUP (systemctl reload) starts a new process from the binary now on disk and hands it
//     the listening sockets with the very same protocol systemd uses (LISTEN_FDS at fd 3, and
//     LISTEN_PID = the pid of the new process, set by "/bin/sh -c 'exec ...'", which keeps its
//     pid across exec). Both processes then run a two-step hand-over over two pipes (see
//     systemd_handover.go): the new process says "ready" once it has built its handler, the old
//     one answers "commit", tells systemd "MAINPID=<new pid>" + READY=1, and drains.
//
// Why the OLD process sends MAINPID=: systemd accepts a notification only from the processes
// NotifyAccess= allows (main: the main pid only; all: any process of the unit), see
// service_notify_message_authorized() in systemd's src/core/service.c. Sent by the current main
// process, MAINPID= works with the strict NotifyAccess=main, and the process that decides
// whether the hand-over happens (the old one) is the one that moves the main pid: systemd never
// names as main pid a process that is about to be killed for being late, and the new main pid
// is known to systemd before the old process exits (were it the other way round, systemd would
// see its main process exit and stop the whole unit).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"
)

const (
	// defaultShutdownTimeout and defaultReadyTimeout apply when Options leaves them zero.
	defaultShutdownTimeout = 30 * time.Second
	defaultReadyTimeout    = 30 * time.Second
)

// Run serves the handler returned by build on the systemd-activated sockets (or on opts.Addr
// when not socket-activated) until ctx is cancelled (graceful shutdown, STOPPING=1) or a SIGHUP
// hands the sockets over to a new process running the binary now on disk. It returns nil once
// this process has drained cleanly, in both cases.
func Run(ctx context.Context, opts Options, build Build) error {
	opts = systemdDefaults(opts)
	log := opts.logger()
	n := notifier{log: log}

	// Register SIGHUP first: its default action kills the process, and a reload requested while
	// this process builds its handler must not kill it (it is handled once serving).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// Resolve the path of the binary now, before anything could change the working directory.
	exe, err := executablePath()
	if err != nil {
		return err
	}
	// A process started by a reload reads its hand-over pipes (and unsets their variables)
	// before the listeners, so that nothing started later inherits them.
	ho, err := takeHandover()
	if err != nil {
		return err
	}
	if ho != nil {
		defer ho.close()
	}
	lns, err := systemdListeners(opts.Addr)
	if err != nil {
		return err
	}
	closeListeners := func() {
		for _, ln := range lns.listeners {
			_ = ln.Close()
		}
	}
	if ho != nil && !lns.activated {
		// Started by a reload but without the sockets (LISTEN_PID mismatch): serving on a
		// socket of our own would not be a hand-over. The previous generation keeps serving.
		closeListeners()
		return errors.New("restart: started by a reload but no socket was passed (LISTEN_PID/LISTEN_FDS)")
	}

	handler, cleanup, err := build(ctx)
	if err != nil {
		closeListeners()
		return fmt.Errorf("restart: build: %w", err)
	}
	if ho != nil {
		// Tell the previous generation we are ready and wait for it to commit the hand-over.
		// Nothing has been accepted yet: if the hand-over is aborted, connections simply stay
		// in the socket backlog for the previous generation.
		if err := ho.awaitCommit(ctx, opts.ReadyTimeout); err != nil {
			closeListeners()
			return errors.Join(err, runCleanup(cleanup))
		}
	}

	srv := startServer(handler, lns.listeners, opts)
	log.Info("serving", "pid", os.Getpid(), "addrs", lns.addrs(), "socket_activated", lns.activated,
		"handed_over", ho != nil)
	if ho == nil {
		// First start: systemd waits for this to consider the unit started. After a reload the
		// previous generation has already sent MAINPID=<this pid> together with READY=1.
		n.notify(daemon.SdNotifyReady)
	}

	var parentGone <-chan struct{}
	if ho != nil {
		parentGone = ho.parentGone()
	}
	g := &systemdGeneration{
		opts: opts, log: log, notifier: n, exe: exe, lns: lns, srv: srv, cleanup: cleanup,
	}
	return g.loop(ctx, hup, parentGone)
}

// systemdGeneration is the state of the serving process between its start and its exit.
type systemdGeneration struct {
	opts     Options
	log      *slog.Logger
	notifier notifier
	exe      string
	lns      activatedListeners
	srv      *server
	cleanup  func() error
}

// reloadResult is what a reload attempt running in the background reports to the loop.
type reloadResult struct {
	child *childProcess
	err   error
}

// loop handles signals and the outcome of reloads until this process stops serving.
func (g *systemdGeneration) loop(ctx context.Context, hup <-chan os.Signal, parentGone <-chan struct{}) error {
	var (
		reloading    bool
		pending      bool // a SIGHUP arrived while the previous generation was still draining
		cancelReload context.CancelFunc
		reloadDone   = make(chan reloadResult, 1)
	)
	startReload := func() {
		reloading = true
		var rctx context.Context
		rctx, cancelReload = context.WithCancel(ctx)
		g.notifier.notify(reloadingState())
		g.log.Info("reload: starting new generation", "pid", os.Getpid(), "binary", g.exe)
		go func() {
			child, err := startChild(rctx, g.exe, g.lns, g.opts.ReadyTimeout, g.log)
			reloadDone <- reloadResult{child: child, err: err}
		}()
	}
	defer func() {
		if cancelReload != nil {
			cancelReload()
		}
	}()

	for {
		select {
		case <-ctx.Done():
			if reloading {
				// Stop the reload first: the new process must not outlive us half-started.
				cancelReload()
				if res := <-reloadDone; res.child != nil {
					res.child.abort(g.log)
				}
			}
			g.log.Info("shutting down: draining", "pid", os.Getpid(), "timeout", g.opts.ShutdownTimeout)
			g.notifier.notify(daemon.SdNotifyStopping)
			// Keep accepting until load balancers have seen /readyz fail (DrainDelay).
			g.srv.DelayDrain(context.Background(), g.opts.DrainDelay, g.log)
			return g.shutdown()

		case <-g.srv.Stopped():
			// A listener failed: this process cannot serve any more; let systemd restart it.
			err := g.srv.Err()
			g.log.Error("serve failed", "pid", os.Getpid(), "err", err)
			g.notifier.notify(daemon.SdNotifyStopping)
			return errors.Join(fmt.Errorf("restart: serve: %w", err), g.shutdown())

		case <-hup:
			switch {
			case reloading:
				g.log.Warn("reload: SIGHUP ignored, a reload is already in progress", "pid", os.Getpid())
			case parentGone != nil:
				// Our previous generation is still draining: starting another process now
				// would stack a third generation. Run the reload once it has exited.
				pending = true
				g.log.Warn("reload: previous generation still draining, reload deferred until it exits",
					"pid", os.Getpid())
			default:
				startReload()
			}

		case <-parentGone:
			parentGone = nil
			g.log.Info("reload: previous generation exited", "pid", os.Getpid())
			if pending {
				pending = false
				startReload()
			}

		case res := <-reloadDone:
			reloading = false
			cancelReload()
			if res.err != nil {
				g.log.Error("reload failed, this generation keeps serving", "pid", os.Getpid(), "err", res.err)
				// Close the RELOADING=1 state: we are still the (ready) main process.
				g.notifier.notify(daemon.SdNotifyReady)
				continue
			}
			if err := res.child.commit(); err != nil {
				g.log.Error("reload failed, this generation keeps serving", "pid", os.Getpid(), "err", err)
				res.child.abort(g.log)
				g.notifier.notify(daemon.SdNotifyReady)
				continue
			}
			// From here on the new process serves too, and is the unit's main process once
			// systemd has read this datagram (sent before we stop accepting or exit).
			g.notifier.notify(fmt.Sprintf("MAINPID=%d\n%s", res.child.pid, daemon.SdNotifyReady))
			g.log.Info("reload: handed over, draining", "pid", os.Getpid(), "new_pid", res.child.pid,
				"timeout", g.opts.ShutdownTimeout)
			// No STOPPING=1 here: we are no longer the main process, and with NotifyAccess=all
			// a STOPPING=1 from us would stop the whole unit.
			err := g.shutdown()
			// Closing the commit pipe tells the new generation we are gone (it then accepts
			// the next SIGHUP); the process exit would do it too, this is just sooner.
			res.child.release()
			return err
		}
	}
}

// shutdown drains the server (bounded by ShutdownTimeout) and runs the cleanup.
func (g *systemdGeneration) shutdown() error {
	// The ctx given to Run is already cancelled here (it is what asked for the shutdown):
	// the drain gets its own, bounded by ShutdownTimeout.
	err := errors.Join(g.srv.Drain(context.Background(), g.opts.ShutdownTimeout), runCleanup(g.cleanup))
	if err != nil {
		return fmt.Errorf("restart: shutdown: %w", err)
	}
	g.log.Info("drained, exiting", "pid", os.Getpid())
	return nil
}

func runCleanup(cleanup func() error) error {
	if cleanup == nil {
		return nil
	}
	if err := cleanup(); err != nil {
		return fmt.Errorf("restart: cleanup: %w", err)
	}
	return nil
}

func systemdDefaults(o Options) Options {
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = defaultShutdownTimeout
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = defaultReadyTimeout
	}
	return o
}

// activatedListeners are the listening sockets of this process.
type activatedListeners struct {
	listeners []net.Listener
	// fdNames is LISTEN_FDNAMES as systemd set it ("" when not activated), passed on unchanged
	// to the next generation.
	fdNames string
	// activated is true when the sockets came from LISTEN_FDS (systemd or a previous
	// generation), false when this process listened on Options.Addr itself.
	activated bool
}

func (a activatedListeners) addrs() []string {
	out := make([]string, 0, len(a.listeners))
	for _, ln := range a.listeners {
		out = append(out, ln.Addr().String())
	}
	return out
}

// systemdListeners returns the socket-activated listeners or, when the process is not
// socket-activated, a listener of its own on addr.
func systemdListeners(addr string) (activatedListeners, error) {
	names := os.Getenv("LISTEN_FDNAMES")
	// Files(true) checks LISTEN_PID against our pid, sets FD_CLOEXEC on the fds and unsets
	// LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES, so that no child process inherits them by accident
	// (a child would otherwise take fd 3.. for sockets).
	files := activation.Files(true)
	if len(files) == 0 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return activatedListeners{}, fmt.Errorf("restart: listen on %s: %w", addr, err)
		}
		return activatedListeners{listeners: []net.Listener{ln}}, nil
	}
	out := activatedListeners{fdNames: names, activated: true}
	for _, f := range files {
		ln, err := net.FileListener(f)
		// FileListener works on a dup: the inherited descriptor is not needed any more.
		_ = f.Close()
		if err != nil {
			for _, l := range out.listeners {
				_ = l.Close()
			}
			return activatedListeners{}, fmt.Errorf(
				"restart: socket-activated fd %s is not a stream listening socket (use ListenStream=): %w",
				f.Name(), err)
		}
		out.listeners = append(out.listeners, ln)
	}
	return out, nil
}

// notifier sends sd_notify datagrams to systemd; without NOTIFY_SOCKET it does nothing.
type notifier struct {
	log *slog.Logger
}

func (n notifier) notify(state string) {
	// unsetEnvironment=false: NOTIFY_SOCKET must stay in the environment, the next generation
	// (started on SIGHUP) sends its own notifications once it is the main process.
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Warn("sd_notify failed", "state", strings.ReplaceAll(state, "\n", " "), "err", err)
	}
}

// reloadingState is RELOADING=1 with the CLOCK_MONOTONIC timestamp systemd (>= 253) requires to
// match it with the reload it requested (Type=notify-reload); older versions ignore the field.
func reloadingState() string {
	if usec, ok := monotonicUsec(); ok {
		return daemon.SdNotifyReloading + "\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10)
	}
	return daemon.SdNotifyReloading
}
