//go:build unix

package restart

// The systemd strategy: socket activation, sd_notify, and a main process that never changes.
//
//   - The process systemd starts (ExecStart) is the master and stays the unit's main process
//     for its whole life. It takes the listening sockets from systemd (LISTEN_FDS, read with
//     go-systemd's activation package; without socket activation, in development, it listens
//     on Options.Addr itself) and runs the application in a worker child process, exactly as
//     the supervisor strategy's master does (master.go, worker.go).
//   - Only the master talks to systemd (NotifyAccess=main): READY=1 once the first worker
//     serves; on SIGHUP (systemctl reload) RELOADING=1 with MONOTONIC_USEC=, then a new worker
//     from the binary and config now on disk, then READY=1 once it serves (or once the attempt
//     failed and the old worker kept serving); STOPPING=1 when it drains on SIGTERM/SIGINT.
//     Workers never see NOTIFY_SOCKET.
//
// Why a stable master rather than handing the sockets to a new main process (MAINPID=): a
// process started by the old main process is not systemd's child. systemd 252 logs
// "Supervising process N which is not our child", cannot wait for it, and on the next stop
// SIGKILLs it right after SIGTERM, cutting its in-flight requests. Every worker here is the
// master's child, every worker is in the unit's cgroup, and on stop the master drains its
// workers before it exits. The unit uses KillMode=control-group: the workers get systemd's
// SIGTERM too (harmless: they drain once, and the master, stopping, does not restart them),
// and, should the master be killed, its draining worker is not SIGKILLed at once as
// KillMode=mixed would do with no main process left to wait for. It is the model HAProxy's
// master-worker mode uses under systemd.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// runSystemdMaster is the systemd strategy's master (runMasterWorker): started by systemd (or
// by hand), it takes the socket-activated listeners (or listens on opts.Addr), runs the
// application in worker child processes and tells systemd what it does. It deliberately
// takes no Build.
func runSystemdMaster(ctx context.Context, opts Options) error {
	// Register SIGHUP first: its default action kills the process, and a reload requested
	// while the first worker starts must not take the service down.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	log := opts.logger().With("role", "master")
	lns, activated, err := systemdListeners(opts.Addr)
	if err != nil {
		return err
	}
	addrs := make([]string, 0, len(lns))
	for _, ln := range lns {
		addrs = append(addrs, ln.Addr().String())
	}
	log.Info("systemd master listening", "pid", os.Getpid(), "addrs", addrs, "socket_activated", activated)
	return runMaster(ctx, opts, lns, sdNotifier{log: log}, hup)
}

// systemdListeners returns the socket-activated listeners or, when the process is not
// socket-activated, a listener of its own on addr.
func systemdListeners(addr string) (lns []net.Listener, activated bool, err error) {
	// Files(true) checks LISTEN_PID against our pid, sets FD_CLOEXEC on the fds and unsets
	// LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES, so that no worker inherits them by accident.
	files := activation.Files(true)
	if len(files) == 0 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, false, fmt.Errorf("restart: listen on %s: %w", addr, err)
		}
		return []net.Listener{ln}, false, nil
	}
	for _, f := range files {
		ln, err := net.FileListener(f)
		// FileListener works on a dup: the inherited descriptor is not needed any more.
		_ = f.Close()
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, false, fmt.Errorf(
				"restart: socket-activated fd %s is not a stream listening socket (use ListenStream=): %w",
				f.Name(), err)
		}
		lns = append(lns, ln)
	}
	return lns, true, nil
}

// sdNotifier tells systemd what the master does; without NOTIFY_SOCKET it does nothing.
type sdNotifier struct {
	log *slog.Logger
}

func (n sdNotifier) serving(pid int) {
	n.notify(daemon.SdNotifyReady, "STATUS="+servingStatus(pid))
}

// servingStatus is the STATUS= text naming the serving worker, or saying that none serves.
func servingStatus(pid int) string {
	if pid <= 0 {
		return "no worker serving"
	}
	return "serving (worker " + strconv.Itoa(pid) + ")"
}

func (n sdNotifier) reloading(pid int) {
	// MONOTONIC_USEC= lets systemd >= 253 (Type=notify-reload) match this with the reload
	// it asked for; older versions ignore the field.
	state := []string{daemon.SdNotifyReloading, "STATUS=" + servingStatus(pid) + "; reloading: starting a new worker"}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		state = append(state, "MONOTONIC_USEC="+strconv.FormatInt(ts.Nano()/1000, 10))
	}
	n.notify(state...)
}

func (n sdNotifier) reloaded(pid int, err error) {
	status := "STATUS=" + servingStatus(pid)
	if err != nil {
		// The reload failed; the old worker, if any, serves. The journal has why.
		status += "; last reload failed, see the journal"
	}
	n.notify(daemon.SdNotifyReady, status)
}

func (n sdNotifier) down(why string) {
	n.notify("STATUS=" + servingStatus(0) + ": " + why)
}

func (n sdNotifier) stopping(pid int) {
	status := "STATUS=stopping: no worker serving"
	if pid > 0 {
		status = "STATUS=stopping: draining worker " + strconv.Itoa(pid)
	}
	n.notify(daemon.SdNotifyStopping, status)
}

func (n sdNotifier) notify(fields ...string) {
	// unsetEnvironment=false: the master notifies for its whole life. Workers never get
	// NOTIFY_SOCKET (workerEnv drops it).
	state := strings.Join(fields, "\n")
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Warn("sd_notify failed", "state", strings.ReplaceAll(state, "\n", " "), "err", err)
	}
}
