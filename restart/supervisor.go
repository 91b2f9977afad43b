//go:build unix

// Supervisor strategy: a master process whose PID never changes (what supervisord, systemd
// Type=simple and Docker expect) holds the listening socket and runs the application in a
// worker child process. SIGHUP makes the master start a new worker from the binary and config
// now on disk, wait until it is ready, then drain the old one. The master never calls Build:
// it opens no database and builds no router. The machinery is in master.go and
// worker.go.
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
)

// runSupervisorMaster is the supervisor strategy's master (runMasterWorker): it listens on
// opts.Addr and runs the application in worker child processes, restarting the worker on
// SIGHUP or when it dies. It deliberately takes no Build.
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
	return runMaster(ctx, opts, []net.Listener{ln}, noHooks{}, hup)
}
