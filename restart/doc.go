// Package restart serves an application's HTTP handler and restarts it without losing a
// request. It is the runtime of the projects gingen generates, versioned with gingen:
// a generated main.go loads its settings and calls Run; everything about sockets, processes
// and signals is here.
//
// # Signal contract
//
// Every strategy keeps the same contract:
//
//   - SIGHUP: zero-downtime restart onto the binary and configuration now on disk. The new
//     generation builds its handler (opens its database, reads its routes) while the old one
//     keeps serving; only once the new one serves does the old one stop accepting and drain.
//     A new generation that fails to start, or is not ready within Options.ReadyTimeout,
//     leaves the old one serving, and the failure is logged.
//   - SIGINT, SIGTERM (the ctx given to Run is cancelled): graceful shutdown. The readiness
//     check answers 503 and the server keeps serving for Options.DrainDelay, so that load
//     balancers notice; then it stops accepting, lets in-flight requests finish, bounded by
//     Options.ShutdownTimeout, and Run returns nil.
//   - The serving process logs its pid when it starts serving.
//
// # Guarantees
//
// During a restart no connection is refused (the listening socket is never closed: it is
// handed over, or it is held by a master or by systemd), no accepted request is cut (a
// draining server closes kept-alive connections after their next response, then waits for
// in-flight requests), and no request is answered by a half-started generation (Build
// returns before the generation serves).
//
// # Strategies
//
//   - Fork: the process re-executes the binary on disk and hands it its listening socket
//     (github.com/cloudflare/tableflip); the old process drains and exits, so the pid changes
//     and Options.PIDFile always names the serving process.
//   - Supervisor: the process started by the operator is a master with a stable pid. It
//     holds the socket and runs the application in a worker child process (the same binary,
//     told by an environment variable). On SIGHUP it starts a new worker, waits until it is
//     ready, then drains the old one. For supervisord, Docker, systemd Type=simple.
//   - Systemd: the Supervisor master, with its sockets from systemd's socket activation
//     (LISTEN_FDS) so they outlive any restart, and telling systemd what it does (sd_notify:
//     READY, RELOADING, STOPPING, STATUS). For a Type=notify unit with a .socket unit.
//
// Build runs only in a process that serves requests, never in a master.
package restart
