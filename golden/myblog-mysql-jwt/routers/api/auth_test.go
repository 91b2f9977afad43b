package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"myblog/internal/dbtest"
	"myblog/middleware"
	"myblog/models"
	"myblog/pkg/auth"
	"myblog/pkg/setting"
)

// newAuthAPI serves POST /auth and GET /api/v1/me, as the router does, over a database with
// the user ann (password "correct horse"), with the default sign-in throttling.
func newAuthAPI(t *testing.T) (http.Handler, *auth.Tokens) {
	t.Helper()
	h, tokens, _ := newThrottledAuthAPI(t, setting.Default().Auth)
	return h, tokens
}

// newThrottledAuthAPI is newAuthAPI with the throttling of cfg, and the database.
func newThrottledAuthAPI(t *testing.T, cfg setting.Auth) (http.Handler, *auth.Tokens, *gorm.DB) {
	t.Helper()
	return newAuthAPIWith(t, auth.NewLoginThrottles(cfg))
}

// newAuthAPIWith is newAuthAPI with these throttles, and the database.
func newAuthAPIWith(t *testing.T, throttles *auth.LoginThrottles) (http.Handler, *auth.Tokens, *gorm.DB) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	db := dbtest.Open(t)
	if _, err := models.CreateUser(context.Background(), db, "ann", "correct horse"); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(setting.Auth{Secret: "kV3x9Qm2T7pLwZ4bN8cR1yH6dF0sJ5gA+uE/oI3tY7w=", TokenTTL: time.Hour}, "myblog")
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth", Login(db, tokens, throttles))
	userExists := func(ctx context.Context, id uint, username string) (bool, error) {
		return models.UserExists(ctx, db, id, username)
	}
	r.GET("/api/v1/me", middleware.JWT(tokens, userExists), Me)
	return r, tokens, db
}

func send(t *testing.T, h http.Handler, method, target, body, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader([]byte(body)))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestLoginIssuesATokenForRightCredentialsOnly(t *testing.T) {
	h, tokens := newAuthAPI(t)
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"a wrong password", `{"username":"ann","password":"wrong horse"}`, http.StatusUnauthorized},
		{"an unknown user", `{"username":"bob","password":"correct horse"}`, http.StatusUnauthorized},
		{"no password", `{"username":"ann"}`, http.StatusBadRequest},
		{"malformed JSON", `{"username":`, http.StatusBadRequest},
		{"an empty body", ``, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := send(t, h, http.MethodPost, "/auth", tc.body, "")
			if rec.Code != tc.want {
				t.Fatalf("POST /auth %s = %d %s, want %d", tc.body, rec.Code, rec.Body, tc.want)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == nil || body["token"] != nil {
				t.Errorf("body = %s, want an error and no token", rec.Body)
			}
		})
	}

	rec := send(t, h, http.MethodPost, "/auth", `{"username":"ann","password":"correct horse"}`, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /auth with the right password = %d %s, want 200", rec.Code, rec.Body)
	}
	var login LoginResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &login); err != nil {
		t.Fatal(err)
	}
	if login.TokenType != "Bearer" || time.Until(login.ExpiresAt) < 59*time.Minute {
		t.Errorf("login = %+v, want a Bearer token valid for about an hour", login)
	}
	claims, err := tokens.Parse(login.Token)
	if err != nil || claims.Username != "ann" {
		t.Fatalf("the token does not parse back to ann: %+v, %v", claims, err)
	}

	rec = send(t, h, http.MethodGet, "/api/v1/me", "", login.Token)
	var me map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &me); err != nil || rec.Code != http.StatusOK || me["username"] != "ann" {
		t.Errorf("GET /api/v1/me with the token = %d %s, want 200 naming ann", rec.Code, rec.Body)
	}
	if rec := send(t, h, http.MethodGet, "/api/v1/me", "", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me without a token = %d %s, want 401", rec.Code, rec.Body)
	}
}

