package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

// dbServer is a database server the tests may use: .ci/databases starts one per database and
// prints its GINGEN_TEST_<DB>_* variables.
type dbServer struct {
	db                               string
	Host, Port, User, Password, Name string
}

// testServer returns the server of db (postgres or mysql) that the environment names.
func testServer(db string) (dbServer, bool) {
	prefix := "GINGEN_TEST_" + strings.ToUpper(db) + "_"
	s := dbServer{
		db:       db,
		Host:     os.Getenv(prefix + "HOST"),
		Port:     os.Getenv(prefix + "PORT"),
		User:     os.Getenv(prefix + "USER"),
		Password: os.Getenv(prefix + "PASSWORD"),
		Name:     os.Getenv(prefix + "NAME"),
	}
	return s, s.Host != "" && s.Port != "" && s.User != "" && s.Name != ""
}

// requireServer returns the test server of db; without one it skips the test, or fails it
// when CI=true, where .ci/run must have started it.
func requireServer(t *testing.T, db string) dbServer {
	t.Helper()
	s, ok := testServer(db)
	if ok {
		return s
	}
	missing(t, fmt.Sprintf("no %s server: run .ci/databases start && eval \"$(.ci/databases env)\"", db))
	return dbServer{}
}

// projectEnv returns the variables that point a generated project (settings prefix) at the
// server, with database name instead of the server's own when it is not empty.
func (s dbServer) projectEnv(prefix, name string) []string {
	if name == "" {
		name = s.Name
	}
	return []string{
		prefix + "_DATABASE_HOST=" + s.Host,
		prefix + "_DATABASE_PORT=" + s.Port,
		prefix + "_DATABASE_USER=" + s.User,
		prefix + "_DATABASE_PASSWORD=" + s.Password,
		prefix + "_DATABASE_NAME=" + name,
	}
}

// ini is the [database] section of a conf/app.ini for the database name on the server.
func (s dbServer) ini(name string) string {
	return fmt.Sprintf("[database]\nType = %s\nHost = %s\nPort = %s\nUser = %s\nPassword = %s\nName = %s\n",
		s.db, s.Host, s.Port, s.User, s.Password, name)
}

// sql runs statements as the test user with the server's command-line client.
func (s dbServer) sql(t *testing.T, statements string) {
	t.Helper()
	var cmd *exec.Cmd
	switch s.db {
	case generator.DBPostgres:
		cmd = exec.Command(requireTool(t, "psql"), "-h", s.Host, "-p", s.Port, "-U", s.User, "-d", s.Name, "-v", "ON_ERROR_STOP=1", "-qc", statements)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+s.Password)
	default:
		cmd = exec.Command(requireTool(t, "mariadb"), "--no-defaults", "-h", s.Host, "-P", s.Port, "-u", s.User, "-e", statements)
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+s.Password)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", statements, err, out)
	}
}

// freshDatabase creates an empty database on the server for this test and drops it after.
func (s dbServer) freshDatabase(t *testing.T, name string) {
	t.Helper()
	s.sql(t, "DROP DATABASE IF EXISTS "+name)
	s.sql(t, "CREATE DATABASE "+name)
	t.Cleanup(func() { s.sql(t, "DROP DATABASE IF EXISTS "+name) })
}

// dbControl stops and starts the test servers (.ci/databases, named by GINGEN_TEST_DB_CTL).
func dbControl(t *testing.T, action, db string) {
	t.Helper()
	ctl := os.Getenv("GINGEN_TEST_DB_CTL")
	if ctl == "" {
		t.Fatal("GINGEN_TEST_DB_CTL is not set: eval \"$(.ci/databases env)\"")
	}
	if out, err := exec.Command(ctl, action, db).CombinedOutput(); err != nil {
		t.Fatalf("%s %s %s: %v\n%s", ctl, action, db, err, out)
	}
}

