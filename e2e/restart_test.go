package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/internal/restarttest"
)

// logFile collects a server's output; it is printed when the test fails.
func logFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			t.Logf("server output:\n%s", b)
		}
		f.Close()
	})
	return f
}

// startGolden builds golden/myblog-<strategy> as v1 and starts it as its deploy files would.
func startGolden(t *testing.T, ctx context.Context, strategy string) (*restarttest.Server, string) {
	t.Helper()
	project := filepath.Join("..", "golden", "myblog-"+strategy)
	work := t.TempDir()
	bin := filepath.Join(work, "myblog")
	if err := restarttest.Build(ctx, project, bin, "v1"); err != nil {
		t.Fatal(err)
	}
	srv, err := restarttest.Start(ctx, restarttest.ServerConfig{
		Strategy:        strategy,
		Binary:          bin,
		ConfigFile:      filepath.Join(project, "conf", "app.ini"),
		WorkDir:         work,
		EnvPrefix:       "MYBLOG",
		ShutdownTimeout: 10 * time.Second,
		ReadyTimeout:    10 * time.Second,
		Log:             logFile(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Kill)
	return srv, project
}

// TestSIGHUPHandsOverWithoutFailedRequests is the seed tutorial's definition of graceful,
// for every strategy: while clients keep requesting (over kept-alive and fresh connections),
// SIGHUP three times, each time onto a rebuilt binary, and check that no request failed,
// that the new binary serves afterwards, that the old generation exited, and that the
// strategy's identity rule holds. Then SIGTERM shuts the last generation down cleanly.
func TestSIGHUPHandsOverWithoutFailedRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the golden projects")
	}
	for _, strategy := range []string{restarttest.Fork, restarttest.Supervisor, restarttest.Systemd} {
		t.Run(strategy, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			srv, project := startGolden(t, ctx, strategy)
			bin := filepath.Join(filepath.Dir(srv.PIDFile()), "myblog")
			masterPID := srv.StartedPID()
			first, err := srv.Health(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if strategy == restarttest.Systemd && !srv.Notify.WaitCount("READY", "1", 1, 5*time.Second) {
				t.Fatalf("no READY=1 after start; got %v", srv.Notify.Messages())
			}

			load := restarttest.StartLoad(ctx, restarttest.LoadConfig{BaseURL: srv.BaseURL, KeepAlive: 12, Fresh: 4})
			prev := first
			for gen := 2; gen <= 4; gen++ {
				version := fmt.Sprintf("v%d", gen)
				if err := restarttest.Build(ctx, project, bin, version); err != nil {
					t.Fatal(err)
				}
				if err := srv.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				now, err := srv.WaitFor(ctx, 20*time.Second, func(h restarttest.Health) bool {
					return h.Version == version && h.PID != prev.PID
				})
				if err != nil {
					t.Fatalf("after SIGHUP %d: %v", gen-1, err)
				}
				if err := restarttest.WaitGone(prev.PID, 15*time.Second); err != nil {
					t.Errorf("old generation: %v", err)
				}
				checkIdentity(t, srv, strategy, masterPID, now.PID, gen)
				prev = now
				time.Sleep(300 * time.Millisecond) // steady state between restarts
			}
			sum := restarttest.Summarize(load.Stop())
			t.Logf("%s: %s", strategy, sum)
			if sum.Failed != 0 {
				t.Errorf("%d of %d requests failed during restarts: %v", sum.Failed, sum.Sent, sum.ByError)
			}
			if sum.Sent < 100 || len(sum.PIDs) < 4 {
				t.Errorf("load too thin to prove anything: %s", sum)
			}

			// SIGTERM: graceful shutdown, exit status 0, no process left behind.
			last, _ := srv.MainPID()
			if err := srv.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := restarttest.WaitGone(last, 15*time.Second); err != nil {
				t.Fatal(err)
			}
			if strategy != restarttest.Fork { // a forked generation is not the harness's child
				<-srv.Exited()
				if err := srv.ExitErr(); err != nil {
					t.Errorf("exit after SIGTERM: %v, want status 0", err)
				}
			}
			if left := srv.GroupPIDs(); len(left) != 0 {
				t.Errorf("processes left after SIGTERM: %v", left)
			}
		})
	}
}

// checkIdentity checks who a service manager would see after a restart.
func checkIdentity(t *testing.T, srv *restarttest.Server, strategy string, masterPID, servingPID, gen int) {
	t.Helper()
	switch strategy {
	case restarttest.Fork:
		pid, err := restarttest.ReadPIDFile(srv.PIDFile())
		if err != nil || pid != servingPID {
			t.Errorf("PID file names %d (%v), want the serving process %d", pid, err, servingPID)
		}
	case restarttest.Supervisor:
		if !restarttest.Alive(masterPID) {
			t.Errorf("master %d is gone; its pid must stay stable", masterPID)
		}
		if servingPID == masterPID {
			t.Errorf("the master %d serves requests itself; a worker should", masterPID)
		}
	case restarttest.Systemd:
		if !srv.Notify.WaitCount("READY", "1", gen, 5*time.Second) {
			t.Errorf("READY=1 count %d after restart %d, want %d", srv.Notify.Count("READY", "1"), gen-1, gen)
		}
		if pid := srv.Notify.MainPID(); pid != servingPID {
			t.Errorf("last MAINPID=%d, want the serving process %d", pid, servingPID)
		}
	}
}
