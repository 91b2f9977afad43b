package realsystemd

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/e2etest"
	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// TestRealSystemdChaos is issue 16's chaos suite: every strategy's units, installed in a real
// systemd (Debian bookworm's 252, one container booted with systemd-nspawn for the whole
// test) with the generated README's commands, under load (27 kept-alive and 9 fresh-connection
// clients on loopback, one request in 9 a POST), each fault starting from a healthy unit:
// a reload storm (12 reloads, 6 at once, raw SIGHUPs), kill -9 of the serving process, of the
// master, of the new generation while the old one drains a request, a build that crashes 2 s
// after it is ready, a request longer than ShutdownTimeout across a reload and a stop, and a
// stop under load. The rules (restarttest.RunChaos): no request fails during the storm or the
// reload with the long request; after every fault the unit serves or is failed, never
// inactive or active with nothing serving; a crashing build reaches systemd (the unit
// restarts or fails); and systemd never SIGKILLs a draining process. Faults 2 and 3 may cost a
// short refusal gap (fork, supervisor): reported, not asserted.
func TestRealSystemdChaos(t *testing.T) {
	e2etest.SkipShort(t)
	for _, tool := range []string{"systemd-nspawn", "nsenter", "debootstrap"} {
		e2etest.RequireTool(t, tool)
	}
	if os.Geteuid() != 0 {
		e2etest.Missing(t, "booting systemd in a container needs root")
	}
	began := time.Now()
	// 30 minutes, the builds included: a cold CI run at load 20-30 ran out of 15 (the chaos
	// suite, 2026-12-06; 5-10 minutes warm); the package's go test -timeout (75m) bounds both.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	// Built before the boot; the good build is TestRealSystemdReloadRestartStop's first version.
	fx := fixtures
	type built struct{ project, good, crashing string }
	bins := map[string]built{}
	for _, strategy := range e2etest.Strategies() {
		project, err := fx.Project(strategy)
		if err != nil {
			t.Fatal(err)
		}
		good, err := fx.Binary(ctx, project, chaosVersion)
		if err != nil {
			t.Fatal(err)
		}
		crashing, err := fx.CrashAfterReady(ctx, strategy)
		if err != nil {
			t.Fatal(err)
		}
		bins[strategy] = built{project, good, crashing}
	}
	t.Logf("built in %s", time.Since(began).Round(time.Second))
	c := bootSystemd(t, ctx)
	for _, strategy := range e2etest.Strategies() {
		t.Run(strategy, func(t *testing.T) {
			port, err := restarttest.FreeLoopbackPort()
			if err != nil {
				t.Fatal(err)
			}
			b := bins[strategy]
			results, err := restarttest.RunChaos(ctx, c, restarttest.ChaosPlan{
				Strategy: strategy, Project: b.project, Name: "myblog", EnvPrefix: "MYBLOG",
				Binary: b.good, Version: chaosVersion, Crashing: b.crashing,
				Port: port, Load: restarttest.ChaosLoad(), Slow: e2etest.SlowPost(0),
				ShutdownTimeout: restarttest.ChaosShutdownTimeout, ReadyTimeout: 10 * time.Second,
				Logf: t.Logf,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				if r.NA != "" {
					t.Logf("%s / %s: n/a (%s)", strategy, r.Fault, r.NA)
					continue
				}
				if len(r.Problems) == 0 {
					continue
				}
				t.Logf("%s / %s: journal (the last %d lines, without the access log):\n%s", strategy, r.Fault, journalTail,
					tailLines(r.Journal, journalTail))
				for _, p := range r.Problems {
					t.Errorf("%s: %s", r.Fault, p)
				}
			}
		})
	}
	t.Logf("chaos suite wall time: %s", time.Since(began).Round(time.Second))
}

// chaosVersion is the version the chaos suite deploys: the first of the reload test's.
const chaosVersion = "rs1"
