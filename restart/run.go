package restart

import (
	"context"
	"fmt"
)

// Strategy is how a service restarts on SIGHUP. See the package documentation.
type Strategy string

// The strategies.
const (
	// Fork re-executes the binary on disk and hands it the listening sockets (tableflip); the
	// old process drains and exits. The PID file follows the serving process.
	Fork Strategy = "fork"
	// Supervisor keeps a master process with a stable pid that owns the sockets and runs the
	// application in worker processes, replacing the worker on SIGHUP.
	Supervisor Strategy = "supervisor"
	// Systemd is Supervisor with the sockets taken from systemd's socket activation
	// (LISTEN_FDS) and the master telling systemd what it does (sd_notify).
	Systemd Strategy = "systemd"
)

// Strategies lists every strategy, in the order documentation presents them.
func Strategies() []Strategy { return []Strategy{Fork, Supervisor, Systemd} }

// Run serves the handlers build makes, restarting with strategy s on SIGHUP and draining
// gracefully when ctx is cancelled (wire ctx to SIGINT and SIGTERM). It returns nil after a
// clean graceful shutdown. In a master process (Supervisor, Systemd) build is never called.
func Run(ctx context.Context, s Strategy, opts Options, build Build) error {
	switch s {
	case Fork:
		return runFork(ctx, opts, build)
	case Supervisor, Systemd:
		return runMasterWorker(ctx, s, opts, build)
	}
	return fmt.Errorf("restart: unknown strategy %q (want fork, supervisor or systemd)", s)
}
