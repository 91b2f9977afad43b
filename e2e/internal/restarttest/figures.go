package restarttest

import (
	"slices"
	"time"
)

// warmup is left out of the steady-state figures: the clients' first connections.
const warmup = 250 * time.Millisecond

// Phases are the latencies of successful requests started outside every restart window
// (Steady, after a warm-up) and inside one (InRestart).
type Phases struct {
	Steady, InRestart Latency
}

// Figures are the numbers a run reports.
type Figures struct {
	Summary
	Restarts int
	// All, Get and Post: the latencies of every request, of the GET /healthz and of the POSTs.
	All, Get, Post Phases
	// ToServing is the time from the signal to the new generation answering, median and max.
	ToServingMedian, ToServingMax time.Duration
	// LongestGap is the longest time during which no request completed successfully, in
	// the whole run and inside restart windows.
	LongestGap, LongestGapInRestart time.Duration
	// SlowOK of Slow requests kept in flight across a restart completed successfully.
	SlowOK, Slow int
	Memory       Memory
	Problems     []string
}

// Figures computes the run's figures.
func (run *Run) Figures() Figures {
	from := run.Start.Add(warmup)
	f := Figures{
		Summary:    Summarize(run.Results),
		Restarts:   len(run.Restarts),
		All:        run.phases(func(Result) bool { return true }),
		Get:        run.phases(func(r Result) bool { return !r.Post }),
		Post:       run.phases(func(r Result) bool { return r.Post }),
		LongestGap: LongestGap(run.Results, Window{From: from, To: run.End}),
		Slow:       len(run.Slow),
		Memory:     run.Memory,
		Problems:   run.Problems,
	}
	for _, s := range run.Slow {
		if s.Err == "" {
			f.SlowOK++
		}
	}
	var to []time.Duration
	for _, r := range run.Restarts {
		if !r.Serving.IsZero() {
			to = append(to, r.ToServing())
			f.LongestGapInRestart = max(f.LongestGapInRestart, LongestGap(run.Results, r.Window()))
		}
	}
	if len(to) > 0 {
		slices.Sort(to)
		f.ToServingMedian, f.ToServingMax = quantile(to, 0.5), to[len(to)-1]
	}
	return f
}

// phases splits the latencies of the results kind accepts by restart window.
func (run *Run) phases(kind func(Result) bool) Phases {
	ws := run.Windows()
	from := run.Start.Add(warmup)
	return Phases{
		Steady: LatencyOf(run.Results, func(r Result) bool {
			return kind(r) && r.Start.After(from) && !InAny(r.Start, ws)
		}),
		InRestart: LatencyOf(run.Results, func(r Result) bool { return kind(r) && InAny(r.Start, ws) }),
	}
}
