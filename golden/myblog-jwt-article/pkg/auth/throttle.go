package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// take spends one event of key if one is left now, and returns its reservation, which
// cancel gives back; else it spends nothing and returns nil and how long until one is.
func (t *Throttle) take(key string) (*rate.Reservation, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	r := t.bucket(key, now).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}

// borrow spends one event of key even when none is left, and returns its reservation and
// how long until the event would have been available: a debt that later takes repay first.
func (t *Throttle) borrow(key string) (*rate.Reservation, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	r := t.bucket(key, now).ReserveN(now, 1)
	return r, r.DelayFrom(now)
}

// cancel gives back what r spent, as far as later reservations allow.
func (t *Throttle) cancel(r *rate.Reservation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r.CancelAt(t.now())
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

// LoginThrottles limit POST /auth so that neither one client nor a crowd of them can guess
// many passwords, and so that nobody can lock a user out by failing on their name:
//
//   - Clients counts every attempt of a client IP ([auth] LoginAttemptsPerClient per
//     LoginWindow); past it, 429.
//   - Each (user, client IP) pair may fail LoginFailuresPerUser times per window; past it,
//     429. Only that client is refused: failing on a name from one address never refuses
//     another.
//   - Each user may fail LoginFailuresPerUser times per window from all addresses together.
//     Past that the user is under attack: a client that failed on this user within the
//     window is refused (429) until the user's allowance refills, and a client that has not
//     (the owner, from their device) is slowed down, never refused: its attempt waits for
//     the user's next allowance, at most LoginWindow / LoginFailuresPerUser (12 s by
//     default). A crowd of N addresses thus gets about LoginFailuresPerUser + N guesses per
//     window on one user, however fast it sends them.
//
// Every guess is counted before its password is checked (Begin), and given back when the
// password was right (Attempt.Done), so parallel attempts cannot overrun a limit. checks
// bounds the password checks (bcrypt, tens of milliseconds of CPU each) running at once to
// half the CPUs, so that a burst of sign-ins from many clients leaves CPU for every other
// request.
type LoginThrottles struct {
	Clients *Throttle
	// pairs counts the failures per user and client; suspects remembers for a window the
	// pairs that failed; users counts the failures per user from every client.
	pairs, suspects, users *Throttle
	// slowdown bounds the wait of a client that has not failed on a user under attack.
	slowdown time.Duration
	sleep    func(context.Context, time.Duration) error
	checks   chan struct{}
	logKey   []byte
}

// NewLoginThrottles returns the throttles [auth] LoginAttemptsPerClient,
// LoginFailuresPerUser and LoginWindow describe. The user names it logs are keyed hashes
// (LogName), keyed by cfg.Secret or, without one, by random bytes.
func NewLoginThrottles(cfg setting.Auth) *LoginThrottles {
	failures := max(cfg.LoginFailuresPerUser, 1)
	mac := hmac.New(sha256.New, []byte(cfg.Secret))
	if cfg.Secret == "" {
		key := make([]byte, 32)
		_, _ = rand.Read(key) // never fails (crypto/rand)
		mac = hmac.New(sha256.New, key)
	}
	mac.Write([]byte("sign-in log names"))
	return &LoginThrottles{
		Clients:  NewThrottle(cfg.LoginAttemptsPerClient, cfg.LoginWindow, DefaultMaxThrottleKeys),
		pairs:    NewThrottle(failures, cfg.LoginWindow, DefaultMaxThrottleKeys),
		suspects: NewThrottle(1, cfg.LoginWindow, DefaultMaxThrottleKeys),
		users:    NewThrottle(failures, cfg.LoginWindow, DefaultMaxThrottleKeys),
		slowdown: cfg.LoginWindow / time.Duration(failures),
		sleep:    sleep,
		checks:   make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
		logKey:   mac.Sum(nil),
	}
}

// SetClock makes every throttle read the time from now and wait with sleep: for tests, which
// move time on without waiting for it.
func (l *LoginThrottles) SetClock(now func() time.Time, sleep func(context.Context, time.Duration) error) {
	for _, t := range []*Throttle{l.Clients, l.pairs, l.suspects, l.users} {
		t.mu.Lock()
		t.now = now
		t.mu.Unlock()
	}
	l.sleep = sleep
}

// sleep waits for d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: slowed-down sign-in: %w", context.Cause(ctx))
	}
}

// ThrottledError refuses a sign-in attempt before its password is checked.
type ThrottledError struct {
	Wait   time.Duration // until the client may try again
	Reason string        // "user and client" or "user under attack"
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("sign-in throttled (%s): retry in %s", e.Reason, e.Wait)
}

// Attempt is a sign-in attempt the throttles let through: its guess is counted already.
type Attempt struct {
	l       *LoginThrottles
	pair    string
	spent   []spent
	Delayed time.Duration // how long Begin slowed it down
}

// spent is one reservation of an Attempt and the throttle it was made on.
type spent struct {
	t *Throttle
	r *rate.Reservation
}

// Begin counts a guess on user (in its normalized form) from client before the password is
// checked, or refuses it with a *ThrottledError; see LoginThrottles. It may wait (at most the
// slowdown), and returns ctx's error if ctx ends first. Call Done with the outcome.
func (l *LoginThrottles) Begin(ctx context.Context, user, client string) (*Attempt, error) {
	a := &Attempt{l: l, pair: user + "\x00" + client}
	r, wait := l.pairs.take(a.pair)
	if r == nil {
		return nil, &ThrottledError{Wait: wait, Reason: "user and client"}
	}
	a.spent = append(a.spent, spent{l.pairs, r})
	if r, _ := l.users.take(user); r != nil {
		a.spent = append(a.spent, spent{l.users, r})
		return a, nil
	}
	// The user is under attack.
	if suspect, until := l.suspects.Blocked(a.pair); suspect {
		_, refill := l.users.Blocked(user)
		a.giveBack()
		return nil, &ThrottledError{Wait: min(until, refill), Reason: "user under attack"}
	}
	r, delay := l.users.borrow(user)
	a.spent = append(a.spent, spent{l.users, r})
	a.Delayed = min(delay, l.slowdown)
	if err := l.sleep(ctx, a.Delayed); err != nil {
		a.giveBack()
		return nil, err
	}
	return a, nil
}

// Done records the outcome of the attempt's password check: a right password gives its
// guess back; a wrong one keeps it and marks the client as having failed on the user for
// a window.
func (a *Attempt) Done(ok bool) {
	if ok {
		a.giveBack()
		return
	}
	a.l.suspects.Spend(a.pair)
}

// giveBack cancels what the attempt spent.
func (a *Attempt) giveBack() {
	for _, s := range a.spent {
		s.t.cancel(s.r)
	}
	a.spent = nil
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

// LogName is how the log names a user name a client sent: a keyed hash (HMAC-SHA256,
// 16 hex digits) keyed by [auth] Secret, the same for one name in every process that shares
// the secret, so that the lines of one attack can be told apart without the log holding the
// names (often a password typed in the wrong field) or letting its reader guess them.
func (l *LoginThrottles) LogName(name string) string {
	mac := hmac.New(sha256.New, l.logKey)
	mac.Write([]byte(name))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

// IsThrottled reports whether err refuses an attempt, and the wait it asks for.
func IsThrottled(err error) (time.Duration, bool) {
	var t *ThrottledError
	if errors.As(err, &t) {
		return t.Wait, true
	}
	return 0, false
}
