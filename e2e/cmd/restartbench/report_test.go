package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// figures is a run of a strategy's SIGHUP restarts with the given outcome.
func figures(strategy string, failed int, steadyP99, restartP99, toServing time.Duration) runFigures {
	f := restarttest.Figures{Restarts: 20, Slow: 40, SlowOK: 40, ToServingMax: toServing}
	f.Sent, f.Failed = 100000, failed
	f.ByError = map[string]int{}
	if failed > 0 {
		f.ByError["status 503"] = failed
	}
	for _, p := range []*restarttest.Phases{&f.All, &f.Get} {
		p.Steady = restarttest.Latency{N: 1000, P50: time.Millisecond, P99: steadyP99}
		p.InRestart = restarttest.Latency{N: 100, P50: time.Millisecond, P99: restartP99}
	}
	return runFigures{Label: strategy, Strategy: strategy, Mode: restarttest.Reload, Figures: f}
}

func TestGoalsAreMetOnlyByEveryStrategy(t *testing.T) {
	good := func() report {
		return report{
			Config: config{keepAlive: 48, fresh: 16},
			Runs: []runFigures{
				figures(restarttest.Fork, 0, 10*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond),
				figures(restarttest.Supervisor, 0, 10*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond),
				figures(restarttest.Systemd, 0, 10*time.Millisecond, 20*time.Millisecond, 2*time.Second),
			},
			Throughput: throughputFigures{
				Generated: serverThroughput{Rounds: []restarttest.ThroughputResult{{PerSecond: 950}}},
				Bare:      serverThroughput{Rounds: []restarttest.ThroughputResult{{PerSecond: 1000}}},
			},
		}
	}
	for _, g := range good().goals() {
		if !g.met {
			t.Errorf("goal %q not met by good figures: %s", g.name, g.detail)
		}
	}

	tests := []struct {
		name  string
		goal  string
		spoil func(*report)
	}{
		{"a failed request", "0 failed requests", func(r *report) { r.Runs[2].Failed = 1 }},
		{"a slow request cut", "in-flight requests", func(r *report) { r.Runs[0].SlowOK = 39 }},
		{"a slow GET tail in windows", "p99 inside restart windows", func(r *report) { r.Runs[1].Get.InRestart.P99 = time.Second }},
		{"a slow fork hand-over", "under 1 second", func(r *report) { r.Runs[0].ToServingMax = time.Second }},
		{"a slow generated server", "throughput", func(r *report) { r.Throughput.Generated.Rounds[0].PerSecond = 899 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.spoil(&r)
			for _, g := range r.goals() {
				if broken := strings.Contains(g.name, tt.goal); broken == g.met {
					t.Errorf("goal %q met=%t, want %t: %s", g.name, g.met, !broken, g.detail)
				}
			}
		})
	}
}

func TestReportNamesTheCommandAndEveryRun(t *testing.T) {
	r := report{
		Command: "go -C e2e run ./cmd/restartbench -restarts 20",
		Machine: "a test machine, 2 cores",
		Config:  config{restarts: 20, keepAlive: 48, fresh: 16, postEvery: 4},
		Runs: []runFigures{
			figures(restarttest.Fork, 3, 10*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond),
		},
	}
	r.Runs[0].DatabaseLocked = locked{All: 3, InRestart: 2}
	var b strings.Builder
	if err := r.write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"`go -C e2e run ./cmd/restartbench -restarts 20`",
		"a test machine, 2 cores",
		"| fork | 100000 | 3 (status 503 3) | 20 | 40 / 40 |",
		"fork: 3, 2 of them inside restart windows",
		"## SQLite write contention",
		"**not met**",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// goalLine is the line of the rendered report for the goal whose name holds name.
func goalLine(t *testing.T, r report, name string) string {
	t.Helper()
	var b strings.Builder
	if err := r.write(&b); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(b.String()) {
		if strings.HasPrefix(line, "- ") && strings.Contains(line, name) {
			return line
		}
	}
	t.Fatalf("no goal line for %q in:\n%s", name, b.String())
	return ""
}

func TestGoalsARunTooShortOrTooNarrowCannotJudgeAreNotMeasured(t *testing.T) {
	run := func(strategy string, restarts, failed int) runFigures {
		f := figures(strategy, failed, 10*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond)
		f.Restarts = restarts
		return f
	}
	all := func(restarts, failed int) []runFigures {
		return []runFigures{run(restarttest.Fork, restarts, failed), run(restarttest.Supervisor, restarts, 0), run(restarttest.Systemd, restarts, 0)}
	}
	tests := []struct {
		name, goal, want string
		r                report
	}{
		{"3 restarts, nothing failed", "0 failed requests", ": not measured. Too short to judge",
			report{Config: config{keepAlive: 48, fresh: 16, slow: 2}, Runs: all(3, 0)}},
		{"3 restarts, one failure", "0 failed requests", ": **not met**.",
			report{Config: config{keepAlive: 48, fresh: 16, slow: 2}, Runs: all(3, 1)}},
		{"fewer than 64 clients", "0 failed requests", ": not measured. Too short to judge (63 clients",
			report{Config: config{keepAlive: 48, fresh: 15, slow: 2}, Runs: all(20, 0)}},
		{"20 restarts of every strategy", "0 failed requests", ": met.",
			report{Config: config{keepAlive: 48, fresh: 16, slow: 2}, Runs: all(20, 0)}},
		{"one strategy (-strategy fork)", "0 failed requests", ": not measured. Not every strategy ran",
			report{Config: config{keepAlive: 48, fresh: 16, slow: 2, strategy: restarttest.Fork}, Runs: all(20, 0)[:1]}},
		{"only systemd", "under 1 second", ": not measured. Neither fork nor supervisor ran",
			report{Config: config{keepAlive: 48, fresh: 16, slow: 2, strategy: restarttest.Systemd}, Runs: all(20, 0)[2:]}},
		{"no slow requests", "in-flight requests", ": not measured. No slow request was sent",
			report{Config: config{keepAlive: 48, fresh: 16}, Runs: func() []runFigures {
				runs := all(20, 0)
				for i := range runs {
					runs[i].Slow, runs[i].SlowOK = 0, 0
				}
				return runs
			}()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if line := goalLine(t, tt.r, tt.goal); !strings.Contains(line, tt.want) {
				t.Errorf("goal line = %q, want it to contain %q", line, tt.want)
			}
		})
	}
}