// sendFrom is send from the client address addr.
func sendFrom(t *testing.T, h http.Handler, addr, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/auth", strings.NewReader(body))
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// retryAfter checks that rec is a 429 with a Retry-After of 1 to max seconds.
func retryAfter(t *testing.T, rec *httptest.ResponseRecorder, limit int) {
	t.Helper()
	secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if rec.Code != http.StatusTooManyRequests || err != nil || secs < 1 || secs > limit {
		t.Fatalf("got %d, Retry-After %q, body %s; want 429 with Retry-After from 1 to %d", rec.Code, rec.Header().Get("Retry-After"), rec.Body, limit)
	}
}

func TestLoginThrottlesAClientThatTriesTooOften(t *testing.T) {
	cfg := setting.Default().Auth
	cfg.LoginAttemptsPerClient, cfg.LoginFailuresPerUser, cfg.LoginWindow = 3, 100, time.Minute
	h, _, _ := newThrottledAuthAPI(t, cfg)
	for i := range 3 {
		// Different user names: the client's allowance is spent, not the users'.
		if rec := sendFrom(t, h, "192.0.2.1:1000", `{"username":"u`+strconv.Itoa(i)+`","password":"wrong horse"}`); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d %s, want 401", i+1, rec.Code, rec.Body)
		}
	}
	// Even the right password is refused now, before it is checked: 3 attempts a minute is
	// one every 20 seconds.
	retryAfter(t, sendFrom(t, h, "192.0.2.1:1000", `{"username":"ann","password":"correct horse"}`), 20)
	if rec := sendFrom(t, h, "192.0.2.2:1000", `{"username":"ann","password":"correct horse"}`); rec.Code != http.StatusOK {
		t.Errorf("another client's right password = %d %s, want 200", rec.Code, rec.Body)
	}
}

func TestLoginThrottlesFailuresOnOneUserFromManyClients(t *testing.T) {
	cfg := setting.Default().Auth
	cfg.LoginAttemptsPerClient, cfg.LoginFailuresPerUser, cfg.LoginWindow = 100, 2, time.Minute
	h, _, _ := newThrottledAuthAPI(t, cfg)
	for i := range 2 {
		if rec := sendFrom(t, h, "192.0.2."+strconv.Itoa(i+1)+":1000", `{"username":"ann","password":"guess"}`); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d %s, want 401", i+1, rec.Code, rec.Body)
		}
	}
	// ann's allowance is spent: a client that failed on ann is refused until it refills.
	retryAfter(t, sendFrom(t, h, "192.0.2.1:1000", `{"username":"ann","password":"guess"}`), 30)
	if rec := sendFrom(t, h, "192.0.2.1:1000", `{"username":"bob","password":"guess"}`); rec.Code != http.StatusUnauthorized {
		t.Errorf("another user name = %d %s, want 401 (not throttled)", rec.Code, rec.Body)
	}
}

