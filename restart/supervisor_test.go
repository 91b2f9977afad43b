//go:build unix

package restart

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the worker: the master under test (running inside the test
// process) re-executes os.Args[0] with RESTART_ROLE=worker, and TestMain routes that to Run.
// supervisorTestModeEnv selects how the worker's Build behaves; the master passes its
// environment at spawn time, so t.Setenv changes the next worker only.
const supervisorTestModeEnv = "RESTART_SUPERVISOR_TEST_MODE"

// supervisorTestTLSEnv names a folder with cert.pem and key.pem the worker serves TLS with;
// supervisorTestShutdownEnv overrides the worker's ShutdownTimeout.
const (
	supervisorTestTLSEnv      = "RESTART_SUPERVISOR_TEST_TLS"
	supervisorTestShutdownEnv = "RESTART_SUPERVISOR_TEST_SHUTDOWN"
)

func supervisorTestWorker() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := Options{ShutdownTimeout: 5 * time.Second, Logger: logger}
	if d, err := time.ParseDuration(os.Getenv(supervisorTestShutdownEnv)); err == nil {
		opts.ShutdownTimeout = d
	}
	if dir := os.Getenv(supervisorTestTLSEnv); dir != "" {
		opts.CertFile, opts.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	}
	if err := Run(ctx, Supervisor, opts, supervisorTestBuild); err != nil {
		fmt.Fprintln(os.Stderr, "test worker:", err)
		return 1
	}
	return 0
}

func supervisorTestBuild(ctx context.Context) (http.Handler, func() error, error) {
	switch mode := os.Getenv(supervisorTestModeEnv); mode {
	case "fail":
		return nil, nil, errors.New("build fails on purpose")
	case "hang":
		<-ctx.Done()
		return nil, nil, ctx.Err()
	case "slow":
		time.Sleep(300 * time.Millisecond)
	case "crash":
		crashSoon()
	case "":
	default:
		return nil, nil, fmt.Errorf("unknown test mode %q", mode)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})
	mux.HandleFunc("GET /events", testEvents)
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		time.Sleep(d)
		fmt.Fprint(w, os.Getpid())
	})
	return mux, nil, nil
}

// testCrashAfter is how long after its build a worker in "crash" mode exits with status 2:
// a build that crashes shortly after it reported ready.
const testCrashAfter = 200 * time.Millisecond

// crashSoon makes the process exit with status 2 testCrashAfter from now.
func crashSoon() {
	go func() {
		time.Sleep(testCrashAfter)
		fmt.Fprintln(os.Stderr, "test worker: crashing on purpose")
		os.Exit(2)
	}()
}

// syncBuffer collects the master's log lines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testMaster struct {
	t      *testing.T
	s      *supervisor
	base   string
	client *http.Client // nil: freshTestClient
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	result *error
}

// startTestMaster runs a supervisor master on a loopback port in this process (no SIGHUP
// handling: restarts go through s.restart) and waits until its first worker serves.
func startTestMaster(t *testing.T, opts Options) *testMaster {
	t.Helper()
	return startTestMasterWith(t, opts, "http", nil)
}

// startTestMasterTLS is startTestMaster for workers serving TLS (supervisorTestTLSEnv) with a
// certificate of roots.
func startTestMasterTLS(t *testing.T, roots *x509.CertPool) *testMaster {
	t.Helper()
	return startTestMasterWith(t, Options{}, "https", &http.Client{Timeout: 5 * time.Second, Transport: tlsTransport(roots, false, false)})
}

