package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

func TestWriteReportHasOneRowPerSettingWithItsFigures(t *testing.T) {
	c := config{rounds: 2, duration: time.Second, keepAlive: 3, fresh: 1, postEvery: 4}
	results := [][]restarttest.Result{
		{
			{Latency: 2 * time.Millisecond},
			{Latency: 300 * time.Millisecond, Post: true},
			{Latency: 5 * time.Millisecond, Post: true, Err: "status 503"},
		},
		{
			{Latency: time.Millisecond},
			{Latency: 20 * time.Millisecond, Post: true},
		},
	}
	var buf bytes.Buffer
	writeReport(&buf, c, "go -C e2e run ./cmd/writebench -rounds 2", settings(), results)
	out := buf.String()
	for _, want := range []string{
		"go -C e2e run ./cmd/writebench -rounds 2",
		"| " + settings()[0].label + " | 3 | 1 | 0 | 2.0 ms / 2.0 ms | 300.0 ms / 300.0 ms | 300.0 ms |",
		"| " + settings()[1].label + " | 2 | 0 | 0 | 1.0 ms / 1.0 ms | 20.0 ms / 20.0 ms | 20.0 ms |",
		"4 clients (3 on kept-alive connections, 1 opening",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	if err := run(t.Context(), config{rounds: 0, duration: time.Second, keepAlive: 1, postEvery: 1}, nil); err == nil {
		t.Error("run with -rounds 0 succeeded")
	}
}
