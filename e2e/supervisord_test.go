package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// supervisord is a private supervisord (not the system's service): its own config, socket,
// pidfile and logs in a temporary folder, running a golden project's deploy/supervisord.conf.
type supervisord struct {
	t      *testing.T
	ctl    string
	config string
	cmd    *exec.Cmd
	exited chan struct{}
}

// status returns what supervisorctl says of the program: its state and pid (0 unless RUNNING).
func (s *supervisord) status(name string) (string, int) {
	s.t.Helper()
	// supervisorctl status exits non-zero for a program that is not running: read its output.
	out, _ := exec.Command(s.ctl, "-c", s.config, "status", name).CombinedOutput()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+([A-Z]+)(?:\s+pid (\d+))?`).FindStringSubmatch(string(out))
	if m == nil {
		return strings.TrimSpace(string(out)), 0
	}
	pid, _ := strconv.Atoi(m[2])
	return m[1], pid
}

// waitState polls the program's state until it is want.
func (s *supervisord) waitState(name, want string, timeout time.Duration) int {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		state, pid := s.status(name)
		if state == want {
			return pid
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("supervisorctl status %s = %s after %s, want %s", name, state, timeout, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// run runs supervisorctl with args and returns its output.
func (s *supervisord) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.ctl, append([]string{"-c", s.config}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("supervisorctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// startSupervisord runs supervisord in the foreground with the program configuration conf,
// passing env to the programs (they inherit supervisord's environment).
func startSupervisord(t *testing.T, dir, conf string, env []string) *supervisord {
	t.Helper()
	daemon := requireTool(t, "supervisord")
	s := &supervisord{t: t, ctl: requireTool(t, "supervisorctl"), config: filepath.Join(dir, "supervisord.conf"), exited: make(chan struct{})}
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf.d", "program.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	main := `[unix_http_server]
file=%(here)s/supervisor.sock

[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock

[include]
files = conf.d/*.conf
`
	if err := os.WriteFile(s.config, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(daemon, "-c", s.config)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = logFile(t), logFile(t)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		// SIGTERM: supervisord stops its programs, then exits.
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(60 * time.Second):
			_ = s.cmd.Process.Kill()
		}
		if t.Failed() {
			for _, name := range []string{"supervisord.log", "myblog.log"} {
				b, _ := os.ReadFile(filepath.Join(dir, name))
				t.Logf("%s:\n%s", name, b)
			}
		}
	})
	return s
}

// TestSupervisordRunsTheSupervisorStrategy runs golden/myblog-supervisor under a real
// supervisord with its generated deploy/supervisord.conf (paths moved into a temporary
// folder; as root, the program runs as user nobody, as user= says). Under load it restarts
// the app three times through `supervisorctl signal HUP`, each onto a rebuilt binary: no
// request fails and supervisord reports the program RUNNING with the same pid throughout.
// Then `supervisorctl stop` drains: a request in flight is answered, the program exits 0.
func TestSupervisordRunsTheSupervisorStrategy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the golden project under supervisord")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	project := filepath.Join("..", "golden", "myblog-supervisor")
	dir := t.TempDir()
	opt := filepath.Join(dir, "opt", "myblog")
	bin := filepath.Join(opt, "myblog")
	if err := os.MkdirAll(filepath.Join(opt, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := restarttest.Build(ctx, project, bin, "v1"); err != nil {
		t.Fatal(err)
	}
	ini, err := os.ReadFile(filepath.Join(project, "conf", "app.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(opt, "conf", "app.ini"), ini, 0o644); err != nil {
		t.Fatal(err)
	}

	conf, err := os.ReadFile(filepath.Join(project, "deploy", "supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	program := strings.NewReplacer("/opt/myblog", opt, "/var/log/myblog", dir).Replace(string(conf))
	runAs := "nobody"
	if os.Geteuid() == 0 {
		// The program's user must reach its folder, and write it (the SQLite database).
		makeReachable(t, dir)
		nobody, err := user.Lookup(runAs)
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(nobody.Uid)
		gid, _ := strconv.Atoi(nobody.Gid)
		if err := filepath.Walk(opt, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Chown(p, uid, gid)
		}); err != nil {
			t.Fatal(err)
		}
	} else {
		me, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		runAs = me.Username // supervisord cannot switch users unless it runs as root
	}
	program = regexp.MustCompile(`(?m)^user=.*$`).ReplaceAllString(program, "user="+runAs)

	port := closedPort(t)
	baseURL := "http://127.0.0.1:" + strconv.Itoa(port)
	sup := startSupervisord(t, dir, program, []string{
		"MYBLOG_SERVER_HTTPPORT=" + strconv.Itoa(port),
		"MYBLOG_SERVER_SHUTDOWNTIMEOUT=10s",
		"MYBLOG_SERVER_READYTIMEOUT=10s",
		"MYBLOG_APP_RUNMODE=release",
	})
	// RUNNING once the program has stayed up startsecs (5s).
	master := sup.waitState("myblog", "RUNNING", 30*time.Second)
	srv := &healthClient{baseURL: baseURL}
	first, err := srv.wait(ctx, 20*time.Second, func(restarttest.Health) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if first.PID == master {
		t.Fatalf("the master %d answers requests itself; a worker should", master)
	}
	if os.Geteuid() == 0 {
		if uid := processUID(t, first.PID); uid != "65534" {
			t.Errorf("the worker runs as uid %s, want nobody (65534) from user=", uid)
		}
	}

	load := restarttest.StartLoad(ctx, restarttest.LoadConfig{BaseURL: baseURL, KeepAlive: 8, Fresh: 4})
	prev := first
	for gen := 2; gen <= 4; gen++ {
		version := fmt.Sprintf("v%d", gen)
		if err := restarttest.Build(ctx, project, bin, version); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			if err := os.Chown(bin, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
		sup.run("signal", "HUP", "myblog")
		now, err := srv.wait(ctx, 20*time.Second, func(h restarttest.Health) bool { return h.Version == version && h.PID != prev.PID })
		if err != nil {
			t.Fatalf("after supervisorctl signal HUP %d: %v", gen-1, err)
		}
		if err := restarttest.WaitGone(prev.PID, 15*time.Second); err != nil {
			t.Errorf("old worker: %v", err)
		}
		if state, pid := sup.status("myblog"); state != "RUNNING" || pid != master {
			t.Errorf("after restart %d supervisord reports %s pid %d, want RUNNING pid %d", gen-1, state, pid, master)
		}
		prev = now
		time.Sleep(300 * time.Millisecond)
	}
	sum := restarttest.Summarize(load.Stop())
	t.Logf("supervisord: %s", sum)
	if sum.Failed != 0 {
		t.Errorf("%d of %d requests failed during the restarts: %v", sum.Failed, sum.Sent, sum.ByError)
	}
	if sum.Sent < 100 || len(sum.PIDs) < 4 {
		t.Errorf("load too thin to prove anything: %s", sum)
	}

	// supervisorctl stop drains: a request on a connection the worker accepted before the
	// stop, completed once the worker drains, is answered (with Connection: close), then the
	// program exits 0.
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: myblog\r\n")); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan string, 1)
	go func() {
		out, _ := exec.Command(sup.ctl, "-c", sup.config, "stop", "myblog").CombinedOutput()
		stopped <- string(out)
	}()
	waitForText(t, filepath.Join(dir, "myblog.log"), fmt.Sprintf(`"msg":"draining","role":"worker","pid":%d`, prev.PID), 20*time.Second)
	if _, err := conn.Write([]byte("\r\n")); err != nil {
		t.Fatalf("finishing the request in flight: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight during the stop got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("the request in flight during the stop got %d (close %v), want 200 with Connection: close", resp.StatusCode, resp.Close)
	}
	select {
	case out := <-stopped:
		if !strings.Contains(out, "myblog: stopped") {
			t.Errorf("supervisorctl stop: %s", out)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("supervisorctl stop did not return within 60s")
	}
	if state, _ := sup.status("myblog"); state != "STOPPED" {
		t.Errorf("after stop: %s, want STOPPED", state)
	}
	for _, pid := range []int{master, prev.PID} {
		if restarttest.Alive(pid) {
			t.Errorf("process %d outlived supervisorctl stop", pid)
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "supervisord.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "stopped: myblog (exit status 0)") {
		t.Errorf("supervisord did not see a clean exit:\n%s", log)
	}
}

// healthClient polls the /healthz of a server the harness did not start.
type healthClient struct{ baseURL string }

// wait polls until ok accepts an answer, each over a fresh connection.
func (c *healthClient) wait(ctx context.Context, timeout time.Duration, ok func(restarttest.Health) bool) (restarttest.Health, error) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	var last restarttest.Health
	var lastErr error
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/healthz", nil)
		if err != nil {
			return last, err
		}
		resp, err := client.Do(req)
		if err == nil {
			last = restarttest.Health{}
			err = decodeJSON(resp, &last)
			if err == nil && resp.StatusCode == http.StatusOK && ok(last) {
				return last, nil
			}
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	if lastErr == nil {
		lastErr = errors.New("it answers, but not as expected")
	}
	return last, fmt.Errorf("GET %s/healthz within %s: last answer %+v: %w", c.baseURL, timeout, last, lastErr)
}

// processUID is the real uid of a process, from /proc.
func processUID(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(v)[0]
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return ""
}

// waitForText waits until the file at path holds text.
func waitForText(t *testing.T, path, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not say %s after %s", path, text, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// makeReachable lets every user reach the files under root (test folders are private),
// for a process the test runs as another user.
func makeReachable(t *testing.T, root string) {
	t.Helper()
	if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return os.Chmod(p, 0o755)
	})
	if err != nil {
		t.Fatal(err)
	}
}
