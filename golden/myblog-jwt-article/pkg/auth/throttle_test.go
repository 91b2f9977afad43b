package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"
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

// newTestLogin returns LoginThrottles on a settable clock whose sleeps are recorded, not
// waited for: failures allowed per user and per (user, client) per minute.
func newTestLogin(failures int) (*LoginThrottles, *clock, *[]time.Duration) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLoginThrottles(setting.Auth{LoginAttemptsPerClient: 1000, LoginFailuresPerUser: failures, LoginWindow: time.Minute})
	var slept []time.Duration
	l.SetClock(c.now, func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	})
	return l, c, &slept
}

func TestAClientThatFailsOnAUserIsRefusedPastItsAllowance(t *testing.T) {
	l, c, _ := newTestLogin(3)
	for i := range 3 {
		a, err := l.Begin(context.Background(), "ann", "192.0.2.1")
		if err != nil {
			t.Fatalf("guess %d: %v", i+1, err)
		}
		a.Done(false)
	}
	_, err := l.Begin(context.Background(), "ann", "192.0.2.1")
	wait, ok := IsThrottled(err)
	if !ok || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("a 4th guess from the same client = %v; want refused for up to 20s", err)
	}
	// Right passwords give their guess back.
	c.t = c.t.Add(wait)
	for i := range 5 {
		a, err := l.Begin(context.Background(), "ann", "192.0.2.1")
		if err != nil {
			t.Fatalf("right password %d after the wait: %v", i+1, err)
		}
		a.Done(true)
	}
}

func TestAUserUnderAttackSlowsCleanClientsAndRefusesFailedOnes(t *testing.T) {
	l, c, slept := newTestLogin(2)
	ctx := context.Background()
	for _, client := range []string{"198.51.100.1", "198.51.100.2"} {
		a, err := l.Begin(ctx, "ann", client)
		if err != nil {
			t.Fatal(err)
		}
		a.Done(false)
	}
	if len(*slept) != 0 {
		t.Fatalf("guesses within the user's allowance were slowed down: %v", *slept)
	}
	// The user's allowance is spent: a client that failed on ann is refused ...
	if _, err := l.Begin(ctx, "ann", "198.51.100.1"); err == nil {
		t.Fatal("a client that failed on a user under attack was let through")
	} else if _, ok := IsThrottled(err); !ok {
		t.Fatalf("refusal %v is not a ThrottledError", err)
	}
	// ... one that did not is slowed down by at most a minute / 2, never refused.
	for i, client := range []string{"203.0.113.7", "203.0.113.8", "203.0.113.9"} {
		a, err := l.Begin(ctx, "ann", client)
		if err != nil {
			t.Fatalf("clean client %d refused: %v", i+1, err)
		}
		if d := a.Delayed; d <= 0 || d > 30*time.Second || (*slept)[len(*slept)-1] != d {
			t.Errorf("clean client %d delayed %s (slept %v), want 0 < delay <= 30s", i+1, d, *slept)
		}
		a.Done(i == 0)
	}
	// Another user is not affected.
	if a, err := l.Begin(ctx, "bob", "198.51.100.1"); err != nil || a.Delayed != 0 {
		t.Errorf("another user from the same client: %v, %+v; want let through at once", err, a)
	}
	// A failed client is suspect for a window, then clean again.
	c.t = c.t.Add(time.Minute)
	if a, err := l.Begin(ctx, "ann", "198.51.100.1"); err != nil {
		t.Errorf("a minute later, the client that failed is still refused: %v", err)
	} else {
		a.Done(false)
	}
}

func TestAGuessWhoseWaitIsCancelledCostsNothing(t *testing.T) {
	l, _, _ := newTestLogin(1)
	ctx := context.Background()
	a, err := l.Begin(ctx, "ann", "198.51.100.1")
	if err != nil {
		t.Fatal(err)
	}
	a.Done(false)
	gone := errors.New("client gone")
	l.sleep = func(context.Context, time.Duration) error { return gone }
	if _, err := l.Begin(ctx, "ann", "203.0.113.7"); !errors.Is(err, gone) {
		t.Fatalf("Begin with a failing wait = %v, want %v", err, gone)
	}
	// Its reservation was given back: the pair still has its whole allowance.
	if blocked, _ := l.pairs.Blocked("ann\x00203.0.113.7"); blocked {
		t.Error("a cancelled attempt spent its client's allowance")
	}
}

func TestLogNameIsAKeyedHashOfTheName(t *testing.T) {
	a := NewLoginThrottles(setting.Auth{Secret: "one secret of at least thirty-two chars", LoginWindow: time.Minute})
	b := NewLoginThrottles(setting.Auth{Secret: "one secret of at least thirty-two chars", LoginWindow: time.Minute})
	other := NewLoginThrottles(setting.Auth{Secret: "another secret of thirty-two chars", LoginWindow: time.Minute})
	name := a.LogName("admin")
	if strings.Contains(name, "admin") || len(name) != 16 {
		t.Errorf("LogName(admin) = %q, want 16 hex digits without the name", name)
	}
	if b.LogName("admin") != name || a.LogName("admin2") == name {
		t.Error("LogName is not one hash per name under one secret")
	}
	if other.LogName("admin") == name {
		t.Error("LogName does not depend on the secret: a reader of the log could hash guesses")
	}
}
