package restarttest

import (
	"testing"
	"time"
)

func TestChaosCountRecovery(t *testing.T) {
	t0 := time.Now()
	at := func(ms int, err string) Result {
		return Result{Start: t0.Add(time.Duration(ms) * time.Millisecond), Latency: 10 * time.Millisecond, Err: err}
	}
	res := ChaosResult{ByError: map[string]int{}}
	count(&res, []Result{at(0, ""), at(100, "refused"), at(150, ""), at(900, "reset"), at(950, "refused"), at(1200, ""), at(1300, "")})
	if res.Sent != 7 || res.Failed != 3 || res.ByError["refused"] != 2 || !res.Recovered || res.Recovery != 1110*time.Millisecond {
		t.Errorf("got %+v; want 3 of 7 failed, recovered after 1.11s (first failure to the end of the first success after the last)", res)
	}
	res = ChaosResult{ByError: map[string]int{}}
	count(&res, []Result{at(0, ""), at(100, "refused"), at(200, "refused")})
	if res.Recovered || res.Recovery != 110*time.Millisecond {
		t.Errorf("got %+v; want not recovered", res)
	}
	res = ChaosResult{ByError: map[string]int{}}
	count(&res, []Result{at(0, ""), at(100, "")})
	if !res.Recovered || res.Recovery != 0 || res.Failed != 0 {
		t.Errorf("got %+v; want nothing failed", res)
	}
}
