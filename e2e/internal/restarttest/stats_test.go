package restarttest

import (
	"testing"
	"time"
)

func TestLatencyOfUsesNearestRankOverSuccessfulRequests(t *testing.T) {
	var results []Result
	for i := 1; i <= 100; i++ {
		results = append(results, Result{Latency: time.Duration(i) * time.Millisecond})
	}
	results = append(results, Result{Latency: time.Hour, Err: "refused"})
	got := LatencyOf(results, nil)
	want := Latency{N: 100, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("LatencyOf = %+v, want %+v", got, want)
	}
	if got := LatencyOf(results, func(r Result) bool { return r.Latency > time.Second }); got != (Latency{}) {
		t.Errorf("LatencyOf with nothing kept = %+v, want zero", got)
	}
}

func TestLongestGapIsTheLongestTimeWithoutASuccessfulResponse(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int, err string) Result {
		return Result{Start: t0.Add(time.Duration(ms) * time.Millisecond), Err: err}
	}
	w := Window{From: t0, To: t0.Add(time.Second)}
	tests := []struct {
		name    string
		results []Result
		want    time.Duration
	}{
		{"no response at all", nil, time.Second},
		{"responses spread evenly", []Result{at(250, ""), at(500, ""), at(750, "")}, 250 * time.Millisecond},
		{"failures do not count", []Result{at(100, ""), at(400, "refused"), at(900, "")}, 800 * time.Millisecond},
		{"responses outside the window do not count", []Result{at(-50, ""), at(600, ""), at(1100, "")}, 600 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LongestGap(tt.results, w); got != tt.want {
				t.Errorf("LongestGap = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRestartWindowLastsUntilBothGenerationsAreSettled(t *testing.T) {
	t0 := time.Unix(1000, 0)
	reload := RestartRecord{Signaled: t0, Serving: t0.Add(30 * time.Millisecond), OldGone: t0.Add(time.Second)}
	restart := RestartRecord{Signaled: t0, OldGone: t0.Add(time.Second), Serving: t0.Add(1200 * time.Millisecond)}
	if w := reload.Window(); !w.To.Equal(reload.OldGone) {
		t.Errorf("reload window ends %s, want when the old generation exited", w.To.Sub(t0))
	}
	if w := restart.Window(); !w.To.Equal(restart.Serving) {
		t.Errorf("restart window ends %s, want when the new generation served", w.To.Sub(t0))
	}
	ws := []Window{reload.Window()}
	for _, tt := range []struct {
		at   time.Duration
		want bool
	}{{-time.Millisecond, false}, {0, true}, {time.Second, true}, {time.Second + time.Millisecond, false}} {
		if got := InAny(t0.Add(tt.at), ws); got != tt.want {
			t.Errorf("InAny(%s) = %t, want %t", tt.at, got, tt.want)
		}
	}
}
