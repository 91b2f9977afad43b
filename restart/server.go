package restart

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Options configure how a generation serves and restarts.
type Options struct {
	// Addr is the TCP address to listen on when no socket is inherited, e.g. ":8000".
	Addr string
	// PIDFile, when set, names the process to signal: the serving one (fork) or the master.
	PIDFile string
	// ReadTimeout and WriteTimeout are the http.Server timeouts.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take to finish on shutdown.
	ShutdownTimeout time.Duration
	// ReadyTimeout bounds how long a new generation may take to become ready on SIGHUP.
	ReadyTimeout time.Duration
	// DrainDelay is how long a shutdown (SIGTERM/SIGINT, not a SIGHUP restart) keeps serving
	// with /readyz answering 503 before the drain starts (see drain_delay.go).
	DrainDelay time.Duration
	// Logger receives the lifecycle log lines. Nil means slog.Default().
	Logger *slog.Logger
	// ReadHeaderTimeout bounds the wait for a request's headers (0: ReadTimeout), IdleTimeout
	// the wait of a kept-alive connection for its next request (0: ReadTimeout).
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// MaxConns caps the connections each listener serves at once; 0: no cap. At the cap the
	// listener keeps accepting and sheds the connection that has waited longest for its
	// request's headers, or else the slowest request body, never a running request or a
	// registered Stream (shed.go); when none may be shed, new connections wait for room.
	MaxConns int
	// CertFile and KeyFile, when set, are a PEM certificate (chain) and its key: the server
	// speaks TLS on every listener, HTTP/2 and HTTP/1.1. Each generation loads them when it
	// starts, so a restart takes up renewed files, and a generation that cannot load them
	// fails to start (the serving one goes on). A draining generation tells HTTP/2 clients
	// with GOAWAY, and they finish their streams and open new connections.
	CertFile string
	KeyFile  string
	// MaxWorkerCrashes (supervisor and systemd strategies) is how many workers in a row may
	// die on their own, each within 10 s of its start (a crash after it reported ready, or a
	// start that failed), before the master gives up: it drains what is left and Run returns
	// an error naming the last worker's exit status or signal, or its failure report, so the
	// process exits non-zero and the service manager acts on it (systemd's Restart= and
	// StartLimitBurst=, supervisord's startretries). A worker that served 10 s or more resets
	// the count. 0 (or less) means DefaultMaxWorkerCrashes.
	MaxWorkerCrashes int
	// OnServe, if set, is called when this process's generation starts serving, with its
	// restart generation (0 for the first process) and how long the restart that started it
	// took, from the restart request to serving (0 for the first). Metrics record both.
	OnServe func(generation int, handover time.Duration)

	// tls is the configuration loaded from CertFile and KeyFile by withTLS.
	tls *tls.Config
}

// withTLS returns o with its TLS configuration loaded (see tlsConfig). A serving process
// calls it before it builds its handler.
func (o Options) withTLS() (Options, error) {
	cfg, err := o.tlsConfig()
	o.tls = cfg
	return o, err
}

// DefaultMaxWorkerCrashes is Options.MaxWorkerCrashes when it is 0.
const DefaultMaxWorkerCrashes = 5

// Build constructs the handler of one serving generation (opens the database, builds the
// router). cleanup, if not nil, runs after the server has drained. Build is called only in a
// process that serves requests, never in a supervisor master.
type Build func(ctx context.Context) (handler http.Handler, cleanup func() error, err error)

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// closeGrace bounds the first phase of a drain, in which kept-alive connections are closed
// by the server after their next response rather than cut while idle. An idle keep-alive
// connection closed by the server races with a client that is just sending a request on it
// (HTTP/1.1 has no way to warn the client), and clients may only retry idempotent requests;
// letting busy connections end on a response of their own avoids that race for them.
const closeGrace = time.Second

