package auth

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"myblog/pkg/setting"
)

// clock is a settable time for a Throttle.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestThrottle(burst int, window time.Duration, maxKeys int) (*Throttle, *clock) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(burst, window, maxKeys)
	th.now = c.now
	return th, c
}

func TestThrottleAllowsABurstThenRefillsOverTheWindow(t *testing.T) {
	th, c := newTestThrottle(3, time.Minute, 100)
	for i := range 3 {
		if ok, _ := th.Allow("a"); !ok {
			t.Fatalf("event %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := th.Allow("a")
	if ok || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("a 4th event: allowed %v, wait %s; want refused with a wait up to 20s", ok, wait)
	}
	if ok, _ := th.Allow("b"); !ok {
		t.Error("another key was refused")
	}
	// A refused event spends nothing: after the wait, one more is allowed.
	c.t = c.t.Add(wait)
	if ok, _ := th.Allow("a"); !ok {
		t.Errorf("after waiting %s, the event was refused", wait)
	}
}

func TestThrottleBlockedAndSpendCountFailuresOnly(t *testing.T) {
	th, c := newTestThrottle(2, time.Minute, 100)
	if blocked, _ := th.Blocked("ann"); blocked {
		t.Fatal("an unknown key is blocked")
	}
	th.Spend("ann")
	th.Spend("ann")
	blocked, wait := th.Blocked("ann")
	if !blocked || wait <= 0 || wait > 30*time.Second {
		t.Fatalf("after 2 failures: blocked %v, wait %s; want blocked up to 30s", blocked, wait)
	}
	c.t = c.t.Add(wait)
	if blocked, _ := th.Blocked("ann"); blocked {
		t.Errorf("still blocked after the wait of %s", wait)
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	th, c := newTestThrottle(5, time.Minute, 100)
	// A flood of distinct keys, all still throttled: the oldest are forgotten at random.
	for i := range 1000 {
		th.Spend("user" + strconv.Itoa(i))
	}
	if n := th.Len(); n > 100 {
		t.Fatalf("%d keys remembered, want at most 100", n)
	}
	// Keys whose bucket refilled are the first to go.
	c.t = c.t.Add(time.Hour)
	th.Spend("new")
	if n := th.Len(); n != 1 {
		t.Errorf("after an hour, %d keys remembered, want only the new one", n)
	}
}

func TestRetryAfterRoundsUpToWholeSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, 1500 * time.Millisecond: 2, 20 * time.Second: 20} {
		if got := RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%s) = %d, want %d", d, got, want)
		}
	}
}

func TestCheckBoundsThePasswordChecksRunningAtOnce(t *testing.T) {
	l := NewLoginThrottles(setting.Default().Auth)
	limit := cap(l.checks)
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 4 * limit {
		wg.Go(func() {
			_ = l.Check(context.Background(), func() error {
				n := running.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				running.Add(-1)
				return nil
			})
		})
	}
	wg.Wait()
	if got := int(most.Load()); got > limit || got < 1 {
		t.Errorf("%d checks ran at once, want 1 to %d", got, limit)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range limit {
		l.checks <- struct{}{}
	}
	if err := l.Check(ctx, func() error { t.Error("a check ran past a cancelled context"); return nil }); err == nil {
		t.Error("Check with every slot taken and a cancelled context returned nil")
	}
}