// jsonLogin is the body of POST /auth for username and password.
func jsonLogin(t *testing.T, username, password string) string {
	t.Helper()
	b, err := json.Marshal(LoginRequest{Username: username, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEverySpellingOfANameSharesItsAllowance(t *testing.T) {
	cfg := setting.Default().Auth
	cfg.LoginAttemptsPerClient, cfg.LoginFailuresPerUser, cfg.LoginWindow = 1000, 5, time.Minute
	throttles := auth.NewLoginThrottles(cfg)
	// ann's allowance gets spent: the sign-ins below are slowed down, which costs no time here.
	clock := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	throttles.SetClock(clock.now, func(context.Context, time.Duration) error { return nil })
	h, _, _ := newAuthAPIWith(t, throttles)
	// Spellings of the user name ann that are ann once normalized.
	annSpellings := []string{"ann", "ANN", "Ann", "aNN", "ann   ", "   ann", "\tann\n", "ａｎｎ", "ＡＮＮ", "ann\u00a0", "\u1d43nn"}
	if len(annSpellings) != 11 {
		t.Fatalf("%d spellings, want 11", len(annSpellings))
	}
	guesses := 0
	for _, name := range annSpellings {
		for range 5 {
			switch rec := sendFrom(t, h, "192.0.2.1:1000", jsonLogin(t, name, "guess")); rec.Code {
			case http.StatusUnauthorized:
				guesses++
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("guess as %q = %d %s, want 401 or 429", name, rec.Code, rec.Body)
			}
		}
	}
	if guesses != 5 {
		t.Errorf("11 spellings x 5 guesses: %d passwords checked, want 5 in all", guesses)
	}
	// Each spelling is ann: the right password signs in as ann, from a client that did not fail.
	for i, name := range annSpellings {
		rec := sendFrom(t, h, "203.0.113."+strconv.Itoa(i+1)+":1000", jsonLogin(t, name, "correct horse"))
		var login LoginResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &login); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("the right password as %q = %d %s, want 200", name, rec.Code, rec.Body)
		}
	}
	// An accent makes another name: not ann's row, whatever the database's collation.
	for _, name := range []string{"ánn", "a\u0301nn", "ÁNN"} {
		if rec := sendFrom(t, h, "203.0.113.99:1000", jsonLogin(t, name, "correct horse")); rec.Code != http.StatusUnauthorized {
			t.Errorf("ann's password as %q = %d %s, want 401 (another user name)", name, rec.Code, rec.Body)
		}
	}
}

// testClock is a settable time for the sign-in throttles.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestParallelGuessesAreCountedBeforeThePasswordCheck(t *testing.T) {
	const limit, parallel = 5, 40
	cfg := setting.Default().Auth
	cfg.LoginAttemptsPerClient, cfg.LoginFailuresPerUser, cfg.LoginWindow = 100, limit, time.Minute
	throttles := auth.NewLoginThrottles(cfg)
	clock := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// Slowed-down attempts wait here until the test has counted the ones that went through.
	release := make(chan struct{})
	var slowed atomic.Int32
	throttles.SetClock(clock.now, func(ctx context.Context, _ time.Duration) error {
		slowed.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	h, _, _ := newAuthAPIWith(t, throttles)
	var checked atomic.Int32
	codes := make(chan int, parallel)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Go(func() {
			<-start
			rec := sendFrom(t, h, "198.51.100."+strconv.Itoa(i+1)+":1000", `{"username":"ann","password":"guess"}`)
			if rec.Code == http.StatusUnauthorized {
				checked.Add(1)
			}
			codes <- rec.Code
		})
	}
	close(start)
	// Wait until every attempt has either been answered or is being slowed down.
	for int(checked.Load()+slowed.Load()) < parallel {
		time.Sleep(time.Millisecond)
	}
	if n := checked.Load(); n > limit {
		t.Errorf("%d parallel guesses from %d addresses: %d passwords checked at once, want at most %d", parallel, parallel, n, limit)
	}
	if n := slowed.Load(); int(n) < parallel-limit {
		t.Errorf("%d guesses slowed down, want at least %d", n, parallel-limit)
	}
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusUnauthorized {
			t.Errorf("a guess from a client that had not failed = %d, want 401 (slowed down, never refused)", code)
		}
	}
	// Each of those addresses has failed on ann: while ann's allowance is spent, a second
	// guess from any of them is refused before its password is checked.
	retryAfter(t, sendFrom(t, h, "198.51.100.7:1000", `{"username":"ann","password":"guess"}`), 60)
}

func TestAnAttackOnAUserCannotLockItsOwnerOut(t *testing.T) {
	// The attack of issue 18: wrong passwords for ann once a second from 6 addresses, each
	// under its per-client limit, for a whole window; ann signs in meanwhile.
	const failures, attackers = 5, 6
	cfg := setting.Default().Auth
	cfg.LoginAttemptsPerClient, cfg.LoginFailuresPerUser, cfg.LoginWindow = 100, failures, time.Minute
	throttles := auth.NewLoginThrottles(cfg)
	clock := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var slowest time.Duration
	throttles.SetClock(clock.now, func(_ context.Context, d time.Duration) error {
		slowest = max(slowest, d)
		return nil
	})
	h, _, _ := newAuthAPIWith(t, throttles)
	guesses := 0
	for second := range int(cfg.LoginWindow / time.Second) {
		for a := range attackers {
			switch rec := sendFrom(t, h, "198.51.100."+strconv.Itoa(a+1)+":1000", `{"username":"ann","password":"guess"}`); rec.Code {
			case http.StatusUnauthorized:
				guesses++
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("second %d, attacker %d: %d %s", second, a+1, rec.Code, rec.Body)
			}
		}
		if second%10 == 5 {
			slowest = 0
			if rec := sendFrom(t, h, "203.0.113.7:1000", `{"username":"ann","password":"correct horse"}`); rec.Code != http.StatusOK {
				t.Fatalf("second %d of the attack: ann's right password = %d %s, want 200", second, rec.Code, rec.Body)
			}
			if limit := cfg.LoginWindow / failures; slowest > limit {
				t.Errorf("second %d: ann was slowed down %s, want at most %s", second, slowest, limit)
			}
		}
		clock.add(time.Second)
	}
	// Without the per-user allowance the 6 addresses would have had 6 x 5 guesses and 1 per
	// 12 s each after; with it: the user's allowance (5 + 5 refilled) and one per address.
	if limit := 2*failures + attackers; guesses > limit {
		t.Errorf("%d addresses x %s: %d passwords checked, want at most %d", attackers, cfg.LoginWindow, guesses, limit)
	}
	t.Logf("%d addresses, one guess a second each for %s: %d passwords checked", attackers, cfg.LoginWindow, guesses)
}