// goldenDBEnv points the tests of a golden tree at the test server of its database, when
// there is one; without it the tree's database tests skip, or fail when CI=true.
func goldenDBEnv(t *testing.T, dir string) []string {
	t.Helper()
	db := manifestValue(t, dir, "db")
	if s, ok := testServer(db); ok {
		return s.projectEnv(generator.EnvPrefix(projectName(t, dir)), "")
	}
	return nil
}

// manifestValue reads a top-level key of a golden tree's gingen.yaml.
func manifestValue(t *testing.T, dir, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "gingen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// generateProject writes a project with opts and the resources, through the same generator
// calls as `gingen new` and `gingen add resource`, and returns its root.
func generateProject(t *testing.T, opts generator.Options, resources ...generator.ResourceOptions) string {
	t.Helper()
	opts.Normalize()
	files, err := generator.PlanProject(opts, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), opts.Name)
	if _, err := generator.WriteProject(root, files, generator.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range resources {
		plan, err := generator.PlanAddResource(os.DirFS(root), r, templates.FS())
		if err != nil {
			t.Fatal(err)
		}
		if err := plan.Apply(root); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// blogResources are the three resources, as crud_test.go adds them.
func blogResources() []generator.ResourceOptions {
	return []generator.ResourceOptions{
		{Name: "article", Fields: []string{"title:string", "body:text", "published:bool", "views:int", "published_at:time"}},
		{Name: "tag", Fields: []string{"name:string:unique"}},
		{Name: "comment", Fields: []string{"article:references", "author:string", "body:text"}},
	}
}

// goTest runs the project's own tests with env added.
func goTest(t *testing.T, dir string, env []string) {
	t.Helper()
	cmd := restarttest.GoCmd(t.Context(), dir, "test", "-count=1", "./...")
	cmd.Env = append(append(cmd.Env, env...), "CI=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test ./... in %s: %v\n%s", dir, err, out)
	}
}

// writeConfig writes a conf/app.ini with body for restarttest.Start to copy.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.ini")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startMyblog starts the myblog binary bin, built into work, with conf as its conf/app.ini,
// as the strategy's deploy files would, logging to log; the server is killed when the test
// ends.
func startMyblog(t *testing.T, ctx context.Context, strategy, bin, work, conf string, log *os.File) (*restarttest.Server, error) {
	t.Helper()
	srv, err := restarttest.Start(ctx, restarttest.ServerConfig{
		Strategy:        strategy,
		Binary:          bin,
		ConfigFile:      writeConfig(t, conf),
		WorkDir:         work,
		EnvPrefix:       "MYBLOG",
		ShutdownTimeout: 10 * time.Second,
		ReadyTimeout:    10 * time.Second,
		Log:             log,
	})
	if err == nil {
		t.Cleanup(srv.Kill)
	}
	return srv, err
}

// healthz is the body of GET /healthz with the database's state.
type healthz struct {
	restarttest.Health
	Database string `json:"database"`
}

// TestServerDatabasesServeCRUDAndSurviveAnOutage runs, for PostgreSQL and MySQL (MariaDB), a
// project with the resources against a real server: its own test suite, the CRUD
// end-to-end test with a restart, then an outage: the server is stopped while the project
// serves (requests that need it answer 503, /readyz 503, /healthz 200 reporting it down) and
// started again (everything answers again, with the data, without a restart).
func TestServerDatabasesServeCRUDAndSurviveAnOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, builds and runs projects against database servers")
	}
	for _, tc := range []struct{ db, strategy string }{
		{generator.DBPostgres, restarttest.Fork},
		{generator.DBMySQL, restarttest.Supervisor},
	} {
		t.Run(tc.db, func(t *testing.T) {
			server := requireServer(t, tc.db)
			// The project's own tests against this server are
			// TestAddFieldProjectsPassTheirTestsOnEveryDatabase's (the same resources, and
			// more), run in parallel once the serial tests, this outage among them, end.
			project := generateProject(t, generator.Options{Name: "myblog", Strategy: tc.strategy, DB: tc.db, Port: generator.DefaultPort}, blogResources()...)
			work := t.TempDir()
			bin := filepath.Join(work, "myblog")
			// The build first, outside the bound of the serving and the outage: on a cold
			// build cache compiling the dependencies alone took longer than that bound.
			if err := restarttest.Build(t.Context(), project, bin, "v1"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
			defer cancel()

			name := "gingen_e2e_crud"
			server.freshDatabase(t, name)
			srv, err := startMyblog(t, ctx, tc.strategy, bin, work, server.ini(name), logFile(t))
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Timeout: 15 * time.Second}
			api := &apiClient{t: t, ctx: ctx, baseURL: srv.BaseURL + "/api/v1", http: client}
			exerciseCRUD(t, api, srv)

			// The outage. Whatever happens, the server is started again for the other tests.
			t.Cleanup(func() { dbControl(t, "start", tc.db) })
			dbControl(t, "stop", tc.db)
			waitStatus(t, api, http.StatusOK, http.StatusServiceUnavailable, "/articles/2", 20*time.Second)
			out := api.expect(http.StatusServiceUnavailable, http.MethodPost, "/articles", map[string]any{"title": "lost", "body": "down"})
			if msg, _ := out["error"].(string); !strings.Contains(msg, "database unavailable") {
				t.Errorf("POST while the database is down: %v, want a database unavailable error", out)
			}
			if code, header := httpGet(t, ctx, client, srv.BaseURL+"/api/v1/articles"); code != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
				t.Errorf("GET /api/v1/articles with the database down = %d, Retry-After %q; want 503 with Retry-After", code, header.Get("Retry-After"))
			}
			waitHealth(t, ctx, srv.BaseURL, "down", 10*time.Second)
			if code, _ := httpGet(t, ctx, client, srv.BaseURL+"/readyz"); code != http.StatusServiceUnavailable {
				t.Errorf("GET /readyz with the database down = %d, want 503", code)
			}

			dbControl(t, "start", tc.db)
			waitStatus(t, api, http.StatusServiceUnavailable, http.StatusOK, "/articles/2", 30*time.Second)
			waitHealth(t, ctx, srv.BaseURL, "up", 10*time.Second)
			if code, _ := httpGet(t, ctx, client, srv.BaseURL+"/readyz"); code != http.StatusOK {
				t.Errorf("GET /readyz with the database back = %d, want 200", code)
			}
			api.expect(http.StatusCreated, http.MethodPost, "/articles", map[string]any{"title": "after", "body": "the outage"})
			if list := api.expect(http.StatusOK, http.MethodGet, "/articles", nil); list["total"] != float64(25) {
				t.Errorf("total after the outage = %v, want the 24 articles from before and 1 since", list["total"])
			}
		})
	}
}

