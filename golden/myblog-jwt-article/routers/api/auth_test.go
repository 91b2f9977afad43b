package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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
	r.POST("/auth", Login(db, tokens, auth.NewLoginThrottles(cfg)))
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
	retryAfter(t, sendFrom(t, h, "192.0.2.9:1000", `{"username":"ann","password":"guess"}`), 30)
	if rec := sendFrom(t, h, "192.0.2.9:1000", `{"username":"bob","password":"guess"}`); rec.Code != http.StatusUnauthorized {
		t.Errorf("another user name = %d %s, want 401 (not throttled)", rec.Code, rec.Body)
	}
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
