//go:build unix

package restart

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tableflip allows one Upgrader per process and a restart re-executes the binary, so every
// test that calls Run does it in a child process: the test binary itself, started with
// helperDirEnv naming a control directory. A restarted generation inherits the environment,
// so it runs the helper too. The control directory holds:
//
//	mode          read by each generation at start: ok, exit, fail or hang (see forkHelperMain)
//	app.pid       the PID file
//	log           the JSON log lines of all generations (their shared stderr)
//	release       created by the test to let /block requests finish
//	cleanup-<pid> written by the cleanup of generation <pid>
//	exit-<pid>    written when Run of generation <pid> returns: its error, empty for nil
//	started-<pid> written when process <pid> starts
const (
	helperDirEnv   = "RESTART_FORK_TEST_DIR"
	helperReadyEnv = "RESTART_FORK_TEST_READY_TIMEOUT"
	waitTimeout    = 10 * time.Second
)

// forkHelperMain is the program run by the helper processes.
func forkHelperMain(dir string) int {
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("started-%d", os.Getpid())), nil, 0o644)
	mode := "ok"
	if b, err := os.ReadFile(filepath.Join(dir, "mode")); err == nil {
		mode = strings.TrimSpace(string(b))
	}
	if mode == "exit" {
		// A new binary that crashes at start.
		return 3
	}
	readyTimeout, err := time.ParseDuration(os.Getenv(helperReadyEnv))
	if err != nil {
		readyTimeout = 5 * time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pid := os.Getpid()

	runErr := Run(ctx, Fork, Options{
		Addr:            "127.0.0.1:0",
		PIDFile:         filepath.Join(dir, "app.pid"),
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    15 * time.Second,
		ShutdownTimeout: 5 * time.Second,
		ReadyTimeout:    readyTimeout,
		Logger:          slog.New(slog.NewJSONHandler(os.Stderr, nil)),
	}, func(ctx context.Context) (http.Handler, func() error, error) {
		switch mode {
		case "fail":
			return nil, nil, errors.New("database unreachable")
		case "hang":
			// Never ready: the previous generation's ReadyTimeout must kill this process.
			<-ctx.Done()
			return nil, nil, ctx.Err()
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /pid", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, pid)
		})
		// /block answers its headers at once, then finishes its body once the test creates
		// the release file: an in-flight request whose end the test controls.
		mux.HandleFunc("GET /block", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
			deadline := time.Now().Add(waitTimeout)
			for time.Now().Before(deadline) {
				if _, err := os.Stat(filepath.Join(dir, "release")); err == nil {
					fmt.Fprintf(w, "done by %d", pid)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
		cleanup := func() error {
			return os.WriteFile(filepath.Join(dir, fmt.Sprintf("cleanup-%d", pid)), nil, 0o644)
		}
		return mux, cleanup, nil
	})

	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	}
	_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("exit-%d", pid)), []byte(msg), 0o644)
	if runErr != nil {
		return 1
	}
	return 0
}

// forkHelper is the first generation started by a test, plus access to the control directory.
type forkHelper struct {
	t      *testing.T
	dir    string
	cmd    *exec.Cmd
	exited chan struct{} // closed when the first generation (the direct child) has exited
	err    error         // result of cmd.Wait, set before exited is closed
}

func startForkHelper(t *testing.T, mode string, readyTimeout time.Duration) *forkHelper {
	t.Helper()
	dir := t.TempDir()
	h := &forkHelper{t: t, dir: dir, exited: make(chan struct{})}
	h.setMode(mode)
	logFile, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperReadyEnv+"="+readyTimeout.String())
	// A file, not a pipe: later generations inherit stderr, and Wait must not wait for them.
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h.cmd = cmd
	go func() {
		h.err = cmd.Wait()
		close(h.exited)
	}()

	t.Cleanup(func() {
		// Kill whatever generation is still around, so a failed test leaks no process.
		_ = cmd.Process.Kill()
		if pid, err := readPIDFile(h.pidFile()); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, e := range h.logEntries() {
			if pid, ok := e["pid"].(float64); ok {
				_ = syscall.Kill(int(pid), syscall.SIGKILL)
			}
		}
		select {
		case <-h.exited:
		case <-time.After(waitTimeout):
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("helper log:\n%s", b)
		}
	})
	return h
}

func (h *forkHelper) pidFile() string { return filepath.Join(h.dir, "app.pid") }

