package e2e

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// The faults every strategy must survive, each under load. Timings are measured and logged;
// cmd/restartbench reports them. The assertions are about outcomes.

// serving is how many processes of each strategy run in steady state.
var serving = map[string]int{restarttest.Fork: 1, restarttest.Supervisor: 2, restarttest.Systemd: 2}

// serverLog returns what the server has logged so far.
func serverLog(t *testing.T, srv *restarttest.Server) string {
	t.Helper()
	f, ok := srv.Config().Log.(*os.File)
	if !ok {
		t.Fatal("the server's log is not a file")
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitLog waits until the server's log matches re.
func waitLog(t *testing.T, srv *restarttest.Server, re *regexp.Regexp, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !re.MatchString(serverLog(t, srv)) {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not log %q within %s", re, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitProcesses waits until the server runs exactly its steady-state number of processes.
func waitProcesses(t *testing.T, srv *restarttest.Server, timeout time.Duration) {
	t.Helper()
	want := serving[srv.Config().Strategy]
	deadline := time.Now().Add(timeout)
	for {
		pids := srv.GroupPIDs()
		if len(pids) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v, want %d (leaked or missing)", pids, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startLoad runs testLoad against srv until the test stops it (or ends).
func startLoad(t *testing.T, ctx context.Context, srv *restarttest.Server) *restarttest.Load {
	t.Helper()
	cfg := testLoad()
	cfg.BaseURL = srv.BaseURL
	load := restarttest.StartLoad(ctx, cfg)
	t.Cleanup(func() { load.Stop() })
	return load
}

// checkNoFailures fails the test for every failed request.
func checkNoFailures(t *testing.T, results []restarttest.Result) restarttest.Summary {
	t.Helper()
	sum := restarttest.Summarize(results)
	t.Logf("load: %s", sum)
	if sum.Failed != 0 {
		t.Errorf("%d of %d requests failed: %v", sum.Failed, sum.Sent, sum.ByError)
	}
	if sum.Sent < 100 {
		t.Errorf("load too thin to prove anything: %s", sum)
	}
	return sum
}

// restartFailed is the log line of every strategy when a new generation does not come up.
var restartFailed = regexp.MustCompile(`"level":"ERROR","msg":"(restart|reload) failed[^"]*keeps serving"`)

// TestBrokenNewBinaryKeepsTheOldGenerationServing: a SIGHUP onto a binary that exits at
// start, or that never becomes ready (killed at ReadyTimeout), leaves the old generation
// serving with its identity unchanged, logs the failure, loses no request, leaks no process,
// and a later SIGHUP onto a good binary still works.
func TestBrokenNewBinaryKeepsTheOldGenerationServing(t *testing.T) {
	broken := []struct {
		name  string
		build func(context.Context) (string, error)
	}{
		{"exits at start", fixtures.Failing},
		{"never ready", fixtures.Hanging},
	}
	eachStrategy(t, func(t *testing.T, ctx context.Context, strategy string) {
		for _, b := range broken {
			t.Run(b.name, func(t *testing.T) {
				bad, err := b.build(ctx)
				if err != nil {
					t.Fatal(err)
				}
				good, err := fixtures.Versions(ctx, strategy, "v2")
				if err != nil {
					t.Fatal(err)
				}
				srv := startProject(t, ctx, strategy, func(c *restarttest.ServerConfig) { c.ReadyTimeout = 2 * time.Second })
				bin := srv.Config().Binary
				before, err := srv.Health(ctx)
				if err != nil {
					t.Fatal(err)
				}
				mainBefore, err := srv.MainPID()
				if err != nil {
					t.Fatal(err)
				}
				load := startLoad(t, ctx, srv)
				time.Sleep(300 * time.Millisecond)

				if err := restarttest.Install(bad, bin); err != nil {
					t.Fatal(err)
				}
				if err := srv.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				waitLog(t, srv, restartFailed, 30*time.Second)
				waitProcesses(t, srv, 10*time.Second)
				if h, err := srv.Health(ctx); err != nil || h.PID != before.PID {
					t.Fatalf("after the failed restart /healthz answers %+v (%v), want the old generation %d", h, err, before.PID)
				}
				if pid, err := srv.MainPID(); err != nil || pid != mainBefore {
					t.Errorf("after the failed restart the main pid is %d (%v), want %d unchanged", pid, err, mainBefore)
				}
				// systemd's reload ends with READY=1 from the master, also when the new worker failed.
				if strategy == restarttest.Systemd && !srv.Notify.WaitCount("READY", "1", 2, 5*time.Second) {
					t.Errorf("no READY=1 after the failed reload; got %v", srv.Notify.Messages())
				}
				time.Sleep(300 * time.Millisecond)

				if err := restarttest.Install(good[0], bin); err != nil {
					t.Fatal(err)
				}
				if err := srv.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				if _, err := srv.WaitFor(ctx, 30*time.Second, func(h restarttest.Health) bool {
					return h.Version == "v2" && h.PID != before.PID
				}); err != nil {
					t.Fatalf("the good restart after the failed one: %v", err)
				}
				if err := restarttest.WaitGone(before.PID, 15*time.Second); err != nil {
					t.Error(err)
				}
				time.Sleep(300 * time.Millisecond)
				checkNoFailures(t, load.Stop())
				waitProcesses(t, srv, 10*time.Second)
			})
		}
	})
}

// TestRestartStormEndsWithOneGeneration: five SIGHUPs within 100ms, each sent to the main pid
// of the moment as `kill -HUP $(cat myblog.pid)` would: no crash, no failed request, no
// leaked process, and afterwards exactly one generation serves the new binary.
func TestRestartStormEndsWithOneGeneration(t *testing.T) {
	eachStrategy(t, func(t *testing.T, ctx context.Context, strategy string) {
		good, err := fixtures.Versions(ctx, strategy, "v2")
		if err != nil {
			t.Fatal(err)
		}
		srv := startProject(t, ctx, strategy, nil)
		master := srv.StartedPID()
		before, err := srv.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		load := startLoad(t, ctx, srv)
		time.Sleep(300 * time.Millisecond)
		if err := restarttest.Install(good[0], srv.Config().Binary); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if err := srv.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		after := settle(t, ctx, srv, before.PID)
		checkNoFailures(t, load.Stop())
		if after.Version != "v2" {
			t.Errorf("after the storm version %q serves, want v2", after.Version)
		}
		if strategy != restarttest.Fork && (srv.StartedPID() != master || !restarttest.Alive(master)) {
			t.Errorf("the %s master %d did not survive the storm", strategy, master)
		}
		if log := serverLog(t, srv); strings.Contains(log, "panic:") || strings.Contains(log, "fatal error:") {
			t.Errorf("a process crashed during the storm")
		}
	})
}

// settle waits until the storm is over: for two seconds in a row the strategy runs its
// steady-state number of processes, and fresh connections are all answered by the main pid,
// which is not old. It returns that generation's answer.
func settle(t *testing.T, ctx context.Context, srv *restarttest.Server, old int) restarttest.Health {
	t.Helper()
	const stable = 2 * time.Second
	deadline := time.Now().Add(60 * time.Second)
	var last restarttest.Health
	var since time.Time // when last started to answer, zero while unsettled
	for time.Now().Before(deadline) {
		h, err := srv.Health(ctx)
		main, _ := srv.MainPID()
		ok := err == nil && h.PID != old && len(srv.GroupPIDs()) == serving[srv.Config().Strategy] &&
			(h.PID == main || srv.Config().Strategy != restarttest.Fork)
		switch {
		case !ok:
			since = time.Time{}
		case since.IsZero() || h.PID != last.PID:
			since = time.Now()
		case time.Since(since) >= stable:
			return h
		}
		last = h
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the server did not settle on one new generation within 60s; processes %v, last answer %+v",
		srv.GroupPIDs(), last)
	return last
}

// TestSupervisorWorkerKilledUnderLoad: SIGKILL of the worker under load. The master starts a
// new worker; requests in flight on the killed worker may fail (counted and logged); every
// request started a second after the kill succeeds.
func TestSupervisorWorkerKilledUnderLoad(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := startProject(t, ctx, restarttest.Supervisor, nil)
	master := srv.StartedPID()
	load := startLoad(t, ctx, srv)
	time.Sleep(500 * time.Millisecond)
	kill, err := restarttest.KillWorker(ctx, srv)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	results := load.Stop()

	sum := restarttest.Summarize(results)
	var late []restarttest.Result
	for _, r := range results {
		if r.Err != "" && r.Start.After(kill.Killed.Add(time.Second)) {
			late = append(late, r)
		}
	}
	t.Logf("worker %d killed; worker %d answered %s later; load: %s", kill.OldPID, kill.NewPID,
		kill.Recovered.Round(time.Millisecond), sum)
	if len(late) > 0 {
		t.Errorf("%d requests started over a second after the kill failed, e.g. %+v", len(late), late[0])
	}
	if kill.Recovered > 5*time.Second {
		t.Errorf("the new worker answered only %s after the kill", kill.Recovered)
	}
	if srv.StartedPID() != master || !restarttest.Alive(master) {
		t.Errorf("master %d is gone", master)
	}
	waitProcesses(t, srv, 5*time.Second)
}

// TestSIGTERMUnderLoadDrainsInFlightRequests: SIGTERM while clients keep requesting and slow
// POSTs are in flight. The slow POSTs complete, every request sent on a kept-alive
// connection before the signal succeeds, no new connection is served once the drain has
// begun, and the process exits 0 within ShutdownTimeout leaving no process behind.
func TestSIGTERMUnderLoadDrainsInFlightRequests(t *testing.T) {
	eachStrategy(t, func(t *testing.T, ctx context.Context, strategy string) {
		srv := startProject(t, ctx, strategy, nil)
		shutdownTimeout := srv.Config().ShutdownTimeout
		load := startLoad(t, ctx, srv)
		time.Sleep(300 * time.Millisecond)
		slows := startSlows(t, ctx, srv, 3, 1500*time.Millisecond)

		term := time.Now()
		if err := syscall.Kill(srv.StartedPID(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// A new connection made once the drain has begun must not be served.
		time.Sleep(250 * time.Millisecond)
		probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 3 * time.Second}
		if resp, err := probe.Get(srv.BaseURL + "/healthz"); err == nil {
			resp.Body.Close()
			t.Errorf("a new connection during the drain was answered %s", resp.Status)
		} else {
			t.Logf("new connection during the drain: %s", restarttest.Classify(err))
		}

		for _, s := range slows {
			if res := s.Wait(); res.Err != "" {
				t.Errorf("slow request in flight at SIGTERM: %s", res.Err)
			}
		}
		select {
		case <-srv.Exited():
		case <-time.After(shutdownTimeout + 5*time.Second):
			t.Fatalf("still running %s after SIGTERM", shutdownTimeout+5*time.Second)
		}
		exited := srv.ExitedAt().Sub(term)
		results := load.Stop()
		if err := srv.ExitErr(); err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
		if exited > shutdownTimeout {
			t.Errorf("exited %s after SIGTERM, past ShutdownTimeout %s", exited, shutdownTimeout)
		}
		if strategy == restarttest.Systemd && srv.Notify.Count("STOPPING", "1") == 0 {
			t.Errorf("no STOPPING=1 sent; got %v", srv.Notify.Messages())
		}
		if left := srv.GroupPIDs(); len(left) != 0 {
			t.Errorf("processes left after SIGTERM: %v", left)
		}

		var before, after restarttest.Summary
		var servedLate int
		var early, late []restarttest.Result
		for _, r := range results {
			if r.Start.Before(term) {
				early = append(early, r)
				if r.KeepConn && r.Err != "" {
					t.Errorf("request on a kept-alive connection sent before SIGTERM failed: %+v", r)
				}
				continue
			}
			late = append(late, r)
			if !r.KeepConn && r.Err == "" && r.Start.After(term.Add(250*time.Millisecond)) {
				servedLate++
			}
		}
		before, after = restarttest.Summarize(early), restarttest.Summarize(late)
		t.Logf("exited %s after SIGTERM; before it: %s; after it: %s", exited.Round(time.Millisecond), before, after)
		if servedLate > 0 {
			t.Errorf("%d new connections were served after the drain began", servedLate)
		}
	})
}

// startSlows starts n slow POSTs on srv and waits until each is in flight.
func startSlows(t *testing.T, ctx context.Context, srv *restarttest.Server, n int, trickle time.Duration) []*restarttest.SlowRequest {
	t.Helper()
	cfg := slowPost(trickle)
	cfg.Addr = strings.TrimPrefix(srv.BaseURL, "http://")
	var out []*restarttest.SlowRequest
	for range n {
		s, err := restarttest.StartSlow(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestRequestPastShutdownTimeoutIsCutOff: a request still running when ShutdownTimeout
// expires is cut off and the process exits anyway, instead of hanging.
func TestRequestPastShutdownTimeoutIsCutOff(t *testing.T) {
	eachStrategy(t, func(t *testing.T, ctx context.Context, strategy string) {
		const shutdownTimeout = 2 * time.Second
		srv := startProject(t, ctx, strategy, func(c *restarttest.ServerConfig) { c.ShutdownTimeout = shutdownTimeout })
		slow := startSlows(t, ctx, srv, 1, 8*time.Second)[0]
		term := time.Now()
		if err := syscall.Kill(srv.StartedPID(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-srv.Exited():
		case <-time.After(shutdownTimeout + 10*time.Second):
			t.Fatalf("hangs: still running %s after SIGTERM with a request past ShutdownTimeout", shutdownTimeout+10*time.Second)
		}
		exited := srv.ExitedAt().Sub(term)
		res := slow.Wait()
		t.Logf("exited %s after SIGTERM (%v); the slow request: %+v", exited.Round(time.Millisecond), srv.ExitErr(), res)
		if res.Err == "" {
			t.Errorf("the request running past ShutdownTimeout completed; it should have been cut off")
		}
		if !strings.Contains(serverLog(t, srv), "cut off") {
			t.Errorf("the server did not log that it cut a request off")
		}
		if left := srv.GroupPIDs(); len(left) != 0 {
			t.Errorf("processes left: %v", left)
		}
	})
}