func TestATokenOfADeletedUserIsRefused(t *testing.T) {
	h, _, db := newThrottledAuthAPI(t, setting.Default().Auth)
	rec := send(t, h, http.MethodPost, "/auth", `{"username":"ann","password":"correct horse"}`, "")
	var login LoginResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &login); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("POST /auth = %d %s", rec.Code, rec.Body)
	}
	if rec := send(t, h, http.MethodGet, "/api/v1/me", "", login.Token); rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/me before the delete = %d %s, want 200", rec.Code, rec.Body)
	}
	if err := db.Where("username = ?", "ann").Delete(&models.User{}).Error; err != nil {
		t.Fatal(err)
	}
	if rec := send(t, h, http.MethodGet, "/api/v1/me", "", login.Token); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me after ann was deleted = %d %s, want 401", rec.Code, rec.Body)
	}
}

func TestFailedSignInsLogNoUserName(t *testing.T) {
	// At the level the service logs at by default (SQL values appear only at debug: models'
	// TestGormLogsFailuresWithoutValuesAboveDebug).
	var logs bytes.Buffer
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { slog.SetDefault(previous) })
	cfg := setting.Default().Auth
	cfg.LoginAttemptsPerClient, cfg.LoginFailuresPerUser, cfg.LoginWindow = 100, 1, time.Minute
	h, _, _ := newThrottledAuthAPI(t, cfg)
	// A password typed in the user name field, refused, then throttled.
	const name = "Hunter2-Typed-Here"
	if rec := sendFrom(t, h, "192.0.2.1:1000", jsonLogin(t, name, "guess")); rec.Code != http.StatusUnauthorized {
		t.Fatalf("POST /auth = %d %s, want 401", rec.Code, rec.Body)
	}
	retryAfter(t, sendFrom(t, h, "192.0.2.1:1000", jsonLogin(t, name, "guess")), 60)
	out := logs.String()
	if !strings.Contains(out, "sign-in refused") || !strings.Contains(out, "sign-in throttled") {
		t.Fatalf("the log has no line for the refused and the throttled sign-in:\n%s", out)
	}
	for _, clear := range []string{name, strings.ToLower(name), "Hunter2"} {
		if strings.Contains(strings.ToLower(out), strings.ToLower(clear)) {
			t.Errorf("the log holds the user name %q:\n%s", clear, out)
		}
	}
}

// TestASlowSignInBodyIsAnswered408: a body cut by BodyDeadline for coming too slowly is a
// timeout (408), not a malformed request (400).
func TestASlowSignInBodyIsAnswered408(t *testing.T) {
	h, _ := newAuthAPI(t)
	r := gin.New()
	r.Use(middleware.BodyDeadline(1000, 200*time.Millisecond, 10*time.Second))
	r.POST("/auth", gin.WrapH(h))
	srv := httptest.NewServer(r)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The test's bound, not a timing goal: the server must answer long before it.
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "POST /auth HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"username\": \"ann"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a trickled sign-in: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status = %d, want 408", resp.StatusCode)
	}
}
