//go:build unix

// The master/worker machinery shared by the strategies whose service manager must see one
// stable process (supervisor: the master it starts; systemd: the main process it started and
// that alone may talk to it). The master holds the listening sockets and runs the application
// in worker child processes of the same binary; Run dispatches on an environment variable
// that the master sets for its workers. Each strategy provides where the sockets come from and
// what the master tells its service manager (masterHooks).

package restart

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"
)

const (
	// roleEnv tells a process started by the master that it is a worker.
	roleEnv    = "RESTART_ROLE"
	roleWorker = "worker"
	// listenersEnv is how many listening sockets a worker inherits (fds 3, 4, ...).
	listenersEnv = "RESTART_LISTENERS"

	// listenerFD is the first descriptor a worker inherits from the master (os/exec
	// ExtraFiles start at 3): the n listening sockets shared by the master and every worker,
	// then the write end of the ready pipe (the worker reports "ready" on it) and the read end
	// of the lifeline pipe (EOF means the master is gone).
	listenerFD = 3

	// masterDefaultTimeout replaces a zero ShutdownTimeout or ReadyTimeout: a zero ready
	// timeout would fail every restart and a zero shutdown timeout would cut every request.
	masterDefaultTimeout = 30 * time.Second

	// A worker that dies on its own is restarted after a delay that starts at
	// backoffMin and doubles on each consecutive failure up to backoffMax.
	// A worker that had served for stableAfter resets the delay.
	backoffMin  = 100 * time.Millisecond
	backoffMax  = 5 * time.Second
	stableAfter = 10 * time.Second

	// killMargin is how long the master waits beyond the drain timeout before it
	// SIGKILLs a worker: the worker's own drain is bounded by ShutdownTimeout, the margin covers
	// the cleanup (closing the database) that follows it.
	killMargin = 5 * time.Second
	// exitWait is how long a worker that closed its ready pipe without reporting
	// ready may take to exit by itself before it is killed.
	exitWait = 2 * time.Second
)

// runMasterWorker runs a process of a master/worker strategy (Supervisor, Systemd): the
// worker when the master started it (the environment says so), else the strategy's master.
func runMasterWorker(ctx context.Context, s Strategy, opts Options, build Build) error {
	if os.Getenv(roleEnv) == roleWorker {
		return runWorker(ctx, opts, build)
	}
	if s == Systemd {
		return runSystemdMaster(ctx, opts)
	}
	return runSupervisorMaster(ctx, opts)
}

// masterHooks is what the master tells its service manager. The supervisor strategy tells
// nothing (its process manager watches the master's pid); the systemd strategy sends sd_notify
// messages. The calls come from the master's loop, one at a time.
type masterHooks interface {
	// serving: a worker (pid) serves: the first one (the service is up), or one started
	// after the previous one died.
	serving(pid int)
	// reloading: a restart was requested (SIGHUP); pid serves meanwhile, 0: no worker does.
	reloading(pid int)
	// reloaded: the requested restarts are over; pid serves (0: no worker does). err is the
	// last one's failure (the old worker kept serving).
	reloaded(pid int, err error)
	// down: no worker serves; why says what the master does about it.
	down(why string)
	// stopping: the master drains its workers (pid serves until then; 0: none) and exits.
	stopping(pid int)
}

// noHooks tells nothing.
type noHooks struct{}

func (noHooks) serving(int)         {}
func (noHooks) reloading(int)       {}
func (noHooks) reloaded(int, error) {}
func (noHooks) down(string)         {}
func (noHooks) stopping(int)        {}

// runMaster runs the master on lns until ctx is cancelled: it writes opts.PIDFile (when set)
// with its own pid, which never changes, starts the first worker, restarts it on SIGHUP (hup)
// and when it dies, and drains it on shutdown. It takes ownership of lns.
func runMaster(ctx context.Context, opts Options, lns []net.Listener, hooks masterHooks, hup <-chan os.Signal) error {
	s, err := newSupervisor(opts, lns...)
	if err != nil {
		return err
	}
	defer s.close()
	s.hooks = hooks
	pid := os.Getpid()
	if opts.PIDFile != "" {
		if err := writePIDFile(opts.PIDFile, pid); err != nil {
			return fmt.Errorf("restart: master: %w", err)
		}
		defer func() {
			if err := removePIDFileIfOwned(opts.PIDFile, pid); err != nil {
				s.log.Warn("could not remove PID file", "pid", pid, "err", err)
			}
		}()
	}
	return s.run(ctx, hup)
}

// masterTimeouts returns the ready and shutdown timeouts with zero values defaulted.
func masterTimeouts(opts Options) (ready, shutdown time.Duration) {
	ready, shutdown = opts.ReadyTimeout, opts.ShutdownTimeout
	if ready <= 0 {
		ready = masterDefaultTimeout
	}
	if shutdown <= 0 {
		shutdown = masterDefaultTimeout
	}
	return ready, shutdown
}