func (h *forkHelper) setMode(mode string) {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.dir, "mode"), []byte(mode), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *forkHelper) release() {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.dir, "release"), nil, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *forkHelper) logEntries() []map[string]any {
	f, err := os.Open(filepath.Join(h.dir, "log"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var entries []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			entries = append(entries, e)
		}
	}
	return entries
}

// waitLog waits until the n-th log entry with msg logged by pid exists, and returns it.
func (h *forkHelper) waitLog(msg string, pid, n int) map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		seen := 0
		for _, e := range h.logEntries() {
			if e["msg"] == msg && e["pid"] == float64(pid) {
				seen++
				if seen == n {
					return e
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("no log entry #%d %q from pid %d within %v", n, msg, pid, waitTimeout)
	return nil
}

func (h *forkHelper) countLog(msg string, pid int) int {
	seen := 0
	for _, e := range h.logEntries() {
		if e["msg"] == msg && e["pid"] == float64(pid) {
			seen++
		}
	}
	return seen
}

// waitPIDFile waits until the PID file names a pid other than old (0: any pid).
func (h *forkHelper) waitPIDFile(old int) int {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		if pid, err := readPIDFile(h.pidFile()); err == nil && pid != old {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("PID file still does not name a pid other than %d after %v", old, waitTimeout)
	return 0
}

func (h *forkHelper) assertPIDFile(want int) {
	h.t.Helper()
	got, err := readPIDFile(h.pidFile())
	if err != nil || got != want {
		h.t.Fatalf("PID file names %d (err %v), want %d", got, err, want)
	}
}

// waitFirstExit waits for the first generation (the direct child) and checks it exited 0.
func (h *forkHelper) waitFirstExit() {
	h.t.Helper()
	select {
	case <-h.exited:
		if h.err != nil {
			h.t.Fatalf("first generation: %v, want exit status 0", h.err)
		}
	case <-time.After(waitTimeout):
		h.t.Fatalf("first generation still running after %v", waitTimeout)
	}
}

// waitRunResult waits for generation pid to record what Run returned. Later generations are
// not children of the test, so this file is how their end is observed.
func (h *forkHelper) waitRunResult(pid int) string {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(h.dir, fmt.Sprintf("exit-%d", pid))); err == nil {
			return string(b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("generation %d did not return from Run within %v", pid, waitTimeout)
	return ""
}

// waitStarted waits for a process other than except to start, and returns its pid.
func (h *forkHelper) waitStarted(except int) int {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(h.dir)
		for _, e := range entries {
			if pid, ok := strings.CutPrefix(e.Name(), "started-"); ok && pid != strconv.Itoa(except) {
				n, err := strconv.Atoi(pid)
				if err == nil {
					return n
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("no new process started within %v", waitTimeout)
	return 0
}

func (h *forkHelper) assertCleanedUp(pid int) {
	h.t.Helper()
	if _, err := os.Stat(filepath.Join(h.dir, fmt.Sprintf("cleanup-%d", pid))); err != nil {
		h.t.Fatalf("cleanup of generation %d did not run: %v", pid, err)
	}
}

func signalPID(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill -%d %d: %v", sig, pid, err)
	}
}

// testClient opens a new connection per request, so no idle connection to an old generation
// delays its drain or hides which process accepted the request.
func testClient() *http.Client {
	return &http.Client{
		Timeout:   waitTimeout,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
}

func getPID(t *testing.T, addr string) int {
	t.Helper()
	resp, err := testClient().Get("http://" + addr + "/pid")
	if err != nil {
		t.Fatalf("GET /pid: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /pid: status %d, body %q, err %v", resp.StatusCode, b, err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("GET /pid: %q is not a pid", b)
	}
	return pid
}

// startBlocked sends GET /block and returns once the response headers arrived, i.e. once the
// request is in flight on the server. The body completes after h.release().
func startBlocked(t *testing.T, addr string) *http.Response {
	t.Helper()
	resp, err := testClient().Get("http://" + addr + "/block")
	if err != nil {
		t.Fatalf("GET /block: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /block: status %d", resp.StatusCode)
	}
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("in-flight request did not finish: read %q, err %v", b, err)
	}
	return string(b)
}

func TestForkShutdownDrainsInFlightRequest(t *testing.T) {
	h := startForkHelper(t, "ok", 5*time.Second)
	pid := h.cmd.Process.Pid
	addr := h.waitLog("serving", pid, 1)["addr"].(string)
	h.assertPIDFile(pid)

	inflight := startBlocked(t, addr)
	signalPID(t, pid, syscall.SIGTERM)
	h.waitLog("shutting down", pid, 1)
	// A SIGHUP now neither restarts nor kills the draining process.
	signalPID(t, pid, syscall.SIGHUP)
	h.waitLog("ignoring SIGHUP: this generation is stopping", pid, 1)
	h.release()
	if got, want := readBody(t, inflight), fmt.Sprintf("done by %d", pid); got != want {
		t.Fatalf("in-flight request body = %q, want %q", got, want)
	}

	h.waitFirstExit()
	if res := h.waitRunResult(pid); res != "" {
		t.Fatalf("Run returned %q, want nil", res)
	}
	h.assertCleanedUp(pid)
	if _, err := os.Stat(h.pidFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("PID file still present after shutdown (stat err %v)", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after shutdown", addr)
	}
}

func TestForkRestartHandsOverSocket(t *testing.T) {
	h := startForkHelper(t, "ok", 5*time.Second)
	gen1 := h.cmd.Process.Pid
	addr := h.waitLog("serving", gen1, 1)["addr"].(string)
	h.assertPIDFile(gen1)

	inflight := startBlocked(t, addr)
	signalPID(t, gen1, syscall.SIGHUP)
	gen2 := h.waitPIDFile(gen1)
	if serving := h.waitLog("serving", gen2, 1); serving["addr"] != addr || serving["restarted"] != true {
		t.Fatalf("new generation serving line = %v, want addr %s and restarted=true", serving, addr)
	}

	// gen1 is draining the blocked request: tableflip cannot restart gen2 until gen1 has
	// exited, so this SIGHUP is deferred until then; a second one is not queued.
	signalPID(t, gen2, syscall.SIGHUP)
	h.waitLog("SIGHUP deferred: the previous generation is still draining; the restart starts when it has exited", gen2, 1)
	signalPID(t, gen2, syscall.SIGHUP)
	h.waitLog("ignoring SIGHUP: a restart is already deferred", gen2, 1)
	// gen1 closes its copy of the socket right after it logs that it drains; from then on
	// every new connection goes to gen2, while gen1 still holds the blocked request.
	h.waitLog("replaced by a new generation; draining", gen1, 1)
	servedByNew := false
	for range 50 {
		if getPID(t, addr) == gen2 {
			servedByNew = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !servedByNew {
		t.Fatalf("new connections not served by the new generation %d while the old one drains", gen2)
	}

	h.release()
	if got, want := readBody(t, inflight), fmt.Sprintf("done by %d", gen1); got != want {
		t.Fatalf("in-flight request body = %q, want %q", got, want)
	}
	h.waitFirstExit()
	if res := h.waitRunResult(gen1); res != "" {
		t.Fatalf("old generation: Run returned %q, want nil", res)
	}
	h.assertCleanedUp(gen1)
	h.waitLog("previous generation exited; restart complete", gen2, 1)

	// The deferred restart runs now, exactly once.
	gen3 := h.waitPIDFile(gen2)
	if res := h.waitRunResult(gen2); res != "" {
		t.Fatalf("second generation: Run returned %q, want nil", res)
	}
	h.assertCleanedUp(gen2)
	if n := h.countLog("restart requested: starting a new generation", gen2); n != 1 {
		t.Fatalf("second generation started %d restarts, want 1", n)
	}
	// No old generation removed the PID file that names its successor.
	h.assertPIDFile(gen3)
	if got := getPID(t, addr); got != gen3 {
		t.Fatalf("GET /pid = %d after the restarts, want %d", got, gen3)
	}

	signalPID(t, gen3, syscall.SIGTERM)
	if res := h.waitRunResult(gen3); res != "" {
		t.Fatalf("third generation: Run returned %q, want nil", res)
	}
	h.assertCleanedUp(gen3)
	if _, err := os.Stat(h.pidFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("PID file still present after shutdown (stat err %v)", err)
	}
}

func TestForkFailedRestartKeepsServing(t *testing.T) {
	const readyTimeout = 1500 * time.Millisecond
	h := startForkHelper(t, "ok", readyTimeout)
	gen1 := h.cmd.Process.Pid
	addr := h.waitLog("serving", gen1, 1)["addr"].(string)

	// The binary on disk now exits at start.
	h.setMode("exit")
	signalPID(t, gen1, syscall.SIGHUP)
	failed := h.waitLog("restart failed; this generation keeps serving", gen1, 1)
	if err, _ := failed["err"].(string); !strings.Contains(err, "exit status 3") {
		t.Fatalf("failure logged as %q, want the child's exit status 3", err)
	}
	h.assertPIDFile(gen1)
	if got := getPID(t, addr); got != gen1 {
		t.Fatalf("GET /pid = %d after a failed restart, want %d", got, gen1)
	}

	// The new generation never becomes ready; a second SIGHUP meanwhile is ignored.
	h.setMode("hang")
	signalPID(t, gen1, syscall.SIGHUP)
	h.waitLog("restart requested: starting a new generation", gen1, 2)
	signalPID(t, gen1, syscall.SIGHUP)
	h.waitLog("ignoring SIGHUP: a restart is already in progress", gen1, 1)
	failed = h.waitLog("restart failed; this generation keeps serving", gen1, 2)
	if err, _ := failed["err"].(string); !strings.Contains(err, "timed out") {
		t.Fatalf("failure logged as %q, want a ready timeout", err)
	}
	if n := h.countLog("restart requested: starting a new generation", gen1); n != 2 {
		t.Fatalf("%d restarts started, want 2 (the SIGHUP during a restart must not start one)", n)
	}
	h.assertPIDFile(gen1)
	if got := getPID(t, addr); got != gen1 {
		t.Fatalf("GET /pid = %d after a timed-out restart, want %d", got, gen1)
	}

	// A good binary again: the next SIGHUP works.
	h.setMode("ok")
	signalPID(t, gen1, syscall.SIGHUP)
	gen2 := h.waitPIDFile(gen1)
	h.waitFirstExit()
	if got := getPID(t, addr); got != gen2 {
		t.Fatalf("GET /pid = %d after the restart, want %d", got, gen2)
	}
	signalPID(t, gen2, syscall.SIGTERM)
	if res := h.waitRunResult(gen2); res != "" {
		t.Fatalf("new generation: Run returned %q, want nil", res)
	}
}

// A SIGHUP sent as soon as the PID file names the first process (what `kill -HUP $(cat
// app.pid)` or systemd's ExecReload= can do) restarts it: tableflip notices Ready in its own
// goroutine, and an Upgrade that races with it must not fail the restart.
func TestForkSIGHUPRightAfterReadyRestarts(t *testing.T) {
	h := startForkHelper(t, "ok", 5*time.Second)
	gen1 := h.cmd.Process.Pid
	deadline := time.Now().Add(waitTimeout)
	for {
		if pid, err := readPIDFile(h.pidFile()); err == nil && pid == gen1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("PID file does not name %d after %v", gen1, waitTimeout)
		}
		time.Sleep(time.Millisecond)
	}
	signalPID(t, gen1, syscall.SIGHUP)

	gen2 := h.waitPIDFile(gen1)
	h.waitFirstExit()
	if res := h.waitRunResult(gen1); res != "" {
		t.Fatalf("old generation: Run returned %q, want nil", res)
	}
	if n := h.countLog("restart failed; this generation keeps serving", gen1); n != 0 {
		t.Fatalf("the SIGHUP right after Ready failed %d restarts, want 0", n)
	}
	signalPID(t, gen2, syscall.SIGTERM)
	if res := h.waitRunResult(gen2); res != "" {
		t.Fatalf("new generation: Run returned %q, want nil", res)
	}
}

func TestForkShutdownDuringRestartStopsNewProcess(t *testing.T) {
	h := startForkHelper(t, "ok", 5*time.Second)
	gen1 := h.cmd.Process.Pid
	h.waitLog("serving", gen1, 1)

	h.setMode("hang")
	signalPID(t, gen1, syscall.SIGHUP)
	h.waitLog("restart requested: starting a new generation", gen1, 1)
	starting := h.waitStarted(gen1)
	signalPID(t, gen1, syscall.SIGTERM)

	h.waitFirstExit()
	if res := h.waitRunResult(gen1); res != "" {
		t.Fatalf("Run returned %q, want nil", res)
	}
	h.waitLog("restart aborted by the shutdown", gen1, 1)
	// The new process, still starting, was killed with its parent's shutdown.
	deadline := time.Now().Add(waitTimeout)
	for syscall.Kill(starting, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("new process %d still exists after the shutdown", starting)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(h.pidFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("PID file still present after shutdown (stat err %v)", err)
	}
}

func TestForkBuildFailureStopsFirstStart(t *testing.T) {
	h := startForkHelper(t, "fail", 5*time.Second)
	pid := h.cmd.Process.Pid
	select {
	case <-h.exited:
		var exitErr *exec.ExitError
		if !errors.As(h.err, &exitErr) || exitErr.ExitCode() != 1 {
			t.Fatalf("exit: %v, want exit status 1", h.err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("process with a failing build is still running")
	}
	if res := h.waitRunResult(pid); !strings.Contains(res, "database unreachable") {
		t.Fatalf("Run returned %q, want the build error", res)
	}
	if _, err := os.Stat(h.pidFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("PID file written by a process that never became ready (stat err %v)", err)
	}
}

func TestPIDFileHelpers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.pid")
	if err := writePIDFile(path, 4242); err != nil {
		t.Fatal(err)
	}
	if pid, err := readPIDFile(path); err != nil || pid != 4242 {
		t.Fatalf("readPIDFile = %d, %v; want 4242", pid, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("PID file mode = %v (err %v), want 0644", st.Mode().Perm(), err)
	}
	// Not ours: kept.
	if err := removePIDFileIfOwned(path, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("PID file naming another process was removed: %v", err)
	}
	// Ours: removed; removing again is not an error.
	if err := removePIDFileIfOwned(path, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("owned PID file not removed: %v", err)
	}
	if err := removePIDFileIfOwned(path, 4242); err != nil {
		t.Fatalf("removing a missing PID file: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestForkReclaimPIDFile(t *testing.T) {
	// A pid that no longer exists: a helper that exits at once, already waited for.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mode"), []byte("exit"), 0o644); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command(os.Args[0], "-test.run=^$")
	dead.Env = append(os.Environ(), helperDirEnv+"="+dir)
	if err := dead.Run(); err == nil {
		t.Fatal("helper in exit mode exited 0")
	}

	var logs strings.Builder
	g := &forkGeneration{
		log:     slog.New(slog.NewTextHandler(&logs, nil)),
		pid:     os.Getpid(),
		pidFile: filepath.Join(dir, "app.pid"),
	}
	// As left by a new generation killed right after it wrote the PID file.
	if err := writePIDFile(g.pidFile, dead.Process.Pid); err != nil {
		t.Fatal(err)
	}
	g.reclaimPIDFile()
	if pid, err := readPIDFile(g.pidFile); err != nil || pid != g.pid {
		t.Fatalf("PID file names %d (err %v) after reclaim, want %d", pid, err, g.pid)
	}
	if !strings.Contains(logs.String(), "PID file rewritten after a failed restart") {
		t.Fatalf("reclaim not logged: %q", logs.String())
	}

	// Already ours: rewritten all the same (a new file, so ExecReload= sees the restart
	// failed), nothing logged.
	before, err := os.Stat(g.pidFile)
	if err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	g.reclaimPIDFile()
	if logs.Len() != 0 {
		t.Fatalf("reclaim of an own PID file logged %q", logs.String())
	}
	after, err := os.Stat(g.pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Error("the PID file was not replaced by a new file after a failed restart")
	}
	if pid, err := readPIDFile(g.pidFile); err != nil || pid != g.pid {
		t.Fatalf("PID file names %d (err %v), want %d", pid, err, g.pid)
	}
}

func TestAbsExecutable(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"./app":        filepath.Join(wd, "app"),
		"bin/app":      filepath.Join(wd, "bin", "app"),
		"app":          "app", // found through $PATH: looked up there again
		"/usr/bin/app": "/usr/bin/app",
	} {
		if got := absExecutable(in); got != want {
			t.Errorf("absExecutable(%q) = %q, want %q", in, got, want)
		}
	}
}

// The new generation dies (kill -9) while the old one drains a slow request: the old one
// serves again on the socket it kept, rewrites the PID file and finishes the slow request;
// connections made meanwhile wait in the accept queue instead of being refused.
func TestForkNewGenerationDeathDuringDrainResumes(t *testing.T) {
	h := startForkHelper(t, "ok", 5*time.Second)
	gen1 := h.cmd.Process.Pid
	addr := h.waitLog("serving", gen1, 1)["addr"].(string)

	inflight := startBlocked(t, addr)
	signalPID(t, gen1, syscall.SIGHUP)
	gen2 := h.waitPIDFile(gen1)
	h.waitLog("serving", gen2, 1)
	if e := h.waitLog("replaced by a new generation; draining", gen1, 1); e["new_pid"] != float64(gen2) {
		t.Fatalf("drain line %v, want new_pid %d", e, gen2)
	}

	signalPID(t, gen2, syscall.SIGKILL)
	deadline := time.Now().Add(waitTimeout)
	for processExists(gen2) {
		if time.Now().After(deadline) {
			t.Fatalf("killed generation %d still exists after %v", gen2, waitTimeout)
		}
		time.Sleep(time.Millisecond)
	}
	// From the moment it is gone, every connection is answered, by the old generation.
	for range 20 {
		if got := getPID(t, addr); got != gen1 {
			t.Fatalf("GET /pid = %d after the new generation died, want %d", got, gen1)
		}
	}
	if e := h.waitLog("the new generation died while this one was draining; serving again", gen1, 1); e["dead_pid"] != float64(gen2) {
		t.Fatalf("resume line %v, want dead_pid %d", e, gen2)
	}
	h.assertPIDFile(gen1)

	h.release()
	if got, want := readBody(t, inflight), fmt.Sprintf("done by %d", gen1); got != want {
		t.Fatalf("in-flight request body = %q, want %q", got, want)
	}

	// tableflip hands a socket over once per process: a reload now fails, and says so by
	// rewriting the PID file (what ExecReload= waits for).
	before, err := os.Stat(h.pidFile())
	if err != nil {
		t.Fatal(err)
	}
	signalPID(t, gen1, syscall.SIGHUP)
	h.waitLog("cannot restart: this generation resumed serving after its successor died, "+
		"and a process can hand over its socket only once; restart the service to make reloads work again", gen1, 1)
	after, err := os.Stat(h.pidFile())
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Error("the PID file was not rewritten after a refused reload")
	}
	h.assertPIDFile(gen1)
	if got := getPID(t, addr); got != gen1 {
		t.Fatalf("GET /pid = %d after a refused reload, want %d", got, gen1)
	}

	signalPID(t, gen1, syscall.SIGTERM)
	h.waitFirstExit()
	if res := h.waitRunResult(gen1); res != "" {
		t.Fatalf("Run returned %q, want nil", res)
	}
	h.assertCleanedUp(gen1)
	if _, err := os.Stat(h.pidFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("PID file still present after shutdown (stat err %v)", err)
	}
}

// noFileListener hides the listener's File method: its socket cannot be kept.
type noFileListener struct{ net.Listener }

// Where the old generation cannot serve again, the death of the new one during its drain
// makes Run fail (the process exits non-zero) instead of a clean exit with nothing serving.
func TestForkNewGenerationDeathWithoutSpareSocketFails(t *testing.T) {
	dir := t.TempDir()
	successor := exec.Command("sleep", "60")
	if err := successor.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = successor.Process.Kill() })
	pidFile := filepath.Join(dir, "app.pid")
	if err := writePIDFile(pidFile, successor.Process.Pid); err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := noFileListener{tcp}
	var logs strings.Builder
	opts := Options{ShutdownTimeout: 5 * time.Second}
	g := &forkGeneration{
		log:     slog.New(slog.NewTextHandler(&logs, nil)),
		opts:    opts,
		pid:     os.Getpid(),
		pidFile: pidFile,
		ln:      ln,
		srv:     startServer(http.NotFoundHandler(), []net.Listener{ln}, opts),
		handler: http.NotFoundHandler(),
	}
	type result struct {
		resumed bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		resumed, err := g.handOver(context.Background(), make(chan os.Signal))
		done <- result{resumed, err}
	}()
	_ = successor.Process.Kill()
	_ = successor.Wait()
	select {
	case r := <-done:
		if r.resumed || r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("new generation (pid %d) died", successor.Process.Pid)) ||
			!strings.Contains(r.err.Error(), "nothing serves") {
			t.Fatalf("handOver = %v, %v; want an error naming the dead pid and that nothing serves", r.resumed, r.err)
		}
		if !strings.Contains(logs.String(), "the new generation died while this one was draining") {
			t.Fatalf("the death is not logged:\n%s", logs.String())
		}
	case <-time.After(waitTimeout):
		t.Fatal("handOver still running")
	}
}