// waitStatus repeats a GET until it answers want, or fails after timeout. Until then every
// answer must be from, the status before the change: nothing else, no 500.
func waitStatus(t *testing.T, api *apiClient, from, want int, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, out := api.call(http.MethodGet, path, nil)
		if got == want {
			return
		}
		if got != from {
			t.Fatalf("GET %s = %d %v while waiting for %d; want only %d or %d", path, got, out, want, from, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %v after %s, want %d", path, got, out, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitHealth polls /healthz until it reports the database state want; it must stay 200.
func waitHealth(t *testing.T, ctx context.Context, baseURL, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last healthz
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		err = decodeJSON(resp, &last)
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("GET /healthz = %d (%v), want 200 whatever the database", resp.StatusCode, err)
		}
		if last.Database == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET /healthz reports database %q after %s, want %q", last.Database, timeout, want)
}

// httpGet sends a GET and returns the status and the headers of the answer.
func httpGet(t *testing.T, ctx context.Context, client *http.Client, url string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestADatabaseDownAtStartIsAClearFailure starts the golden PostgreSQL and MySQL projects
// against a port nothing listens on: each exits with status 1 and one line naming the
// server, without a panic; with ConnectRetries it retries with a backoff first. With a test
// server, it also starts a project while the server is down and starts the server during
// the retries: the project then serves.
func TestADatabaseDownAtStartIsAClearFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the golden projects")
	}
	for _, tc := range []struct{ golden, db string }{
		{"myblog-postgres", generator.DBPostgres},
		{"myblog-mysql-jwt", generator.DBMySQL},
	} {
		t.Run(tc.db, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			bin := filepath.Join(t.TempDir(), "myblog")
			installGolden(t, ctx, tc.golden, "v1", bin)
			port := closedPort(t)
			run := func(retries int) (string, time.Duration, error) {
				cmd := exec.CommandContext(ctx, bin, "-config", writeConfig(t, fmt.Sprintf(
					"[database]\nType = %s\nHost = 127.0.0.1\nPort = %d\nConnectTimeout = 2s\nConnectRetries = %d\n", tc.db, port, retries)))
				cmd.Dir = t.TempDir()
				cmd.Env = append(os.Environ(), "MYBLOG_AUTH_SECRET=Zq4vB8nW2xK7mJ1pR9tY3cL6hF0dS5gE+aU/oI2wT8k=", "MYBLOG_SERVER_HTTPPORT="+strconv.Itoa(closedPort(t)))
				start := time.Now()
				out, err := cmd.CombinedOutput()
				return string(out), time.Since(start), err
			}

			out, took, err := run(0)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v after %s, want status 1\n%s", err, took, out)
			}
			want := fmt.Sprintf("connect to %s at 127.0.0.1:%d", tc.db, port)
			lastLine := lastLine(out)
			if !strings.HasPrefix(lastLine, "myblog: ") || !strings.Contains(lastLine, want) || strings.Contains(out, "panic") {
				t.Errorf("output:\n%s\nwant a last line starting myblog: naming %q, and no panic", out, want)
			}
			if took > 10*time.Second {
				t.Errorf("gave up after %s, want about the 2s ConnectTimeout at most", took)
			}

			out, took, err = run(2)
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "gave up after 3 attempts") || strings.Count(out, "retrying") != 2 {
				t.Fatalf("with ConnectRetries = 2: %v after %s\n%s\nwant two retries logged, then status 1", err, took, out)
			}
			if took < 3*time.Second {
				t.Errorf("3 attempts took %s, want the 1s and 2s backoffs between them", took)
			}
		})
	}
}

