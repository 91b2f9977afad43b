package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/rollbench"
)

func TestReportShowsBothRunsAndAConfigHAProxyAccepts(t *testing.T) {
	c := config{replicas: 3, keepAlive: 48, fresh: 16, shutdownTimeout: 10 * time.Second}
	runs := []rollbench.Figures{
		{DrainDelay: 2 * time.Second, Sent: 1000, Posts: 250, RollTimes: []time.Duration{time.Second}, LastVersions: map[string]int{"v2": 10}},
		{Sent: 900, Failed: 3, ByError: map[string]int{"status 503": 3}, Redispatches: 40},
		{DrainDelay: 2 * time.Second, NoRetry: true, Sent: 800},
		{NoRetry: true, Sent: 700, Failed: 70, ByError: map[string]int{"status 503": 70}},
	}
	out, err := report(c, "HAProxy 2.6", runs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| DrainDelay 2s | 1000 (250) in 0s | 0 |",
		"| baseline: DrainDelay 0s | 900 (0) in 0s | 3 (status 503 3) | 0 / 40 |",
		"| baseline: DrainDelay 0s, HAProxy without retries | 700 (0) in 0s | 70 (status 503 70) |",
		"Without it, 3 of 900 failed",
		"DrainDelay alone: 0 of 800 failed; the baseline: 70 of 700.",
		"    server app3 127.0.0.1:8003\n```",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "{{") {
		t.Errorf("report has template actions left:\n%s", out)
	}
}
