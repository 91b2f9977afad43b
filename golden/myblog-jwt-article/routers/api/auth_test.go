package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"myblog/internal/dbtest"
	"myblog/middleware"
	"myblog/models"
	"myblog/pkg/auth"
	"myblog/pkg/setting"
)

// newAuthAPI serves POST /auth and GET /api/v1/me, as the router does, over a database with
// the user ann (password "correct horse").
func newAuthAPI(t *testing.T) (http.Handler, *auth.Tokens) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	db := dbtest.Open(t)
	if _, err := models.CreateUser(context.Background(), db, "ann", "correct horse"); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(setting.Auth{Secret: "0123456789abcdef0123456789abcdef", TokenTTL: time.Hour}, "myblog")
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth", Login(db, tokens))
	r.GET("/api/v1/me", middleware.JWT(tokens), Me)
	return r, tokens
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
