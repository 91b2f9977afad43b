//go:build unix

package restart

import (
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
)

// The test binary doubles as the worker (the master re-executes os.Args[0] with
// RESTART_ROLE=worker) and, with systemdTestMasterEnv set, as a master started the way systemd
// starts it. systemdTestModeEnv selects how a worker's Build behaves; the master passes its
// environment at spawn time, so t.Setenv changes the next worker only.
const (
	systemdTestMasterEnv = "RESTART_SYSTEMD_TEST_MASTER"
	systemdTestModeEnv   = "RESTART_SYSTEMD_TEST_MODE"
)

func systemdTestProcess() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := Options{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, ReadyTimeout: 5 * time.Second, Logger: logger}
	if err := Run(ctx, Systemd, opts, systemdTestBuild); err != nil {
		fmt.Fprintln(os.Stderr, "test process:", err)
		return 1
	}
	return 0
}

func systemdTestBuild(context.Context) (http.Handler, func() error, error) {
	switch os.Getenv(systemdTestModeEnv) {
	case "fail":
		return nil, nil, errors.New("build fails on purpose")
	case "slow":
		time.Sleep(300 * time.Millisecond)
	case "crash":
		crashSoon()
	}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"pid":           strconv.Itoa(os.Getpid()),
			"ppid":          strconv.Itoa(os.Getppid()),
			"notify_socket": os.Getenv("NOTIFY_SOCKET"),
			"listen_fds":    os.Getenv("LISTEN_FDS"),
			"listen_pid":    os.Getenv("LISTEN_PID"),
		})
	}
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { reply(w) })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		time.Sleep(d)
		reply(w)
	})
	return mux, nil, nil
}

// notifySocket is a fake systemd notification socket.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn") // short: unix socket paths are limited to ~108 bytes
	if err != nil {
		t.Fatal(err)
	}
	n := &notifySocket{path: filepath.Join(dir, "notify")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		_ = os.RemoveAll(dir)
	})
	return n
}