// startTestMasterWith is startTestMaster with the scheme the workers serve and the client
// that asks them their pid (nil: freshTestClient).
func startTestMasterWith(t *testing.T, opts Options, scheme string, client *http.Client) *testMaster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 5 * time.Second
	}
	s, err := newSupervisor(opts, ln)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &testMaster{t: t, s: s, base: scheme + "://" + s.addr, client: client, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- s.run(ctx, nil) }()
	t.Cleanup(func() {
		if m.result == nil {
			_ = m.shutdown()
		}
		s.close()
		t.Logf("master log:\n%s", logs)
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := m.pid(); err == nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("first worker not serving within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shutdown cancels the master's context and returns what run returned (bounded).
func (m *testMaster) shutdown() error {
	m.t.Helper()
	m.cancel()
	select {
	case err := <-m.done:
		m.result = &err
		return err
	case <-time.After(20 * time.Second):
		m.t.Fatal("master did not stop within 20s")
		return nil
	}
}

// freshTestClient opens a new connection for every request.
func freshTestClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// pid asks the serving worker for its pid over a fresh connection.
func (m *testMaster) pid() (int, error) {
	client := m.client
	if client == nil {
		client = freshTestClient()
	}
	resp, err := client.Get(m.base + "/pid")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return strconv.Atoi(string(body))
}

func (m *testMaster) mustPID() int {
	m.t.Helper()
	pid, err := m.pid()
	if err != nil {
		m.t.Fatalf("GET /pid: %v", err)
	}
	return pid
}

// waitNewPID polls until a worker other than old answers, and returns its pid.
func (m *testMaster) waitNewPID(old int, within time.Duration) int {
	m.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if pid, err := m.pid(); err == nil && pid != old {
			return pid
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("no worker other than %d served within %s", old, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGone waits until pid no longer exists.
func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists after %s", pid, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type loadResult struct {
	ok, failed int64
	errs       []string
}

// startLoad runs clients GET loops against url until the returned stop is called: half share
// a keep-alive transport, half open a fresh connection per request. Every error and every
// non-200 counts as a failure.
func startLoad(url string, clients int) (stop func() loadResult) {
	return startLoadWith(url, clients, func(keepAlive bool) *http.Transport {
		if keepAlive {
			return &http.Transport{MaxIdleConnsPerHost: clients}
		}
		return &http.Transport{DisableKeepAlives: true}
	})
}

// startLoadWith is startLoad with the clients' transports made by transport: one with
// keep-alive (shared by half the clients), one without.
func startLoadWith(url string, clients int, transport func(keepAlive bool) *http.Transport) (stop func() loadResult) {
	var (
		ok, failed atomic.Int64
		mu         sync.Mutex
		errs       []string
		wg         sync.WaitGroup
		quit       = make(chan struct{})
	)
	keepAlive := &http.Client{Timeout: 5 * time.Second, Transport: transport(true)}
	fresh := &http.Client{Timeout: 5 * time.Second, Transport: transport(false)}
	for i := range clients {
		client := keepAlive
		if i%2 == 1 {
			client = fresh
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-quit:
					return
				default:
				}
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if len(errs) < 10 {
						errs = append(errs, err.Error())
					}
					mu.Unlock()
				} else {
					ok.Add(1)
				}
				time.Sleep(2 * time.Millisecond) // keep the load small: the machine is shared
			}
		}()
	}
	return func() loadResult {
		close(quit)
		wg.Wait()
		keepAlive.CloseIdleConnections()
		return loadResult{ok: ok.Load(), failed: failed.Load(), errs: errs}
	}
}

func assertNoFailures(t *testing.T, res loadResult) {
	t.Helper()
	t.Logf("load: %d requests ok, %d failed", res.ok, res.failed)
	if res.failed != 0 {
		t.Errorf("%d requests failed, first errors: %q", res.failed, res.errs)
	}
	if res.ok == 0 {
		t.Error("no request succeeded")
	}
}

func TestSupervisorServesInWorkerAndShutdownDrains(t *testing.T) {
	m := startTestMaster(t, Options{})
	pid := m.mustPID()
	if pid == os.Getpid() {
		t.Fatalf("served by the master (pid %d), want a worker", pid)
	}

	// A request in flight when shutdown starts must complete.
	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := freshTestClient().Get(m.base + "/slow?d=800ms")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{string(b), err}
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := m.shutdown(); err != nil {
		t.Fatalf("run returned %v, want nil after a clean drain", err)
	}
	if waited := time.Since(start); waited < 400*time.Millisecond {
		t.Errorf("shutdown returned after %s, before the in-flight request could finish", waited)
	}
	r := <-slow
	if r.err != nil || r.body != strconv.Itoa(pid) {
		t.Fatalf("in-flight request: body %q err %v, want %d", r.body, r.err, pid)
	}
	waitGone(t, pid, 5*time.Second)
	m.s.close()
	if c, err := net.DialTimeout("tcp", m.s.addr, time.Second); err == nil {
		c.Close()
		t.Error("port still accepts connections after shutdown")
	}
}

func TestSupervisorRestartSwitchesWorkerWithoutFailedRequest(t *testing.T) {
	m := startTestMaster(t, Options{})
	pid := m.mustPID()
	stop := startLoad(m.base+"/pid", 8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 2 {
		time.Sleep(200 * time.Millisecond)
		if err := m.s.restart(ctx); err != nil {
			t.Fatalf("restart: %v", err)
		}
		// The old worker was told to drain when restart returned; until it has closed its
		// copy of the socket it may still accept a connection (and serve it).
		waitGone(t, pid, 10*time.Second)
		next := m.mustPID()
		if next == pid {
			t.Fatalf("still served by %d after restart", pid)
		}
		pid = next
	}
	time.Sleep(200 * time.Millisecond)
	assertNoFailures(t, stop())

	// The listening socket is shared with every worker: spawning must not have switched it to
	// blocking mode (see listenerFile).
	fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, m.s.lns[0].Fd(), syscall.F_GETFL, 0)
	if errno != 0 || fl&syscall.O_NONBLOCK == 0 {
		t.Errorf("listening socket flags %#x (errno %v): O_NONBLOCK lost", fl, errno)
	}
	if err := m.shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	waitGone(t, pid, 5*time.Second)
}

func TestSupervisorRestartDuringRestartIsQueued(t *testing.T) {
	t.Setenv(supervisorTestModeEnv, "slow") // each worker takes 300ms to build
	m := startTestMaster(t, Options{})
	first := m.mustPID()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- m.s.restart(ctx) }()
	time.Sleep(100 * time.Millisecond) // the first restart is now waiting for its worker
	go func() { errs <- m.s.restart(ctx) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("restart: %v", err)
		}
	}
	logs := m.logs.String()
	if !strings.Contains(logs, "restart already in progress") {
		t.Error("the second request was not logged as queued")
	}
	// Starts never overlap: every "worker started" is followed by its "worker ready" before
	// the next "worker started".
	events := regexp.MustCompile(`msg="worker (started|ready)"`).FindAllStringSubmatch(logs, -1)
	var seq []string
	for _, e := range events {
		seq = append(seq, e[1])
	}
	want := []string{"started", "ready", "started", "ready", "started", "ready"}
	if strings.Join(seq, ",") != strings.Join(want, ",") {
		t.Errorf("worker start sequence %v, want %v", seq, want)
	}
	if pid := m.mustPID(); pid == first {
		t.Errorf("still served by the first worker %d", pid)
	}
}

