package middleware

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"myblog/pkg/auth"
	"myblog/pkg/setting"
)

const testSecret = "kV3x9Qm2T7pLwZ4bN8cR1yH6dF0sJ5gA+uE/oI3tY7w="

// newProtected returns a handler whose only route, GET /private, is behind JWT and answers
// the token's username, and the tokens it accepts.
func newProtected(t *testing.T) (http.Handler, *auth.Tokens) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	tokens, err := auth.NewTokens(setting.Auth{Secret: testSecret, TokenTTL: time.Hour}, "myblog")
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	everyoneExists := func(context.Context, uint, string) (bool, error) { return true, nil }
	r.GET("/private", JWT(tokens, everyoneExists), func(c *gin.Context) {
		claims, ok := Claims(c)
		if !ok {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "no claims"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"username": claims.Username})
	})
	return r, tokens
}

// signed returns a token for ann signed with secret, expiring at expires.
func signed(t *testing.T, secret string, expires time.Time) string {
	t.Helper()
	claims := auth.Claims{Username: "ann", RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    "myblog",
		Subject:   "1",
		IssuedAt:  jwt.NewNumericDate(expires.Add(-time.Hour)),
		ExpiresAt: jwt.NewNumericDate(expires),
	}}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestJWTAdmitsOnlyValidBearerTokens(t *testing.T) {
	h, tokens := newProtected(t)
	valid, _, err := tokens.Issue(1, "ann")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, header string
		want         int
		wantBody     string
	}{
		{"a valid token", "Bearer " + valid, http.StatusOK, "ann"},
		{"a valid token, scheme in lower case", "bearer " + valid, http.StatusOK, "ann"},
		{"no Authorization header", "", http.StatusUnauthorized, "missing bearer token"},
		{"another scheme", "Basic YW5uOnNlY3JldA==", http.StatusUnauthorized, "missing bearer token"},
		{"a scheme without a token", "Bearer ", http.StatusUnauthorized, "missing bearer token"},
		{"an expired token", "Bearer " + signed(t, testSecret, time.Now().Add(-time.Minute)), http.StatusUnauthorized, "token expired"},
		{"a token signed with another secret", "Bearer " + signed(t, strings.Repeat("z", 32), time.Now().Add(time.Hour)), http.StatusUnauthorized, "invalid token"},
		{"a token with a broken signature", "Bearer " + valid[:len(valid)-4] + "AAAA", http.StatusUnauthorized, "invalid token"},
		{"garbage", "Bearer not-a-token", http.StatusUnauthorized, "invalid token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/private", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Fatalf("GET /private = %d %s, want %d mentioning %q", rec.Code, rec.Body, tc.want, tc.wantBody)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", rec.Body, err)
			}
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestJWTRefusesTokensOfUsersThatNoLongerExist(t *testing.T) {
	gin.SetMode(gin.TestMode)
	tokens, err := auth.NewTokens(setting.Auth{Secret: testSecret, TokenTTL: time.Hour}, "myblog")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := tokens.Issue(7, "ann")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		exists UserExists
		want   int
	}{
		{"the user exists", func(_ context.Context, id uint, name string) (bool, error) { return id == 7 && name == "ann", nil }, http.StatusOK},
		{"the user was deleted", func(context.Context, uint, string) (bool, error) { return false, nil }, http.StatusUnauthorized},
		{"the database is unreachable", func(context.Context, uint, string) (bool, error) { return false, syscall.ECONNREFUSED }, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gin.New()
			r.GET("/private", JWT(tokens, tc.exists), func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{}) })
			req := httptest.NewRequest(http.MethodGet, "/private", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("GET /private = %d %s, want %d", rec.Code, rec.Body, tc.want)
			}
		})
	}
}