// wait returns the first message from index from on that contains want, and the index after it.
func (n *notifySocket) wait(t *testing.T, from int, want string, timeout time.Duration) (string, int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n.mu.Lock()
		msgs := append([]string(nil), n.msgs...)
		n.mu.Unlock()
		for i := from; i < len(msgs); i++ {
			if strings.Contains(msgs[i], want) {
				return msgs[i], i + 1
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q notification within %s; got %q", want, timeout, msgs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get does one request on a fresh connection and decodes the worker's answer.
func get(addr, path string) (map[string]string, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var body map[string]string
	return body, json.NewDecoder(resp.Body).Decode(&body)
}

func mustGet(t *testing.T, addr, path string) map[string]string {
	t.Helper()
	body, err := get(addr, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return body
}

// waitWorker polls until a worker other than old answers on addr.
func waitWorker(t *testing.T, addr, old string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if body, err := get(addr, "/"); err == nil && body["pid"] != old {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("no worker other than %s answered within 10s", old)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// atoi is the pid a worker reported.
func atoi(pid string) int {
	n, _ := strconv.Atoi(pid)
	return n
}

// logAddr collects the master's log and returns the address from its "listening" line.
type logAddr struct {
	mu   sync.Mutex
	addr string
}

func (l *logAddr) Enabled(context.Context, slog.Level) bool { return true }
func (l *logAddr) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logAddr) WithGroup(string) slog.Handler            { return l }
func (l *logAddr) Handle(_ context.Context, rec slog.Record) error {
	rec.Attrs(func(a slog.Attr) bool {
		if addrs, ok := a.Value.Any().([]string); ok && a.Key == "addrs" && len(addrs) > 0 {
			l.mu.Lock()
			l.addr = addrs[0]
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *logAddr) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// TestSystemdMasterNotifiesAndWorkersServe runs the master in this process, as systemd's main
// process: only it notifies (READY, RELOADING + MONOTONIC_USEC then READY, STOPPING), the
// workers are its children and never see NOTIFY_SOCKET, a SIGHUP swaps the worker, and a stop
// answers the request in flight.
func TestSystemdMasterNotifiesAndWorkersServe(t *testing.T) {
	notes := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", notes.path)
	t.Setenv(testWorkerEnv, "systemd")
	logs := &logAddr{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Systemd, Options{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, ReadyTimeout: 5 * time.Second,
			Logger: slog.New(logs)}, func(context.Context) (http.Handler, func() error, error) {
			return nil, nil, errors.New("the master must not build")
		})
	}()

	_, next := notes.wait(t, 0, "READY=1", 10*time.Second)
	addr := logs.get()
	first := mustGet(t, addr, "/")
	if first["pid"] == strconv.Itoa(os.Getpid()) || first["ppid"] != strconv.Itoa(os.Getpid()) {
		t.Fatalf("served by pid %s (parent %s), want a worker child of the master %d", first["pid"], first["ppid"], os.Getpid())
	}
	if first["notify_socket"] != "" || first["listen_fds"] != "" || first["listen_pid"] != "" {
		t.Errorf("worker environment has NOTIFY_SOCKET=%q LISTEN_FDS=%q LISTEN_PID=%q; only the master may have them",
			first["notify_socket"], first["listen_fds"], first["listen_pid"])
	}

	// systemctl reload: SIGHUP to the main process.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	msg, next := notes.wait(t, next, "RELOADING=1", 10*time.Second)
	if !strings.Contains(msg, "MONOTONIC_USEC=") {
		t.Errorf("RELOADING=1 without MONOTONIC_USEC=: %q", msg)
	}
	_, next = notes.wait(t, next, "READY=1", 10*time.Second)
	second := waitWorker(t, addr, first["pid"])
	if second["ppid"] != strconv.Itoa(os.Getpid()) {
		t.Errorf("new worker's parent is %s, want the master %d", second["ppid"], os.Getpid())
	}
	waitGone(t, atoi(first["pid"]), 10*time.Second)

	// systemctl stop: the in-flight request is answered, then STOPPING=1 and a clean exit.
	slow := make(chan error, 1)
	go func() {
		_, err := get(addr, "/slow?d=1s")
		slow <- err
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	notes.wait(t, next, "STOPPING=1", 5*time.Second)
	if err := <-slow; err != nil {
		t.Errorf("request in flight during the stop: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after the stop")
	}
	waitGone(t, atoi(second["pid"]), 5*time.Second)
}

// TestSystemdFailedReloadKeepsServing: a new worker that fails leaves the old one serving, and
// systemd hears READY=1 again (the reload is over, the service is fine).
func TestSystemdFailedReloadKeepsServing(t *testing.T) {
	notes := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", notes.path)
	t.Setenv(testWorkerEnv, "systemd")
	logs := &logAddr{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Systemd, Options{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, ReadyTimeout: 5 * time.Second,
			Logger: slog.New(logs)}, nil)
	}()
	_, next := notes.wait(t, 0, "READY=1", 10*time.Second)
	addr := logs.get()
	first := mustGet(t, addr, "/")

	t.Setenv(systemdTestModeEnv, "fail")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	_, next = notes.wait(t, next, "RELOADING=1", 10*time.Second)
	msg, _ := notes.wait(t, next, "READY=1", 15*time.Second)
	if !strings.Contains(msg, "failed") {
		t.Errorf("READY=1 after a failed reload should say so in STATUS=: %q", msg)
	}
	if now := mustGet(t, addr, "/"); now["pid"] != first["pid"] {
		t.Errorf("served by %s after a failed reload, want the old worker %s", now["pid"], first["pid"])
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestSystemdSocketActivation starts the test binary as systemd does (two sockets at fds 3 and
// 4, LISTEN_FDS=2, LISTEN_PID = its pid): both sockets are served by a worker, the master never
// listens by itself, and SIGTERM stops it cleanly.
func TestSystemdSocketActivation(t *testing.T) {
	var files []*os.File
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		ln.Close() // the dup in f keeps the socket listening
		t.Cleanup(func() { f.Close() })
		files = append(files, f)
		addrs = append(addrs, ln.Addr().String())
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// exec keeps the shell's pid, so $$ is the master's pid, as systemd sets LISTEN_PID.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0"`, exe)
	cmd.Env = append(os.Environ(), systemdTestMasterEnv+"=1", "LISTEN_FDS=2", "LISTEN_FDNAMES=http:http")
	cmd.ExtraFiles = files
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	master := strconv.Itoa(cmd.Process.Pid)

	var worker string
	for _, addr := range addrs {
		body := waitWorker(t, addr, "")
		if body["pid"] == master || body["ppid"] != master {
			t.Errorf("%s served by pid %s (parent %s), want a worker of the master %s", addr, body["pid"], body["ppid"], master)
		}
		if body["listen_fds"] != "" || body["listen_pid"] != "" {
			t.Errorf("worker sees LISTEN_FDS=%q LISTEN_PID=%q", body["listen_fds"], body["listen_pid"])
		}
		if worker != "" && body["pid"] != worker {
			t.Errorf("the two sockets are served by %s and %s, want one worker", worker, body["pid"])
		}
		worker = body["pid"]
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("master exit: %v", err)
	}
	waitGone(t, atoi(worker), 5*time.Second)
}

// count returns how many messages contain want.
func (n *notifySocket) count(want string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.msgs {
		if strings.Contains(m, want) {
			c++
		}
	}
	return c
}

// TestSystemdQueuedReloadsAreOneReload: a reload requested while another runs is queued, and
// systemd sees one reload: RELOADING=1 once, READY=1 once both are over.
func TestSystemdQueuedReloadsAreOneReload(t *testing.T) {
	notes := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", notes.path)
	t.Setenv(testWorkerEnv, "systemd")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := newSupervisor(Options{ShutdownTimeout: 5 * time.Second, ReadyTimeout: 5 * time.Second, Logger: logger}, ln)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.hooks = sdNotifier{log: logger}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.run(ctx, nil) }()
	_, next := notes.wait(t, 0, "READY=1", 10*time.Second)
	first := waitWorker(t, s.addr, "")

	// A slow start, so that the second request surely arrives during the first restart.
	t.Setenv(systemdTestModeEnv, "slow")
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- s.restart(ctx) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("restart: %v", err)
		}
	}
	notes.wait(t, next, "READY=1", 10*time.Second)
	time.Sleep(100 * time.Millisecond)
	if r, ready := notes.count("RELOADING=1"), notes.count("READY=1"); r != 1 || ready != 2 {
		t.Errorf("RELOADING=1 sent %d times and READY=1 %d times, want 1 and 2 (start, end of the reloads)", r, ready)
	}
	waitWorker(t, s.addr, first["pid"])
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestSystemdCrashLoopStatusAndGiveUp: while workers keep crashing, STATUS= says that no
// worker serves and which failure of how many this is; after MaxWorkerCrashes in a row Run
// returns an error naming the exit status (the unit fails, Restart= acts).
func TestSystemdCrashLoopStatusAndGiveUp(t *testing.T) {
	notes := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", notes.path)
	t.Setenv(testWorkerEnv, "systemd")
	logs := &logAddr{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Systemd, Options{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second,
			ReadyTimeout: 5 * time.Second, MaxWorkerCrashes: 3, Logger: slog.New(logs)}, nil)
	}()
	msg, next := notes.wait(t, 0, "READY=1", 10*time.Second)
	addr := logs.get()
	first := mustGet(t, addr, "/")
	if want := "STATUS=serving (worker " + first["pid"] + ")"; !strings.Contains(msg, want) {
		t.Errorf("READY=1 message %q, want %q", msg, want)
	}

	t.Setenv(systemdTestModeEnv, "crash")
	if err := syscall.Kill(atoi(first["pid"]), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	msg, next = notes.wait(t, next, "STATUS=no worker serving: restarting in", 10*time.Second)
	for _, want := range []string{"worker " + first["pid"] + " exited (signal: killed)", "fast failure 1 of 3"} {
		if !strings.Contains(msg, want) {
			t.Errorf("status after the first crash %q, want it to contain %q", msg, want)
		}
	}
	// The respawned worker serves (STATUS names it) until it crashes in turn.
	msg, next = notes.wait(t, next, "STATUS=serving (worker ", 10*time.Second)
	if strings.Contains(msg, "worker "+first["pid"]+")") {
		t.Errorf("status names the dead worker: %q", msg)
	}
	msg, next = notes.wait(t, next, "fast failure 2 of 3", 10*time.Second)
	if !strings.Contains(msg, "exit status 2") {
		t.Errorf("status after the second crash %q, want the exit status", msg)
	}
	msg, _ = notes.wait(t, next, "STATUS=no worker serving: gave up after 3 fast failures", 10*time.Second)
	if !strings.Contains(msg, "exit status 2") {
		t.Errorf("status after giving up %q, want the exit status", msg)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "giving up") || !strings.Contains(err.Error(), "exit status 2") {
			t.Fatalf("Run returned %v, want an error giving up with the exit status", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after the workers kept crashing")
	}
	if _, err := get(addr, "/"); err == nil {
		t.Error("the port still answers after the master gave up")
	}
}