func TestSupervisorFailedRestartKeepsOldWorker(t *testing.T) {
	m := startTestMaster(t, Options{ReadyTimeout: time.Second})
	pid := m.mustPID()
	stop := startLoad(m.base+"/pid", 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	workerPID := regexp.MustCompile(`worker (\d+)`)

	for _, tc := range []struct{ mode, want string }{
		{"fail", "failed before it was ready: restart: worker build: build fails on purpose"}, // exits 1 at start, saying why
		{"hang", "was not ready within 1s"},                                                   // never ready
	} {
		t.Setenv(supervisorTestModeEnv, tc.mode)
		err := m.s.restart(ctx)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: restart error %v, want %q", tc.mode, err, tc.want)
		}
		if got := m.mustPID(); got != pid {
			t.Fatalf("%s: served by %d after a failed restart, want the old worker %d", tc.mode, got, pid)
		}
		// The failed worker has been killed and reaped.
		match := workerPID.FindStringSubmatch(err.Error())
		if match == nil {
			t.Fatalf("%s: no worker pid in %v", tc.mode, err)
		}
		bad, _ := strconv.Atoi(match[1])
		waitGone(t, bad, 5*time.Second)
	}
	if !strings.Contains(m.logs.String(), "restart failed; the old worker keeps serving") {
		t.Error("failed restart not logged")
	}

	// A later good restart still works.
	t.Setenv(supervisorTestModeEnv, "")
	if err := m.s.restart(ctx); err != nil {
		t.Fatalf("good restart after failures: %v", err)
	}
	waitGone(t, pid, 10*time.Second)
	if got := m.mustPID(); got == pid {
		t.Fatalf("still served by %d after a good restart", pid)
	}
	assertNoFailures(t, stop())
}