// server is one generation's HTTP server on its listeners.
type server struct {
	http     *http.Server
	lns      []net.Listener
	streams  *streams      // the long-lived responses registered with Stream
	stopped  chan struct{} // closed when every Serve has returned
	err      error         // the first Serve error, nil after a drain; read after stopped
	draining atomic.Bool
	stopping atomic.Bool  // set by DelayDrain: the readiness check answers 503
	open     atomic.Int64 // connections accepted and not yet closed
}

// startServer serves h on every listener in the background.
func startServer(h http.Handler, lns []net.Listener, o Options) *server {
	if o.MaxConns > 0 {
		capped := make([]net.Listener, len(lns))
		for i, ln := range lns {
			capped[i] = newShedListener(ln, o.MaxConns)
		}
		lns = capped
	}
	s := &server{lns: lns, stopped: make(chan struct{}), streams: newStreams()}
	if o.OnServe != nil {
		o.OnServe(currentGeneration(os.Getenv))
	}
	h = notReadyWhileStopping(h, &s.stopping)
	s.http = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor != 1 {
				// HTTP/2 has no "Connection: close": a draining server ends its
				// connections with GOAWAY (Shutdown), and the clients finish their streams.
				trackRequest(h, w, r)
				return
			}
			trackRequest(h, &drainAwareWriter{ResponseWriter: w, draining: &s.draining}, r)
		}),
		BaseContext:       func(net.Listener) context.Context { return s.streams.base(context.Background()) },
		ConnContext:       withConn,
		TLSConfig:         o.tls,
		ReadTimeout:       o.ReadTimeout,
		ReadHeaderTimeout: cmp.Or(o.ReadHeaderTimeout, o.ReadTimeout),
		IdleTimeout:       cmp.Or(o.IdleTimeout, o.ReadTimeout),
		WriteTimeout:      o.WriteTimeout,
		ErrorLog:          slog.NewLogLogger(o.logger().Handler(), slog.LevelWarn),
		ConnState: func(c net.Conn, state http.ConnState) {
			if tc := trackedConnOf(c); tc != nil {
				tc.setState(state)
			}
			switch state {
			case http.StateNew:
				s.open.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.open.Add(-1)
			}
		},
	}
	errs := make(chan error, len(lns))
	serve := s.http.Serve
	if o.tls != nil {
		// ServeTLS serves HTTP/2 besides HTTP/1.1, with the certificate in TLSConfig.
		serve = func(ln net.Listener) error { return s.http.ServeTLS(ln, "", "") }
	}
	for _, ln := range lns {
		go func() {
			err := serve(ln)
			if errors.Is(err, http.ErrServerClosed) || s.draining.Load() {
				// Drain closes the listeners itself, which ends Serve with a "closed" error.
				err = nil
			}
			errs <- err
		}()
	}
	go func() {
		// The first failure stops the generation: the strategy drains the other listeners.
		for range lns {
			if err := <-errs; err != nil && s.err == nil {
				s.err = err
				close(s.stopped)
			}
		}
		if s.err == nil {
			close(s.stopped)
		}
	}()
	return s
}

// Stopped is closed when the server has stopped accepting: once every listener is closed by
// a drain, or as soon as one fails (see Err).
func (s *server) Stopped() <-chan struct{} { return s.stopped }

// Err is why the server stopped accepting: nil after a drain. Valid once Stopped is closed.
func (s *server) Err() error {
	<-s.stopped
	return s.err
}

