package e2e

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/e2etest"
	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// logFile collects a server's output; it is printed, summed up, when the test fails.
func logFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			t.Logf("server output:\n%s", restarttest.SummarizeServerLog(b))
		}
		f.Close()
	})
	return f
}

// startProject starts v1 of myblog with the strategy's restart code and golden/myblog-article's
// resources, as its deploy files would, with 10s drain and ready timeouts unless change says
// otherwise. The server is killed when the test ends.
func startProject(t *testing.T, ctx context.Context, strategy string, change func(*restarttest.ServerConfig)) *restarttest.Server {
	t.Helper()
	cfg := restarttest.ServerConfig{
		WorkDir:         t.TempDir(),
		ShutdownTimeout: 10 * time.Second,
		ReadyTimeout:    10 * time.Second,
		Log:             logFile(t),
	}
	if change != nil {
		change(&cfg)
	}
	srv, err := fixtures.Start(ctx, strategy, "v1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Kill)
	return srv
}

// testLoad is the tests' traffic (e2etest.TestLoad).
func testLoad() restarttest.LoadConfig { return e2etest.TestLoad() }

// slowPost is a POST /api/v1/articles whose body trickles for trickle (e2etest.SlowPost).
func slowPost(trickle time.Duration) restarttest.SlowConfig { return e2etest.SlowPost(trickle) }

// strategies are the restart strategies (e2etest.Strategies).
var strategies = e2etest.Strategies()

// testTimeout bounds every test that runs servers.
const testTimeout = 2 * time.Minute

func skipShort(t *testing.T) {
	t.Helper()
	e2etest.SkipShort(t)
}

// eachStrategy runs test as a subtest per strategy, each with its own bounded context.
func eachStrategy(t *testing.T, test func(t *testing.T, ctx context.Context, strategy string)) {
	t.Helper()
	skipShort(t)
	for _, strategy := range strategies {
		t.Run(strategy, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			test(t, ctx, strategy)
		})
	}
}

// TestSIGHUPHandsOverWithoutFailedRequests is the seed tutorial's definition of graceful,
// for every strategy: while clients keep requesting (GETs and POSTs, over kept-alive and
// fresh connections) and slow POSTs are in flight, SIGHUP three times, each time onto a
// rebuilt binary, and check that no request failed, that the slow POSTs completed on the old
// generation, that the new binary serves afterwards, that the old generation exited within its
// ShutdownTimeout, and that the strategy's identity rule holds. Then SIGTERM shuts the last
// generation down cleanly.
func TestSIGHUPHandsOverWithoutFailedRequests(t *testing.T) {
	eachStrategy(t, func(t *testing.T, ctx context.Context, strategy string) {
		restartUnderLoad(t, ctx, strategy, restarttest.Reload, "v2", "v3", "v4")
	})
}

// TestSystemdRestartQueuesConnectionsOnTheHeldSocket: `systemctl restart` of the systemd
// strategy stops the process and starts the new binary on the socket systemd kept open, so
// connections made in between wait in its backlog instead of being refused.
func TestSystemdRestartQueuesConnectionsOnTheHeldSocket(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	restartUnderLoad(t, ctx, restarttest.Systemd, restarttest.Restart, "v2", "v3")
}

// restartUnderLoad restarts a server of the strategy once per version under testLoad, with
// two slow POSTs in flight across every restart, checks the run, then shuts the server down.
func restartUnderLoad(t *testing.T, ctx context.Context, strategy string, mode restarttest.Mode, versions ...string) {
	t.Helper()
	bins, err := fixtures.Versions(ctx, strategy, versions...)
	if err != nil {
		t.Fatal(err)
	}
	srv := startProject(t, ctx, strategy, nil)
	run, err := restarttest.RunRestarts(ctx, srv, srv.Config().Binary, restarttest.Plan{
		Mode:      mode,
		Binaries:  bins,
		Versions:  versions,
		Steady:    300 * time.Millisecond,
		Load:      testLoad(),
		SlowCount: 2,
		Slow:      slowPost(time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, run, len(versions))
	checkCleanShutdown(t, srv)
}

// checkRun fails the test for every broken rule of run and for every failed request.
func checkRun(t *testing.T, run *restarttest.Run, restarts int) {
	t.Helper()
	f := run.Figures()
	t.Logf("%s: %s; slow %d/%d; restart windows p99 %s, steady p99 %s", run.Strategy, f.Summary,
		f.SlowOK, f.Slow, f.All.InRestart.P99, f.All.Steady.P99)
	for _, p := range run.Problems {
		t.Error(p)
	}
	if f.Restarts != restarts {
		t.Errorf("%d restarts done, want %d", f.Restarts, restarts)
	}
	if f.Failed != 0 {
		t.Errorf("%d of %d requests failed during restarts: %v", f.Failed, f.Sent, f.ByError)
	}
	if f.Sent < 100 || len(f.PIDs) < restarts+1 {
		t.Errorf("load too thin to prove anything: %s", f.Summary)
	}
	if want := restarts * run.Plan.SlowCount; f.Slow != want {
		t.Errorf("%d slow requests kept in flight, want %d", f.Slow, want)
	}
}

// checkCleanShutdown: SIGTERM shuts the server down gracefully, exit status 0 (when the
// harness started the last generation itself), no process left behind.
func checkCleanShutdown(t *testing.T, srv *restarttest.Server) {
	t.Helper()
	last, err := srv.MainPID()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := restarttest.WaitGone(last, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if last == srv.StartedPID() || srv.Config().Strategy != restarttest.Fork {
		// A generation started by a SIGHUP restart is not the harness's child.
		<-srv.Exited()
		if err := srv.ExitErr(); err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
	}
	if left := srv.GroupPIDs(); len(left) != 0 {
		t.Errorf("processes left after SIGTERM: %v", left)
	}
}
