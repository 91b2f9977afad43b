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
// # TLS and long-lived responses
//
// With Options.CertFile and KeyFile the server speaks TLS, HTTP/2 and HTTP/1.1. Each
// generation loads the pair when it starts, so a restart takes up renewed certificates, and a
// pair that does not load fails the new generation, leaving the old one serving. A draining
// generation closes HTTP/1.1 connections after their next response and sends HTTP/2 clients
// GOAWAY: they finish their streams and go on with the next generation.
//
// Handlers of server-sent event streams and websockets call Stream: the drain tells them to
// end (SSE: a last "retry:"; websocket: close status 1012, service restart) and waits for
// them, bounded by Options.ShutdownTimeout, so that clients reconnect to the new generation at
// once instead of being cut at the deadline, and hijacked connections are not cut at exit.
//
// # After a fault
//
// Every fault ends with the service serving, or with the process exiting non-zero so that
// its service manager acts (systemd's Restart= and StartLimitBurst=, supervisord's
// autorestart); never with a clean exit and nothing serving.
//
//   - Fork, the new generation dies before it is ready: the old one kills it if needed, keeps
//     serving and logs the failure; the PID file is rewritten with its pid.
//   - Fork, the new generation dies after it was ready, while the old one drains: the old one
//     kept a duplicate of the listening socket (not accepting on it, so connections wait in
//     its backlog), notices the death within 50ms (it polls the pid the PID file names),
//     serves again on that socket, finishes its in-flight requests, rewrites the PID file and
//     logs an error naming the dead pid. It cannot hand over again (one hand-over per
//     process): later SIGHUPs are refused with an error and the PID file is rewritten, so the
//     unit's ExecReload= fails. If the death comes after its drain, once its cleanup has run,
//     Run returns an error naming the dead pid. Without Options.PIDFile the new generation is
//     not watched.
//   - Fork, the serving process dies (kill -9, OOM): the socket dies with it (no other process
//     holds it); the service manager starts a new one, and connections are refused meanwhile.
//   - Supervisor and Systemd, a worker dies: the master starts a new one after a backoff
//     (100ms doubling to 5s, reset by a worker that served 10s); connections wait in the
//     socket's backlog. After Options.MaxWorkerCrashes workers in a row failed within 10s of
//     their start (crashed, or failed to become ready), the master gives up: Run returns an
//     error naming the last one's exit status or signal, or its failure report. The systemd
//     master's STATUS= always names the serving worker, or says that none serves and why
//     ("no worker serving: restarting in 400ms after worker 1234 exited (exit status 2)
//     after 2.1s, fast failure 3 of 5").
//   - Supervisor and Systemd, the master dies (kill -9, OOM): the worker sees its lifeline
//     close and drains its in-flight requests, bounded by ShutdownTimeout, then exits (the
//     units use KillMode=control-group, so systemd sends it SIGTERM rather than SIGKILL).
//     With Systemd the socket belongs to systemd and outlives the master: connections wait
//     in its backlog for the next master's worker. With Supervisor the socket closes with the
//     master and its worker: connections are refused until the new master listens.
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
