package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
)

// Production hygiene of the generated service (issue 11), on real servers: one structured
// log stream, client IPs behind untrusted proxies, metrics across a restart, and idle
// connections against a low open-file limit.

// TestOneStructuredLogStreamAndMetricsAcrossARestart starts each strategy in release mode (as
// its deploy files do), sends requests with a forged X-Forwarded-For, a request id and a value
// that must not be logged, restarts it with SIGHUP, and checks that every line the server
// wrote is JSON, that the access log names the peer (not 6.6.6.6), the route template and the
// echoed request id, that no SQL value was logged, and that /metrics of the new generation
// counts requests by route and reports restart generation 1 and its hand-over time.
func TestOneStructuredLogStreamAndMetricsAcrossARestart(t *testing.T) {
	eachStrategy(t, func(t *testing.T, ctx context.Context, strategy string) {
		// /metrics is on the public port only when made public ([metrics] Public).
		srv := startProject(t, ctx, strategy, func(cfg *restarttest.ServerConfig) {
			cfg.Env = append(cfg.Env, "MYBLOG_METRICS_PUBLIC=true")
		})
		const secret = "hunter2-never-logged"
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.BaseURL+restarttest.PostPath,
			strings.NewReader(`{"title":"`+secret+`","body":"`+secret+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "6.6.6.6")
		req.Header.Set("X-Request-ID", "e2e-req-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != restarttest.PostStatus || resp.Header.Get("X-Request-ID") != "e2e-req-1" {
			t.Fatalf("POST %s = %d, X-Request-ID %q; want %d echoing e2e-req-1", restarttest.PostPath, resp.StatusCode, resp.Header.Get("X-Request-ID"), restarttest.PostStatus)
		}

		before, err := srv.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		settle(t, ctx, srv, before.PID)
		// Probes are not counted (routers.New): an API request after the restart is.
		if code := getStatus(t, ctx, srv.BaseURL+"/openapi.json"); code != http.StatusOK {
			t.Fatalf("GET /openapi.json on the new generation = %d, want 200", code)
		}
		metrics := getBody(t, ctx, srv.BaseURL+"/metrics")
		for _, re := range []string{
			`(?m)^restart_generation 1$`,
			`(?m)^restart_handover_seconds [0-9.e+-]+$`,
			`(?m)^http_requests_total\{method="GET",route="/openapi.json",status="200"\} 1$`,
			`(?m)^http_requests_in_flight `,
			`(?m)^go_sql_open_connections\{db_name="sqlite"\} `,
		} {
			if !regexp.MustCompile(re).MatchString(metrics) {
				t.Errorf("/metrics of the new generation does not match %s", re)
			}
		}
		if m := regexp.MustCompile(`(?m)^restart_handover_seconds ([0-9.e+-]+)$`).FindStringSubmatch(metrics); m != nil {
			if v, _ := strconv.ParseFloat(m[1], 64); v <= 0 || v > 30 {
				t.Errorf("restart_handover_seconds = %s, want a few seconds at most, above 0", m[1])
			}
		}
		if code := getStatus(t, ctx, srv.BaseURL+"/debug/pprof/"); code != http.StatusNotFound {
			t.Errorf("GET /debug/pprof/ on the public port = %d, want 404", code)
		}

		log := serverLog(t, srv)
		if strings.Contains(log, secret) {
			t.Errorf("the server's output holds a request's value")
		}
		var access map[string]any
		for line := range strings.Lines(log) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Errorf("a line of the server's output is not JSON: %q", line)
				continue
			}
			if m["msg"] == "request" && m["request_id"] == "e2e-req-1" {
				access = m
			}
		}
		if access == nil {
			t.Fatalf("no access log line with request_id e2e-req-1 in:\n%s", log)
		}
		for key, want := range map[string]any{"client_ip": "127.0.0.1", "route": restarttest.PostPath, "status": float64(restarttest.PostStatus)} {
			if access[key] != want {
				t.Errorf("access line %s = %v, want %v (%v)", key, access[key], want, access)
			}
		}
	})
}