// Drain stops the server gracefully within timeout: it stops accepting at once (another
// generation, or nobody on shutdown, takes new connections), tells the streams registered
// with Stream to end and waits for them, lets connections close after their next response
// for up to closeGrace, then shuts down, letting in-flight requests finish (HTTP/2
// connections get GOAWAY). Requests still running at the deadline are cut off.
//
// Why not http.Server.Shutdown alone: it closes idle kept-alive connections at once, and it
// closes without an answer a request it reads on a connection accepted just before
// (golang/go#65802); a client may retry neither when the request is a POST. Connections
// that end on a "Connection: close" response of their own are safe.
func (s *server) Drain(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s.draining.Store(true)
	for _, ln := range s.lns {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("drain: close listener %s: %w", ln.Addr(), err)
		}
	}
	// Shutdown must not run before Serve has let go of the listeners: it would close them
	// again and report that as its result.
	select {
	case <-s.stopped:
	case <-ctx.Done():
	}
	// Long-lived responses (Stream) are told to end now, and their ends are waited for
	// within the timeout: Shutdown would wait for a server-sent event stream until the
	// deadline and not at all for a hijacked websocket connection.
	select {
	case <-s.streams.drain():
	case <-ctx.Done():
	}
	grace := time.NewTimer(min(closeGrace, timeout/2))
	defer grace.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for s.open.Load() > 0 {
		select {
		case <-grace.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-tick.C:
		}
	}
	if err := s.http.Shutdown(ctx); err != nil {
		return errors.Join(fmt.Errorf("drain: requests still running after %s were cut off: %w", timeout, err), s.http.Close())
	}
	return nil
}

// drainAwareWriter adds "Connection: close" to a response whose header is written while the
// server drains, so the client closes the connection after it instead of reusing it.
type drainAwareWriter struct {
	http.ResponseWriter
	draining    *atomic.Bool
	wroteHeader bool
}

func (w *drainAwareWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		if w.draining.Load() {
			w.Header().Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *drainAwareWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush and Hijack keep the optional interfaces gin and handlers rely on.
func (w *drainAwareWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *drainAwareWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *drainAwareWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The environment variables through which a generation tells the next one its number and
// when the restart was requested (Unix nanoseconds), for Options.OnServe.
const (
	generationEnv       = "RESTART_GENERATION"
	restartRequestedEnv = "RESTART_REQUESTED_AT"
)

// currentGeneration is this process's restart generation and the time since its restart was
// requested, from the variables the previous generation set: 0 and 0 without them.
func currentGeneration(getenv func(string) string) (int, time.Duration) {
	n, err := strconv.Atoi(getenv(generationEnv))
	if err != nil || n < 0 {
		return 0, 0
	}
	at, err := strconv.ParseInt(getenv(restartRequestedEnv), 10, 64)
	if err != nil {
		return n, 0
	}
	return n, max(time.Since(time.Unix(0, at)), 0)
}

// nextGenerationEnv returns env for the process of restart generation n, requested at
// requested: the two variables set once each.
func nextGenerationEnv(env []string, n int, requested time.Time) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if name != generationEnv && name != restartRequestedEnv {
			out = append(out, kv)
		}
	}
	return append(out, generationEnv+"="+strconv.Itoa(n), restartRequestedEnv+"="+strconv.FormatInt(requested.UnixNano(), 10))
}

// nextGeneration is the restart generation of the process that takes over from this one.
func nextGeneration() int {
	n, _ := currentGeneration(os.Getenv)
	return n + 1
}

// markNextGeneration sets, in this process's environment, the variables of the generation
// that follows it, for a strategy whose library starts the next process with this
// environment (tableflip). restore puts the previous values back: call it when no next
// generation took over, so that this process keeps its own number.
func markNextGeneration(requested time.Time) (restore func(), err error) {
	set := map[string]string{generationEnv: strconv.Itoa(nextGeneration()), restartRequestedEnv: strconv.FormatInt(requested.UnixNano(), 10)}
	old := map[string]string{}
	for name := range set {
		if v, ok := os.LookupEnv(name); ok {
			old[name] = v
		}
	}
	restore = func() {
		for name := range set {
			if v, ok := old[name]; ok {
				_ = os.Setenv(name, v) // the name is valid: it was set before
			} else {
				_ = os.Unsetenv(name)
			}
		}
	}
	for name, v := range set {
		if err := os.Setenv(name, v); err != nil {
			restore()
			return nil, fmt.Errorf("restart: set %s: %w", name, err)
		}
	}
	return restore, nil
}
