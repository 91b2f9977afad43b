package restarttest

import (
	"slices"
	"time"
)

// Window is a span of time, e.g. from a restart's signal until its old generation exited.
type Window struct {
	From, To time.Time
}

// Contains reports whether t is inside w (both ends included).
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && !t.After(w.To) }

// InAny reports whether t is inside one of ws.
func InAny(t time.Time, ws []Window) bool {
	return slices.ContainsFunc(ws, func(w Window) bool { return w.Contains(t) })
}

// Latency summarizes the latencies of successful requests.
type Latency struct {
	N             int
	P50, P99, Max time.Duration
}

// LatencyOf summarizes the latencies of the successful results that keep accepts (nil: all).
func LatencyOf(results []Result, keep func(Result) bool) Latency {
	var lat []time.Duration
	for _, r := range results {
		if r.Err == "" && (keep == nil || keep(r)) {
			lat = append(lat, r.Latency)
		}
	}
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	return Latency{N: len(lat), P50: quantile(lat, 0.50), P99: quantile(lat, 0.99), Max: lat[len(lat)-1]}
}

// quantile is the nearest-rank q-quantile of sorted, which is not empty.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// LongestGap is the longest time inside w during which no request completed successfully:
// the time the service looked down to its clients. Requests end at Start+Latency.
func LongestGap(results []Result, w Window) time.Duration {
	ends := []time.Time{w.From, w.To}
	for _, r := range results {
		if r.Err == "" && w.Contains(r.End()) {
			ends = append(ends, r.End())
		}
	}
	slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
	var gap time.Duration
	for i := 1; i < len(ends); i++ {
		gap = max(gap, ends[i].Sub(ends[i-1]))
	}
	return gap
}
