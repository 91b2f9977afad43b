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
