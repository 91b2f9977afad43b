package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

func TestParseStrategies(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"", []string{"fork", "supervisor", "systemd"}, ""},
		{"systemd, fork", []string{"systemd", "fork"}, ""},
		{"fork,forks", nil, `-strategy "forks"`},
		{"fork,fork", nil, "fork given twice"},
		{",", nil, `-strategy ""`},
	} {
		got, err := parseStrategies(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseStrategies(%q) error %v, want one with %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || !slices.Equal(got, tc.want)):
			t.Errorf("parseStrategies(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckRefusesWhatWouldMeasureNothing(t *testing.T) {
	good := config{strategies: []string{"fork"}, subscribers: 10, websockets: 5, restarts: 2,
		writeEvery: time.Millisecond, shutdownTimeout: time.Second, timeout: time.Minute}
	if err := good.check(); err != nil {
		t.Fatalf("check(%+v): %v", good, err)
	}
	for name, mutate := range map[string]func(*config){
		"no strategy":              func(c *config) { c.strategies = nil },
		"no subscriber":            func(c *config) { c.subscribers = 0 },
		"no restart":               func(c *config) { c.restarts = 0 },
		"more websockets than all": func(c *config) { c.websockets = 11 },
		"negative websockets":      func(c *config) { c.websockets = -1 },
		"no write interval":        func(c *config) { c.writeEvery = 0 },
		"no timeout":               func(c *config) { c.timeout = 0 },
	} {
		c := good
		c.strategies = slices.Clone(good.strategies)
		mutate(&c)
		if err := c.check(); err == nil {
			t.Errorf("%s: check accepted %+v", name, c)
		}
		// run refuses it before it builds anything.
		if err := run(t.Context(), c, nil); err == nil {
			t.Errorf("%s: run accepted %+v", name, c)
		}
	}
}

func TestReportHasARowPerStrategyAndKindWithItsFigures(t *testing.T) {
	c := config{subscribers: 4, websockets: 2, restarts: 3, writeEvery: 20 * time.Millisecond, shutdownTimeout: 10 * time.Second}
	ms := time.Millisecond
	results := []result{
		{"fork", restarttest.StreamRun{
			Restarts: 3, Created: 100, Events: 100, Drains: []time.Duration{100 * ms, 200 * ms, 300 * ms},
			Kinds: []restarttest.StreamFigures{
				{Kind: restarttest.SSE, Subscribers: 2, Exact: 2, Delivery: restarttest.Delivery{Delivered: 200},
					Streams: 8, CleanEnds: 6, Gaps: []time.Duration{250 * ms, 251 * ms, 252 * ms, 253 * ms, 254 * ms, 400 * ms}},
				{Kind: restarttest.WebSocket, Subscribers: 2, Exact: 2, Delivery: restarttest.Delivery{Delivered: 200},
					Streams: 8, CleanEnds: 6, CloseCodes: map[int]int{1012: 6}, Gaps: []time.Duration{260 * ms}},
			},
		}},
		{"systemd", restarttest.StreamRun{
			Restarts: 3, SlowDrains: 1, Created: 90, WriteErrs: 2, WriteByError: map[string]int{"refused": 2}, Events: 90,
			Drains: []time.Duration{100 * ms, 10 * time.Second, 11 * time.Second},
			Kinds: []restarttest.StreamFigures{
				{Kind: restarttest.SSE, Subscribers: 2, Exact: 1, Delivery: restarttest.Delivery{Delivered: 179, Missing: 1, Duplicates: 2, OutOfOrder: 3},
					Streams: 7, CleanEnds: 5, AbruptEnds: 1, AbruptWhy: map[string]int{"last field id": 1}, ConnectErrs: 4},
			},
		}},
	}
	var buf bytes.Buffer
	writeReport(&buf, c, "go -C e2e run ./cmd/streambench -restarts 3", [2]string{"1.50", "2.25"}, results)
	out := buf.String()
	for _, want := range []string{
		"Written by `go -C e2e run ./cmd/streambench -restarts 3`",
		"serves 4 subscribers, 2 on `GET /api/v1/notes/events` (server-sent events) and 2 on `GET /api/v1/notes/events/ws` (websocket)",
		"| fork | SSE | 2 | 100 (0) | 200 / 200 | 0 | 0 | 0 | 6 / 0 | 6 (0) | 253 ms / 400 ms / 400 ms | 0 of 3 | 200 ms / 300 ms |",
		"| fork | websocket | 2 | 100 (0) | 200 / 200 | 0 | 0 | 0 | 6 / 0 | 1 (0) | 260 ms / 260 ms / 260 ms | 0 of 3 | 200 ms / 300 ms |",
		"| systemd | SSE | 2 | 90 (2) | 179 / 180 | 1 | 2 | 3 | 5 / 1 | 0 (4) | 0 ms / 0 ms / 0 ms | 1 of 3 | 10000 ms / 11000 ms |",
		"fork, websocket: 0.2 reconnects per subscriber and restart; close statuses 1012: 6.",
		"fork, SSE: 1.0 reconnects per subscriber and restart.",
		"Load average 1.50 at the start, 2.25 at the end.",
		"- systemd SSE: 1 of 2 subscribers received every event once, in order; 1 streams cut last field id: 1",
		"- systemd: 2 writes failed: refused: 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Every subscriber of every strategy") {
		t.Errorf("report claims every subscriber exact although systemd's were not:\n%s", out)
	}

	buf.Reset()
	writeReport(&buf, c, "go -C e2e run ./cmd/streambench", [2]string{"", ""}, results[:1])
	if !strings.Contains(buf.String(), "Every subscriber of every strategy received every event exactly once") || strings.Contains(buf.String(), "Load average") {
		t.Errorf("a clean run's report lacks its conclusion:\n%s", buf.String())
	}
}

func TestPct(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if pct(nil, 50) != 0 || pct(d, 50) != 6 || pct(d, 99) != 10 || pct(d, 100) != 10 || pct(d, 0) != 1 {
		t.Errorf("pct: %v %v %v %v", pct(d, 50), pct(d, 99), pct(d, 100), pct(d, 0))
	}
}