func TestSupervisorRestartsCrashedWorker(t *testing.T) {
	m := startTestMaster(t, Options{})
	pid := m.mustPID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	next := m.waitNewPID(pid, 5*time.Second)
	took := time.Since(start)
	t.Logf("new worker %d served %s after SIGKILL of %d", next, took, pid)
	if took > 2*time.Second {
		t.Errorf("new worker served only %s after the crash, want about the first backoff (%s)", took, backoffMin)
	}
	logs := m.logs.String()
	if !strings.Contains(logs, "worker exited unexpectedly") || !strings.Contains(logs, "delay=100ms") {
		t.Errorf("crash and backoff not logged")
	}

	// A second crash soon after backs off longer.
	if err := syscall.Kill(next, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m.waitNewPID(next, 5*time.Second)
	if !strings.Contains(m.logs.String(), "delay=200ms") {
		t.Errorf("backoff did not double after a second crash")
	}
}

func TestSupervisorWorkerStopsWhenMasterIsGone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A master whose loop does not run: its worker is this test's alone. Closing the lifeline
	// is what the kernel does when the master dies, whatever killed it.
	s, err := newSupervisor(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, ln)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := s.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.life.Close()
	select {
	case <-w.done:
		if err := w.exitErr(); err != nil {
			t.Errorf("worker exited with %v, want a clean drain", err)
		}
	case <-time.After(5 * time.Second):
		_ = w.cmd.Process.Kill()
		t.Fatal("worker still running 5s after its master's lifeline closed")
	}
}

// TestRunMasterNeverBuildsAndRestartsOnSIGHUP also checks the master's PID file: it names the
// master (what `make reload` signals) across a restart, and is removed on a clean shutdown.
func TestRunMasterNeverBuildsAndRestartsOnSIGHUP(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var built atomic.Bool
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Supervisor, Options{
			Addr:            addr,
			PIDFile:         pidFile,
			ShutdownTimeout: 5 * time.Second,
			ReadyTimeout:    5 * time.Second,
			Logger:          slog.New(slog.NewTextHandler(logs, nil)),
		}, func(context.Context) (http.Handler, func() error, error) {
			built.Store(true)
			return nil, nil, errors.New("build called in the master")
		})
	}()
	defer func() { t.Logf("master log:\n%s", logs) }()
	m := &testMaster{t: t, base: "http://" + addr}
	deadline := time.Now().Add(10 * time.Second)
	pid, err := m.pid()
	for err != nil {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("first worker not serving: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
		pid, err = m.pid()
	}
	// Run has registered SIGHUP before starting its worker, so this reaches Run, not the
	// default action.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	m.waitNewPID(pid, 10*time.Second)
	if b, err := os.ReadFile(pidFile); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("PID file holds %q (%v) after a restart, want the master's pid %d", b, err, os.Getpid())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if built.Load() {
		t.Error("the master called build")
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("PID file still there after a clean shutdown (%v)", err)
	}
}

