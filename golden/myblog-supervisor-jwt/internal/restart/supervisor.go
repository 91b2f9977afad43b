//go:build unix

// Supervisor strategy: a master process whose PID never changes (what supervisord, systemd
// Type=simple and Docker expect) holds the listening socket and runs the application in a
// worker child process. SIGHUP makes the master start a new worker from the binary and config
// now on disk, wait until it is ready, then drain the old one. The master never calls Build:
// it opens no database and builds no router.
//
// Both processes run the same binary: Run dispatches on an environment variable that the
// master sets for its workers.

package restart

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const (
	// supervisorRoleEnv tells a process started by the master that it is a worker.
	supervisorRoleEnv    = "RESTART_ROLE"
	supervisorRoleWorker = "worker"

	// File descriptors a worker inherits from the master (os/exec ExtraFiles start at 3).
	supervisorListenerFD = 3 // the listening socket, shared by the master and every worker
	supervisorReadyFD    = 4 // write end of the ready pipe: the worker reports "ready" on it
	supervisorLifeFD     = 5 // read end of the lifeline pipe: EOF means the master is gone

	// supervisorDefaultTimeout replaces a zero ShutdownTimeout or ReadyTimeout: a zero ready
	// timeout would fail every restart and a zero shutdown timeout would cut every request.
	supervisorDefaultTimeout = 30 * time.Second

	// A worker that dies on its own is restarted after a delay that starts at
	// supervisorBackoffMin and doubles on each consecutive failure up to supervisorBackoffMax.
	// A worker that had served for supervisorStableAfter resets the delay.
	supervisorBackoffMin  = 100 * time.Millisecond
	supervisorBackoffMax  = 5 * time.Second
	supervisorStableAfter = 10 * time.Second

	// supervisorKillMargin is how long the master waits beyond the drain timeout before it
	// SIGKILLs a worker: the worker's own drain is bounded by ShutdownTimeout, the margin covers
	// the cleanup (closing the database) that follows it.
	supervisorKillMargin = 5 * time.Second
	// supervisorExitWait is how long a worker that closed its ready pipe without reporting
	// ready may take to exit by itself before it is killed.
	supervisorExitWait = 2 * time.Second
)

// Run serves the application. Started normally it is the supervisor master: it listens on
// opts.Addr, runs build in a worker child process and restarts that worker on SIGHUP or when
// it dies. Started by the master it is that worker. Run returns nil after a clean graceful
// shutdown (ctx cancelled).
func Run(ctx context.Context, opts Options, build Build) error {
	if os.Getenv(supervisorRoleEnv) == supervisorRoleWorker {
		return runSupervisorWorker(ctx, opts, build)
	}
	return runSupervisorMaster(ctx, opts)
}

// runSupervisorMaster is the master side of Run. It deliberately takes no Build.
func runSupervisorMaster(ctx context.Context, opts Options) error {
	// Register SIGHUP before anything else: its default action kills the process, and a
	// reload sent while the first worker starts must not take the service down.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("restart: listen on %s: %w", opts.Addr, err)
	}
	s, err := newSupervisor(opts, ln)
	if err != nil {
		return err
	}
	defer s.close()
	return s.run(ctx, hup)
}

// supervisorTimeouts returns the ready and shutdown timeouts with zero values defaulted.
func supervisorTimeouts(opts Options) (ready, shutdown time.Duration) {
	ready, shutdown = opts.ReadyTimeout, opts.ShutdownTimeout
	if ready <= 0 {
		ready = supervisorDefaultTimeout
	}
	if shutdown <= 0 {
		shutdown = supervisorDefaultTimeout
	}
	return ready, shutdown
}