// TestIdleConnectionsDoNotStopHealthz opens 1100 connections that never send a byte to a
// server whose open-file limit is 1024 (hard and soft, so the Go runtime cannot raise it),
// then asks /healthz on a fresh connection: [server] ReadHeaderTimeout (5s) closes the idle
// ones, so the answer comes within seconds instead of after ReadTimeout (60s).
func TestIdleConnectionsDoNotStopHealthz(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	bins, err := fixtures.Versions(ctx, restarttest.Fork, "v1")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := fixtures.Project(restarttest.Fork)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	log := logFile(t)
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `ulimit -n 1024 && exec "$0" -config "$1"`, bins[0], filepath.Join(dir, "conf", "app.ini"))
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "MYBLOG_SERVER_HTTPPORT="+strconv.Itoa(port), "MYBLOG_APP_PIDFILE="+filepath.Join(work, "myblog.pid"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitUp(t, ctx, base, 30*time.Second)
	if limit := openFileLimit(t, cmd.Process.Pid); limit != "1024" {
		t.Fatalf("the server's open-file limit is %q, want 1024", limit)
	}

	const idle = 1100
	conns := make([]net.Conn, 0, idle)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range idle {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err != nil {
			t.Fatalf("idle connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz behind %d idle connections: %v after %s", idle, err, time.Since(start))
	}
	resp.Body.Close()
	t.Logf("GET /healthz behind %d idle connections answered %d after %s", idle, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", resp.StatusCode)
	}
}

// openFileLimit reads the soft "Max open files" limit of pid.
func openFileLimit(t *testing.T, pid int) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Max open files"); ok {
			return strings.Fields(rest)[0]
		}
	}
	return ""
}

