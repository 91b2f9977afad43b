package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

func TestReportSumsEventsAndListsProblems(t *testing.T) {
	t0 := time.Now()
	ok := &restarttest.RealSystemdRun{Strategy: restarttest.Systemd, Events: []restarttest.RealSystemdEvent{
		{Action: "reload", Sent: 100, Took: 80 * time.Millisecond, Serving: 90 * time.Millisecond, ActiveState: "active", SubState: "running"},
		{Action: "reload", Sent: 50, Took: 120 * time.Millisecond, Serving: 130 * time.Millisecond, ActiveState: "active", SubState: "running"},
		{Action: "restart", Sent: 10, From: t0, To: t0.Add(time.Second), ActiveState: "active", SubState: "running"},
		{Action: "stop", ActiveState: "inactive", Result: "success"},
	}}
	bad := &restarttest.RealSystemdRun{Strategy: restarttest.Fork, Events: []restarttest.RealSystemdEvent{
		{Action: "restart", Sent: 10, Failed: 7, ByError: map[string]int{"refused": 6, "reset": 1}},
		{Action: "stop", SlowErr: "eof", ActiveState: "failed", Result: "signal"},
	}, Problems: []string{"journal: Supervising process 12 which is not our child"}}
	out := string(report([]*restarttest.RealSystemdRun{ok, bad}, "sudo go -C e2e run ./cmd/systemdbench -reloads 2", "systemd 252", 2, 32, time.Second, ""))
	for _, want := range []string{
		"| systemd | 0 / 150 | 120ms | 130ms | not tried | 0 / 10 | 1s | yes, yes, yes | active/running / inactive (success) |",
		"7 / 10 (refused 6, reset 1)",
		"no: eof",
		"failed (signal)",
		"- fork: journal: Supervising process 12 which is not our child",
		"Made by `sudo go -C e2e run ./cmd/systemdbench -reloads 2`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Rules broken: none") {
		t.Error("report says no rule was broken")
	}
}

func TestChaosReportRowsAndProblems(t *testing.T) {
	results := []restarttest.ChaosResult{
		{Strategy: restarttest.Fork, Fault: restarttest.FaultKillMaster, NA: "no master"},
		{Strategy: restarttest.Fork, Fault: restarttest.FaultKillNew, Sent: 900, Failed: 700, ByError: map[string]int{"refused": 700},
			SlowErr: "", ActiveState: "inactive", SubState: "dead", Result: "success",
			Problems: []string{"afterwards the unit is inactive/dead (success), NRestarts=0 and nothing serves; want serving or failed"}},
		{Strategy: restarttest.Supervisor, Fault: restarttest.FaultCrash, Sent: 10, Failed: 3, Settled: 12 * time.Second,
			ByError: map[string]int{`other: Post "http://127.0.0.1:1/x": http: server closed idle connection`: 1, "reset": 2},
			SlowErr: "-", ActiveState: "active", SubState: "running", Result: "success", NRestarts: 1, Serving: true},
		{Strategy: restarttest.Systemd, Fault: restarttest.FaultStorm, Sent: 5000, SlowErr: "-", Recovered: true,
			ActiveState: "active", SubState: "running", Result: "success", Serving: true},
	}
	out := string(chaosReport(results, "sudo go -C e2e run ./cmd/systemdbench -chaos-only", "systemd 252", time.Minute, ""))
	for _, want := range []string{
		"| fork | kill -9 master | n/a | | | | | | | no master |",
		"| fork | kill -9 new generation mid-drain | 900 | 700 (refused 700) | never | answered | inactive/dead (success), NRestarts=0 | no | 0 | 1, see below |",
		"| systemd | reload storm | 5000 | 0 | 0 | none sent | active/running (success), NRestarts=0 | yes | 0 | none |",
		"- fork, kill -9 new generation mid-drain: afterwards the unit is inactive/dead",
		"| supervisor | build crashes 2 s after ready | 10 | 3 (closed idle connection 1, reset 2) | n/a (every start crashes; systemd restarted the unit after 12s) |",
		"Made by `sudo go -C e2e run ./cmd/systemdbench -chaos-only`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
