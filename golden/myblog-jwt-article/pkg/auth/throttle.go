package auth

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"myblog/pkg/setting"
)

// DefaultMaxThrottleKeys bounds the memory of a Throttle: about 200 bytes a key, so 10000
// keys hold about 2 MB.
const DefaultMaxThrottleKeys = 10000

// Throttle limits events per key (a client IP, a user name) with a token bucket per key
// (golang.org/x/time/rate): each key may spend burst events at once, and gets them back
// evenly over window. It remembers at most maxKeys keys: when full, it forgets the keys whose
// bucket has refilled (they are as if new), then, if none has, an arbitrary one.
type Throttle struct {
	limit   rate.Limit
	burst   int
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewThrottle allows burst events per key per window.
func NewThrottle(burst int, window time.Duration, maxKeys int) *Throttle {
	return &Throttle{
		limit:   rate.Limit(float64(burst) / window.Seconds()),
		burst:   burst,
		maxKeys: max(maxKeys, 1),
		now:     time.Now,
		buckets: map[string]*rate.Limiter{},
	}
}

// Allow spends one event of key. When none is left it spends nothing and returns false and
// how long until one is.
func (t *Throttle) Allow(key string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	b := t.bucket(key, now)
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Blocked reports, without spending anything, whether key has no event left, and how long
// until it has one.
func (t *Throttle) Blocked(key string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.buckets[key]
	if !ok {
		return false, 0
	}
	tokens := b.TokensAt(t.now())
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) / float64(t.limit) * float64(time.Second))
}

// Spend spends one event of key, even when none is left (the wait grows).
func (t *Throttle) Spend(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.bucket(key, now).ReserveN(now, 1)
}

// Len is the number of keys remembered.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.buckets)
}

// bucket returns key's bucket, making room for it if need be. t.mu is held.
func (t *Throttle) bucket(key string, now time.Time) *rate.Limiter {
	if b, ok := t.buckets[key]; ok {
		return b
	}
	if len(t.buckets) >= t.maxKeys {
		for k, b := range t.buckets {
			if b.TokensAt(now) >= float64(t.burst) {
				delete(t.buckets, k)
			}
		}
		for k := range t.buckets {
			if len(t.buckets) < t.maxKeys {
				break
			}
			delete(t.buckets, k)
		}
	}
	b := rate.NewLimiter(t.limit, t.burst)
	t.buckets[key] = b
	return b
}

// RetryAfter is the value of a Retry-After header for a wait of d: whole seconds, at least 1.
func RetryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// LoginThrottles limit POST /auth: Clients counts every attempt of a client IP, Users the
// failed attempts on a user name, and checks bounds the password checks (bcrypt, tens of
// milliseconds of CPU each) running at once to half the CPUs, so that a burst of sign-ins
// from many clients leaves CPU for every other request.
type LoginThrottles struct {
	Clients *Throttle
	Users   *Throttle
	checks  chan struct{}
}

// Check runs check once fewer than the allowed number of password checks are running, or
// returns ctx's error if ctx ends first.
func (l *LoginThrottles) Check(ctx context.Context, check func() error) error {
	select {
	case l.checks <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to check a password: %w", context.Cause(ctx))
	}
	defer func() { <-l.checks }()
	return check()
}

// NewLoginThrottles returns the throttles [auth] LoginAttemptsPerClient,
// LoginFailuresPerUser and LoginWindow describe.
func NewLoginThrottles(cfg setting.Auth) *LoginThrottles {
	return &LoginThrottles{
		Clients: NewThrottle(cfg.LoginAttemptsPerClient, cfg.LoginWindow, DefaultMaxThrottleKeys),
		Users:   NewThrottle(cfg.LoginFailuresPerUser, cfg.LoginWindow, DefaultMaxThrottleKeys),
		checks:  make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
	}
}