func TestSupervisorWorkerEnv(t *testing.T) {
	env := workerEnv([]string{"A=1", roleEnv + "=master", "NOTIFY_SOCKET=/run/systemd/notify",
		"LISTEN_FDS=1", "B=2", listenersEnv + "=7"}, 1)
	want := []string{"A=1", "B=2", roleEnv + "=" + roleWorker, listenersEnv + "=1"}
	if strings.Join(env, " ") != strings.Join(want, " ") {
		t.Errorf("env %q, want %q", env, want)
	}
}

func TestSupervisorFirstWorkerFailureIsReturned(t *testing.T) {
	// A binary or config that cannot start at all must fail the service visibly (systemd,
	// supervisord see the exit), not be retried forever behind a listening socket.
	s := newFailingSupervisor(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.run(ctx, nil)
	// The worker's own reason, not only its exit status: the master's error is often the
	// last line a user sees.
	if err == nil || !strings.Contains(err.Error(), "first worker") || !strings.Contains(err.Error(), "build fails on purpose") {
		t.Fatalf("run returned %v, want the first worker's failure and its reason", err)
	}
}

// newFailingSupervisor returns a master, on a listener of its own and closed when t ends,
// whose workers fail at once with the reason "build fails on purpose".
func newFailingSupervisor(t *testing.T) *supervisor {
	t.Helper()
	t.Setenv(supervisorTestModeEnv, "fail")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSupervisor(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, ln)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// A worker that fails at once may be gone before the master reads its ready pipe: its reason
// must still be read there, not lost to its exit (the master's error then said only "exit
// status 1"; seen under -race on a loaded machine).
func TestSupervisorReadsTheReasonOfAWorkerAlreadyGone(t *testing.T) {
	s := newFailingSupervisor(t)
	w, err := s.spawn()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done: // exited and reaped before anyone read its pipe
	case <-time.After(20 * time.Second):
		t.Fatal("the failing worker did not exit")
	}
	_, err = readReady(w.ready)
	var failed *workerError
	if !errors.As(err, &failed) || !strings.Contains(failed.reason, "build fails on purpose") {
		t.Fatalf("read the ready pipe of a worker already gone: %v, want its reason", err)
	}
}

// Workers that keep crashing soon after they reported ready make the master give up after
// MaxWorkerCrashes of them in a row: run returns an error naming the last exit status.
func TestSupervisorGivesUpAfterFastCrashes(t *testing.T) {
	m := startTestMaster(t, Options{MaxWorkerCrashes: 3})
	pid := m.mustPID()
	t.Setenv(supervisorTestModeEnv, "crash")
	// Crash 1: the serving worker is killed; crashes 2 and 3: the workers started after it
	// exit 200ms after their build.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-m.done:
		m.result = &err
	case <-time.After(20 * time.Second):
		t.Fatal("master still running after workers kept crashing")
	}
	if err == nil {
		t.Fatal("run returned nil after workers kept crashing, want an error")
	}
	for _, want := range []string{"giving up", "3 workers in a row", "exit status 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("run returned %q, want it to contain %q", err, want)
		}
	}
	logs := m.logs.String()
	if n := strings.Count(logs, "worker exited unexpectedly"); n != 3 {
		t.Errorf("%d worker crashes logged, want 3", n)
	}
	if !strings.Contains(logs, "giving up: workers keep failing") {
		t.Error("giving up not logged")
	}
}

// A worker that served stableAfter resets the count: crashes far apart are restarted forever.
func TestSupervisorCrashCountResetsAfterStableWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("waits stableAfter")
	}
	m := startTestMaster(t, Options{MaxWorkerCrashes: 2})
	pid := m.mustPID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	next := m.waitNewPID(pid, 5*time.Second)
	time.Sleep(stableAfter + 100*time.Millisecond)
	if err := syscall.Kill(next, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m.waitNewPID(next, 5*time.Second)
	select {
	case err := <-m.done:
		m.result = &err
		t.Fatalf("master gave up (%v) although the crashes were %s apart", err, stableAfter)
	default:
	}
}