func getBody(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func getStatus(t *testing.T, ctx context.Context, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitUp polls /healthz until it answers 200.
func waitUp(t *testing.T, ctx context.Context, base string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/healthz did not answer 200 within %s: %v", base, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDeployFilesRunInReleaseMode: every unit, supervisord config, Dockerfile and Kubernetes
// deployment of the golden trees pins [app] RunMode to release through the environment,
// whatever a developer left in conf/app.ini, and the shipped conf/app.ini says release too.
func TestDeployFilesRunInReleaseMode(t *testing.T) {
	for _, dir := range goldenDirs(t) {
		prefix := strings.ToUpper(strings.ReplaceAll(manifestValue(t, dir, "name"), "-", "_"))
		files, _ := filepath.Glob(filepath.Join(dir, "deploy", "*.service"))
		if conf := filepath.Join(dir, "deploy", "supervisord.conf"); fileExists(conf) {
			files = append(files, conf)
		}
		if docker := filepath.Join(dir, "Dockerfile"); fileExists(docker) {
			files = append(files, docker)
		}
		if len(files) == 0 {
			t.Errorf("%s: no deploy file", dir)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`(?m)^(Environment=|environment=|ENV )` + prefix + `_APP_RUNMODE="?release"?$`).Match(b) {
				t.Errorf("%s does not set %s_APP_RUNMODE=release", f, prefix)
			}
		}
		if k8s := filepath.Join(dir, "deploy", "kubernetes", "base", "deployment.yaml"); fileExists(k8s) {
			b, err := os.ReadFile(k8s)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`- name: ` + prefix + `_APP_RUNMODE\s+value: release\n`).Match(b) {
				t.Errorf("%s does not set %s_APP_RUNMODE=release", k8s, prefix)
			}
		}
		ini, err := os.ReadFile(filepath.Join(dir, "conf", "app.ini"))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^RunMode = release$`).Match(ini) {
			t.Errorf("%s/conf/app.ini does not ship RunMode = release", dir)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestTheSecurityTableNamesTestsThatExist reads the "What is checked" table of every golden
// README and checks that each test it names is declared in the package it names: a package of
// the project, or the restart library (this checkout's restart/).
func TestTheSecurityTableNamesTestsThatExist(t *testing.T) {
	row := regexp.MustCompile("`([a-z/.]+)`: ((?:`Test[A-Za-z]+`(?:, )?)+)")
	root, err := restarttest.CheckoutRoot()
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile("`(Test[A-Za-z]+)`")
	for _, dir := range goldenDirs(t) {
		readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		_, table, ok := strings.Cut(string(readme), "What is checked")
		if !ok {
			t.Errorf("%s/README.md has no security table", dir)
			continue
		}
		table, _, _ = strings.Cut(table, "\n## ")
		found := 0
		for _, m := range row.FindAllStringSubmatch(table, -1) {
			pkg := filepath.Join(dir, m[1])
			if m[1] == "github.com/gingen/gingen/restart" {
				pkg = filepath.Join(root, "restart")
			}
			files, _ := filepath.Glob(filepath.Join(pkg, "*_test.go"))
			var src strings.Builder
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				src.Write(b)
			}
			for _, n := range name.FindAllStringSubmatch(m[2], -1) {
				found++
				if !strings.Contains(src.String(), "func "+n[1]+"(t *testing.T)") {
					t.Errorf("%s/README.md names %s in %s, which does not declare it", dir, n[1], m[1])
				}
			}
		}
		if found < 10 {
			t.Errorf("%s/README.md: only %d tests named in the security table", dir, found)
		}
	}
}

// TestParallelBadLoginsAreThrottled replays the finding "64 parallel bad logins push /healthz
// to 1.3s": 64 wrong passwords at once from one client of a --auth jwt project. At most
// [auth] LoginAttemptsPerClient (10) reach the password check; the others answer 429 with a
// Retry-After, and the right password from that client is refused until then. The latency of
// /healthz during the burst is logged (a figure, not a pass condition).
func TestParallelBadLoginsAreThrottled(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	project := generateProject(t, generator.Options{Name: "myblog", Strategy: restarttest.Fork, Auth: generator.AuthJWT, Port: generator.DefaultPort})
	work := t.TempDir()
	bin := filepath.Join(work, "myblog")
	if err := restarttest.Build(ctx, project, bin, "v1"); err != nil {
		t.Fatal(err)
	}
	ini, err := os.ReadFile(filepath.Join(project, "conf", "app.ini"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(ini), "\nSecret =\n", "\nSecret = Zq4vB8nW2xK7mJ1pR9tY3cL6hF0dS5gE+aU/oI2wT8k=\n", 1)
	conf = strings.Replace(conf, "\nSeedPassword =\n", "\nSeedPassword = first-password\n", 1)
	srv, err := startMyblog(t, ctx, restarttest.Fork, bin, work, conf, logFile(t))
	if err != nil {
		t.Fatal(err)
	}

	const burst = 64
	codes := make(chan int, burst)
	retryAfter := make(chan string, burst)
	healthz := make(chan time.Duration, 1)
	start := make(chan struct{})
	for range burst {
		go func() {
			<-start
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.BaseURL+"/auth", strings.NewReader(`{"username":"admin","password":"wrong-password"}`))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
			retryAfter <- resp.Header.Get("Retry-After")
		}()
	}
	go func() {
		<-start
		time.Sleep(20 * time.Millisecond)
		began := time.Now()
		getStatus(t, ctx, srv.BaseURL+"/healthz")
		healthz <- time.Since(began)
	}()
	close(start)
	count := map[int]int{}
	for range burst {
		count[<-codes]++
	}
	t.Logf("%d parallel bad logins: %v (status: count); GET /healthz during the burst took %s", burst, count, (<-healthz).Round(time.Millisecond))
	if count[http.StatusUnauthorized] > 10 || count[http.StatusTooManyRequests] < burst-10 || count[0] != 0 {
		t.Errorf("answers %v; want at most 10 password checks (401) and 429 for the rest", count)
	}
	close(retryAfter)
	for v := range retryAfter {
		if v == "" {
			continue
		}
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 60 {
			t.Errorf("Retry-After %q, want 1 to 60 seconds", v)
		}
	}
	code, _, _ := authCall(t, ctx, http.MethodPost, srv.BaseURL+"/auth", `{"username":"admin","password":"first-password"}`, "")
	if code != http.StatusTooManyRequests {
		t.Errorf("the right password from the throttled client = %d, want 429", code)
	}
}

// TestTheAdminAddressServesMetricsAndPprofAcrossARestart starts the fork strategy with
// [admin] Addr set: /metrics and pprof answer there and not on the public port, and after a
// SIGHUP the new generation takes the admin address over (restart_generation 1).
func TestTheAdminAddressServesMetricsAndPprofAcrossARestart(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := "http://" + ln.Addr().String()
	ln.Close()
	srv := startProject(t, ctx, restarttest.Fork, func(c *restarttest.ServerConfig) {
		c.Env = append(c.Env, "MYBLOG_ADMIN_ADDR="+strings.TrimPrefix(admin, "http://"))
	})
	waitUp := func(url string, want *regexp.Regexp) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && want.Match(b) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s did not answer 200 matching %s within 30s (last error %v)", url, want, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitUp(admin+"/metrics", regexp.MustCompile(`(?m)^restart_generation 0$`))
	waitUp(admin+"/debug/pprof/cmdline", regexp.MustCompile(`myblog`))
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if code := getStatus(t, ctx, srv.BaseURL+path); code != http.StatusNotFound {
			t.Errorf("GET %s on the public port = %d, want 404", path, code)
		}
	}
	before, err := srv.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, srv, before.PID)
	waitUp(admin+"/metrics", regexp.MustCompile(`(?m)^restart_generation 1$`))
}