// TestAProjectWaitsForItsDatabaseWithConnectRetries starts a project while its server is
// down, with ConnectRetries; the server comes up during the retries and the project serves.
func TestAProjectWaitsForItsDatabaseWithConnectRetries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the golden project")
	}
	server := requireServer(t, generator.DBPostgres)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	work := t.TempDir()
	bin := filepath.Join(work, "myblog")
	installGolden(t, ctx, "myblog-postgres", "v1", bin)
	name := "gingen_e2e_retries"
	server.freshDatabase(t, name)

	t.Cleanup(func() { dbControl(t, "start", generator.DBPostgres) })
	dbControl(t, "stop", generator.DBPostgres)
	started := make(chan error, 1)
	go func() {
		time.Sleep(2 * time.Second)
		out, err := exec.Command(os.Getenv("GINGEN_TEST_DB_CTL"), "start", generator.DBPostgres).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("start postgres: %w\n%s", err, out)
		}
		started <- err
	}()
	log := logFile(t)
	srv, err := startMyblog(t, ctx, restarttest.Fork, bin, work, server.ini(name)+"ConnectRetries = 6\n", log)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	waitHealth(t, ctx, srv.BaseURL, "up", 10*time.Second)
	out, err := os.ReadFile(log.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "database unreachable; retrying") {
		t.Errorf("the server serves, but did not log its retries:\n%s", out)
	}
}

// decodeJSON decodes a response's body into v and closes it.
func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
