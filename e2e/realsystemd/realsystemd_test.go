package realsystemd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/e2etest"
	"github.com/gingen/gingen/e2e/internal/nspawn"
	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// TestRealSystemdReloadRestartStop installs every strategy's units in a real systemd (Debian
// bookworm, systemd 252, booted with systemd-nspawn and sharing the host's network) with the
// commands of the generated README, and under load (32 clients on loopback) with a request in
// flight across each event: `systemctl reload` three times onto rebuilt binaries, `restart`,
// `stop`; between the reloads and the restart, a reload onto a binary that exits at start,
// which must leave the running version serving. No request fails on any reload; the request
// in flight is answered every time; the unit is
// active after each reload and the restart, inactive (success) after the stop; MainPID names
// the serving process (fork) or its parent, the stable master (supervisor, systemd); and the
// journal has neither "not our child" nor SIGKILL.
func TestRealSystemdReloadRestartStop(t *testing.T) {
	e2etest.SkipShort(t)
	for _, tool := range []string{"systemd-nspawn", "nsenter", "debootstrap"} {
		e2etest.RequireTool(t, tool)
	}
	if os.Geteuid() != 0 {
		e2etest.Missing(t, "booting systemd in a container needs root")
	}
	// 30 minutes, the builds included: a cold CI run at load 20-30 ran out of 15 (the chaos
	// suite, 2026-12-06; 5-10 minutes warm); the package's go test -timeout (75m) bounds both.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	c := bootSystemd(t, ctx)
	fx := fixtures
	for _, strategy := range e2etest.Strategies() {
		t.Run(strategy, func(t *testing.T) {
			run := runRealSystemd(t, ctx, c, fx, strategy)
			for _, e := range run.Events {
				t.Logf("%s: %s %s took %s, served after %s; %d/%d failed %v; in flight: %q; %s/%s (%s) MainPID %d serving %d (parent %d)",
					strategy, e.Action, e.Version, e.Took.Round(time.Millisecond), e.Serving.Round(time.Millisecond),
					e.Failed, e.Sent, e.ByError, e.SlowErr, e.ActiveState, e.SubState, e.Result, e.MainPID, e.ServingPID, e.ServingPPID)
			}
			// The journal first, its last lines only: CI shows the tail of the output, where
			// the problems must be.
			if len(run.Problems) > 0 {
				t.Logf("journal (the last %d lines, without the access log):\n%s", journalTail, tailLines(run.Journal, journalTail))
			}
			for _, p := range run.Problems {
				t.Error(p)
			}
		})
	}
}

// bootSystemd boots the cached Debian tree (built by .ci/nspawn-rootfs when missing) and stops
// it when the test ends. Its stage folder is under /var/tmp: the container's systemd must not
// see the host's /tmp.
func bootSystemd(t *testing.T, ctx context.Context) *nspawn.Container {
	t.Helper()
	rootfs, err := nspawn.Rootfs(ctx, repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	stage, err := os.MkdirTemp("/var/tmp", "gingen-nspawn-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stage) })
	c, err := nspawn.Boot(ctx, rootfs, stage, filepath.Base(stage))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// runRealSystemd builds four versions of the strategy's project, static, and runs the plan.
func runRealSystemd(t *testing.T, ctx context.Context, c *nspawn.Container, fx *restarttest.Fixtures,
	strategy string) *restarttest.RealSystemdRun {
	t.Helper()
	versions := []string{"rs1", "rs2", "rs3", "rs4"}
	bins, err := fx.Versions(ctx, strategy, versions...)
	if err != nil {
		t.Fatal(err)
	}
	project, err := fx.Project(strategy)
	if err != nil {
		t.Fatal(err)
	}
	failing, err := fx.Failing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	port, err := restarttest.FreeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	load := e2etest.TestLoad()
	load.KeepAlive, load.Fresh = 24, 8
	run, err := restarttest.RunRealSystemd(ctx, c, restarttest.RealSystemdPlan{
		Strategy:        strategy,
		Project:         project,
		Name:            "myblog",
		EnvPrefix:       "MYBLOG",
		Binaries:        bins,
		Versions:        versions,
		Failing:         failing,
		Port:            port,
		Load:            load,
		Slow:            e2etest.SlowPost(2 * time.Second),
		ShutdownTimeout: 10 * time.Second,
		ReadyTimeout:    10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// repoRoot is the gingen checkout.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := restarttest.CheckoutRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// journalTail is how many lines of the unit's journal a failing run prints.
const journalTail = 300

// tailLines is the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
