package restart

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testChildEnv makes the test binary act as a server process instead of running the tests: the
// reload tests re-exec it (os.Args[0]) as the next generation, exactly like the real binary.
const testChildEnv = "RESTART_SYSTEMD_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(testChildEnv); mode != "" {
		os.Exit(runTestChild(mode))
	}
	os.Exit(m.Run())
}

// runTestChild is the "binary on disk" of the tests. Modes: serve, slow (serve after 300ms),
// exit1 (fails at start), hang (never ready).
func runTestChild(mode string) int {
	switch mode {
	case "exit1":
		fmt.Fprintln(os.Stderr, "test child: failing at start")
		return 1
	case "hang":
		time.Sleep(time.Minute) // the parent's ReadyTimeout must stop us first
		return 1
	case "slow":
		time.Sleep(300 * time.Millisecond)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, Options{
		// Unusable on purpose (TEST-NET-1): a child that did not get its socket from
		// LISTEN_FDS fails instead of silently listening elsewhere.
		Addr:            "192.0.2.1:1",
		ShutdownTimeout: 2 * time.Second,
		ReadyTimeout:    5 * time.Second,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}, func(context.Context) (http.Handler, func() error, error) {
		return testHandler(nil), nil, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "test child:", err)
		return 1
	}
	return 0
}

// testHandler answers / with the serving pid and the socket activation variables it still sees,
// and /slow?d=<duration> after that duration (signalling inflight when it starts).
func testHandler(inflight chan<- struct{}) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"pid":        strconv.Itoa(os.Getpid()),
			"listen_fds": os.Getenv("LISTEN_FDS"),
			"listen_pid": os.Getenv("LISTEN_PID"),
			"ready_fd":   os.Getenv(envReadyFD),
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { reply(w) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		if inflight != nil {
			inflight <- struct{}{}
		}
		time.Sleep(d)
		reply(w)
	})
	return mux
}

// newNotifySocket is a fake systemd notification socket; the channel receives each datagram.
func newNotifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn") // short: unix socket paths are limited to ~108 bytes
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			ch <- string(buf[:n])
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		_ = os.RemoveAll(dir)
	})
	return path, ch
}

// waitNotify returns the first datagram containing want, failing the test after timeout.
func waitNotify(t *testing.T, ch <-chan string, want string, timeout time.Duration) string {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case msg, ok := <-ch:
			if !ok {
				t.Fatalf("notify socket closed while waiting for %q", want)
			}
			if strings.Contains(msg, want) {
				return msg
			}
			t.Logf("notify (skipped while waiting for %q): %q", want, msg)
		case <-timer.C:
			t.Fatalf("no %q notification within %s", want, timeout)
		}
	}
}

// logRecorder is a slog.Handler keeping every record, to assert on the lifecycle log lines.
type logRecorder struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	msg   string
	attrs map[string]any
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := map[string]any{}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Any()
		return true
	})
	r.mu.Lock()
	r.recs = append(r.recs, logRecord{msg: rec.Message, attrs: attrs})
	r.mu.Unlock()
	return nil
}

func (r *logRecorder) find(prefix string) (logRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if strings.HasPrefix(rec.msg, prefix) {
			return rec, true
		}
	}
	return logRecord{}, false
}

func (r *logRecorder) wait(t *testing.T, prefix string, timeout time.Duration) logRecord {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if rec, ok := r.find(prefix); ok {
			return rec
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line %q within %s", prefix, timeout)
	return logRecord{}
}

// servingAddr is the address from the "serving" log line.
func servingAddr(t *testing.T, logs *logRecorder) string {
	t.Helper()
	rec := logs.wait(t, "serving", 5*time.Second)
	addrs, ok := rec.attrs["addrs"].([]string)
	if !ok || len(addrs) != 1 {
		t.Fatalf("serving log line has addrs %v", rec.attrs["addrs"])
	}
	if rec.attrs["pid"] != int64(os.Getpid()) {
		t.Fatalf("serving log line has pid %v, want %d", rec.attrs["pid"], os.Getpid())
	}
	return addrs[0]
}

// getJSON does one request on a fresh connection.
func getJSON(addr, path string) (map[string]string, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	return body, nil
}

func mustGet(t *testing.T, addr, path string) map[string]string {
	t.Helper()
	body, err := getJSON(addr, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return body
}

type runResult struct{ err error }

// startRun runs Run in this process (the test process is the "old generation").
func startRun(t *testing.T, ctx context.Context, logs *logRecorder, readyTimeout time.Duration,
	inflight chan<- struct{}, cleanup func() error) <-chan runResult {
	t.Helper()
	done := make(chan runResult, 1)
	go func() {
		err := Run(ctx, Options{
			Addr:            "127.0.0.1:0",
			ShutdownTimeout: 3 * time.Second,
			ReadyTimeout:    readyTimeout,
			Logger:          slog.New(logs),
		}, func(context.Context) (http.Handler, func() error, error) {
			return testHandler(inflight), cleanup, nil
		})
		done <- runResult{err: err}
	}()
	return done
}

func waitRun(t *testing.T, done <-chan runResult, timeout time.Duration) error {
	t.Helper()
	select {
	case r := <-done:
		return r.err
	case <-time.After(timeout):
		t.Fatalf("Run did not return within %s", timeout)
		return nil
	}
}

// killOnCleanup makes sure a server process started by a test does not outlive it.
func killOnCleanup(t *testing.T, pid int) {
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
}

// waitGone waits until pid has exited and been reaped.
func waitGone(t *testing.T, pid int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d still running after %s", pid, timeout)
}

func TestSystemdFallbackListenerNotifiesAndDrains(t *testing.T) {
	sock, notes := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	logs := &logRecorder{}
	inflight := make(chan struct{}, 1)
	cleaned := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startRun(t, ctx, logs, 3*time.Second, inflight, func() error { close(cleaned); return nil })

	waitNotify(t, notes, "READY=1", 5*time.Second)
	addr := servingAddr(t, logs)
	if rec, _ := logs.find("serving"); rec.attrs["socket_activated"] != false {
		t.Fatalf("not activated, but serving log says socket_activated=%v", rec.attrs["socket_activated"])
	}
	if got := mustGet(t, addr, "/")["pid"]; got != strconv.Itoa(os.Getpid()) {
		t.Fatalf("served by pid %s, want %d", got, os.Getpid())
	}

	// An in-flight request finishes although the shutdown starts while it runs.
	slow := make(chan error, 1)
	go func() {
		_, err := getJSON(addr, "/slow?d=400ms")
		slow <- err
	}()
	<-inflight
	cancel()
	waitNotify(t, notes, "STOPPING=1", 5*time.Second)
	if err := <-slow; err != nil {
		t.Fatalf("in-flight request failed during graceful shutdown: %v", err)
	}
	if err := waitRun(t, done, 5*time.Second); err != nil {
		t.Fatalf("Run after a clean drain: %v", err)
	}
	select {
	case <-cleaned:
	default:
		t.Fatal("cleanup was not called")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = conn.Close()
		t.Fatal("still accepting connections after Run returned")
	}
}

// A connection accepted before the drain starts but whose request arrives after it must still
// get a response (plain http.Server.Shutdown closes it without one: golang/go#75591).
func TestSystemdDrainAnswersConnectionAcceptedBeforeShutdown(t *testing.T) {
	sock, notes := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	logs := &logRecorder{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startRun(t, ctx, logs, 3*time.Second, nil, nil)
	waitNotify(t, notes, "READY=1", 5*time.Second)
	addr := servingAddr(t, logs)

	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // accepted by the server, no request yet
	cancel()
	waitNotify(t, notes, "STOPPING=1", 5*time.Second)
	time.Sleep(100 * time.Millisecond) // the drain is under way
	if _, err := fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("request on a connection accepted before the drain got no response: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Fatalf("got %s (close=%v), want 200 with Connection: close", resp.Status, resp.Close)
	}
	if err := waitRun(t, done, 5*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestSystemdSocketActivationFromInheritedFD(t *testing.T) {
	sock, notes := newNotifySocket(t)
	// This test process plays systemd: it owns the listening socket and passes it as fd 3.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := dupListener(ln)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(shellPath, "-c", shellExec, os.Args[0])
	cmd.Env = append(os.Environ(), testChildEnv+"=serve", "LISTEN_FDS=1", "LISTEN_FDNAMES=web",
		"NOTIFY_SOCKET="+sock)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	killOnCleanup(t, cmd.Process.Pid)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	waitNotify(t, notes, "READY=1", 10*time.Second)
	body := mustGet(t, ln.Addr().String(), "/")
	if body["pid"] != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("served by pid %s, want the activated child %d", body["pid"], cmd.Process.Pid)
	}
	// activation.Files(true) unset the variables: nothing the server starts inherits them.
	if body["listen_fds"] != "" || body["listen_pid"] != "" {
		t.Fatalf("LISTEN_FDS=%q LISTEN_PID=%q still set in the server", body["listen_fds"], body["listen_pid"])
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitNotify(t, notes, "STOPPING=1", 5*time.Second)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("server exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not exit after SIGTERM")
	}
}

func TestSystemdReloadHandsOverAndOldDrains(t *testing.T) {
	sock, notes := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv(testChildEnv, "slow") // the binary "on disk" for the reload: this test binary
	logs := &logRecorder{}
	inflight := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startRun(t, ctx, logs, 5*time.Second, inflight, nil)
	waitNotify(t, notes, "READY=1", 5*time.Second)
	addr := servingAddr(t, logs)

	slow := make(chan map[string]string, 1)
	go func() {
		body, err := getJSON(addr, "/slow?d=800ms")
		if err != nil {
			t.Errorf("in-flight request during the reload: %v", err)
		}
		slow <- body
	}()
	<-inflight

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	reloading := waitNotify(t, notes, "RELOADING=1", 5*time.Second)
	if !strings.Contains(reloading, "MONOTONIC_USEC=") {
		t.Errorf("RELOADING=1 without MONOTONIC_USEC: %q", reloading)
	}
	// The new process takes ~300ms to start: a second SIGHUP meanwhile must not start another.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}

	handover := waitNotify(t, notes, "MAINPID=", 10*time.Second)
	lines := strings.Split(handover, "\n")
	if len(lines) != 2 || lines[1] != "READY=1" {
		t.Fatalf("hand-over notification %q, want MAINPID=<pid> then READY=1 in one datagram", handover)
	}
	childPid, err := strconv.Atoi(strings.TrimPrefix(lines[0], "MAINPID="))
	if err != nil || childPid == os.Getpid() {
		t.Fatalf("bad MAINPID in %q", handover)
	}
	killOnCleanup(t, childPid)

	// The old generation (this Run) finishes its in-flight request, then returns.
	if err := waitRun(t, done, 5*time.Second); err != nil {
		t.Fatalf("old generation Run: %v", err)
	}
	if body := <-slow; body["pid"] != strconv.Itoa(os.Getpid()) {
		t.Fatalf("in-flight request answered by %v, want the old pid %d", body, os.Getpid())
	}
	body := mustGet(t, addr, "/")
	if body["pid"] != strconv.Itoa(childPid) {
		t.Fatalf("after the reload served by pid %s, want MAINPID %d", body["pid"], childPid)
	}
	if body["listen_fds"] != "" || body["ready_fd"] != "" {
		t.Fatalf("new generation still has LISTEN_FDS=%q %s=%q", body["listen_fds"], envReadyFD, body["ready_fd"])
	}
	if _, ok := logs.find("reload: SIGHUP ignored, a reload is already in progress"); !ok {
		t.Error("the second SIGHUP was not reported as ignored")
	}

	// The new generation is the main process now: SIGTERM stops it gracefully.
	if err := syscall.Kill(childPid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitNotify(t, notes, "STOPPING=1", 5*time.Second)
	waitGone(t, childPid, 5*time.Second)
	select {
	case msg := <-notes:
		if strings.Contains(msg, "MAINPID=") {
			t.Fatalf("a second reload happened: %q", msg)
		}
	default:
	}
}

func TestSystemdFailedReloadKeepsServing(t *testing.T) {
	for _, mode := range []string{"exit1", "hang"} {
		t.Run(mode, func(t *testing.T) {
			sock, notes := newNotifySocket(t)
			t.Setenv("NOTIFY_SOCKET", sock)
			t.Setenv(testChildEnv, mode)
			logs := &logRecorder{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := startRun(t, ctx, logs, time.Second, nil, nil)
			waitNotify(t, notes, "READY=1", 5*time.Second)
			addr := servingAddr(t, logs)

			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitNotify(t, notes, "RELOADING=1", 5*time.Second)
			// systemd is told the reload is over, and the main pid does not change.
			if msg := waitNotify(t, notes, "READY=1", 10*time.Second); strings.Contains(msg, "MAINPID=") {
				t.Fatalf("failed reload moved the main pid: %q", msg)
			}
			rec := logs.wait(t, "reload failed, this generation keeps serving", time.Second)
			t.Logf("logged: %v", rec.attrs["err"])
			if got := mustGet(t, addr, "/")["pid"]; got != strconv.Itoa(os.Getpid()) {
				t.Fatalf("served by pid %s after a failed reload, want %d", got, os.Getpid())
			}

			// A later good SIGHUP still works.
			t.Setenv(testChildEnv, "serve")
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			handover := waitNotify(t, notes, "MAINPID=", 10*time.Second)
			childPid, err := strconv.Atoi(strings.TrimPrefix(strings.Split(handover, "\n")[0], "MAINPID="))
			if err != nil {
				t.Fatalf("bad hand-over notification %q", handover)
			}
			killOnCleanup(t, childPid)
			if err := waitRun(t, done, 5*time.Second); err != nil {
				t.Fatalf("old generation Run: %v", err)
			}
			if got := mustGet(t, addr, "/")["pid"]; got != strconv.Itoa(childPid) {
				t.Fatalf("served by pid %s, want %d", got, childPid)
			}
			_ = syscall.Kill(childPid, syscall.SIGTERM)
			waitGone(t, childPid, 5*time.Second)
		})
	}
}

func TestSystemdDupListenerKeepsNonBlocking(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := dupListener(ln)
	if err != nil {
		t.Fatal(err)
	}
	// os.StartProcess calls Fd() on every file it passes; it must not switch the shared open
	// file description (and so our own listener) to blocking mode.
	_ = f.Fd()
	defer f.Close()
	raw, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	if err := raw.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil {
		t.Fatal(err)
	}
	if ferr != nil {
		t.Fatal(ferr)
	}
	if flags&unix.O_NONBLOCK == 0 {
		t.Fatal("passing the listener to a child put it in blocking mode")
	}
}

func TestSystemdHandoverEnv(t *testing.T) {
	env := handoverEnv([]string{
		"PATH=/bin", "LISTEN_PID=1", "LISTEN_FDS=9", "LISTEN_FDNAMES=old", envReadyFD + "=7",
		"NOTIFY_SOCKET=/run/notify", "LISTEN_FDSX=keep",
	}, 2, "a:b", 5, 6)
	want := []string{
		"PATH=/bin", "NOTIFY_SOCKET=/run/notify", "LISTEN_FDSX=keep",
		"LISTEN_FDS=2", envReadyFD + "=5", envCommitFD + "=6", "LISTEN_FDNAMES=a:b",
	}
	if strings.Join(env, " ") != strings.Join(want, " ") {
		t.Fatalf("handoverEnv = %q, want %q", env, want)
	}
}

func TestSystemdTakeHandoverRejectsNonPipe(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "notapipe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv(envReadyFD, strconv.Itoa(int(f.Fd())))
	t.Setenv(envCommitFD, strconv.Itoa(int(f.Fd())))
	if ho, err := takeHandover(); err == nil || ho != nil {
		t.Fatalf("takeHandover accepted a regular file as hand-over pipe (err=%v)", err)
	}
	if os.Getenv(envReadyFD) != "" {
		t.Fatal("takeHandover left the hand-over variable in the environment")
	}
}
