package routers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"myblog/internal/dbtest"
	"myblog/models"
	"myblog/pkg/auth"
	"myblog/pkg/setting"
	"myblog/routers/openapi"
)

// testDB is the database state newTestRouter's /healthz reports.
type testDB struct{ state models.DBState }

func newTestRouter(t *testing.T, dbState *testDB) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.TestMode)
	db := dbtest.Open(t)
	return New(Deps{
		DB:      db,
		DBState: func() models.DBState { return dbState.state },
		Tokens:  newTestTokens(t),
		Version: "test",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

func newTestTokens(t *testing.T) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens(setting.Auth{Secret: "kV3x9Qm2T7pLwZ4bN8cR1yH6dF0sJ5gA+uE/oI3tY7w=", TokenTTL: time.Hour}, "myblog")
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func get(t *testing.T, h http.Handler, method, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body.String(), err)
	}
	return rec.Code, body
}

func TestHealthzReportsVersionPidAndTheDatabase(t *testing.T) {
	dbState := &testDB{state: models.DBState{Up: true}}
	h := newTestRouter(t, dbState)
	code, body := get(t, h, http.MethodGet, "/healthz")
	if code != http.StatusOK {
		t.Fatalf("status = %d, want 200", code)
	}
	if body["status"] != "ok" || body["version"] != "test" || body["pid"] != float64(os.Getpid()) || body["database"] != "up" {
		t.Errorf("body = %v, want status ok, version test, pid %d, database up", body, os.Getpid())
	}

	// A database that is down is reported, but the process is alive: still 200.
	dbState.state = models.DBState{Err: errors.New("connection refused")}
	code, body = get(t, h, http.MethodGet, "/healthz")
	if code != http.StatusOK || body["status"] != "ok" || body["database"] != "down" {
		t.Errorf("GET /healthz with the database down = %d %v, want 200, status ok, database down", code, body)
	}
}

func TestReadyzPingsTheDatabase(t *testing.T) {
	code, body := get(t, newTestRouter(t, &testDB{state: models.DBState{Up: true}}), http.MethodGet, "/readyz")
	if code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("GET /readyz = %d %v, want 200 ok", code, body)
	}
}

func TestReadyzAnswers503WhenTheDatabaseIsGone(t *testing.T) {
	db := dbtest.Open(t)
	h := New(Deps{DB: db, DBState: func() models.DBState { return models.DBState{Up: true} }, Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := models.Close(db); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, h, http.MethodGet, "/readyz")
	if code != http.StatusServiceUnavailable || body["status"] != "unavailable" {
		t.Fatalf("GET /readyz on a closed database = %d %v, want 503 unavailable", code, body)
	}
	// The driver's error (hosts, users, file paths) is logged, not answered.
	if body["error"] != "database unreachable" {
		t.Errorf("GET /readyz answered error %q, want the generic \"database unreachable\"", body["error"])
	}
}

// TestClientIPHonoursTrustedProxiesOnly sends X-Forwarded-For: 6.6.6.6 from a peer, and reads
// the client IP the access log names: the peer unless it is a trusted proxy.
func TestClientIPHonoursTrustedProxiesOnly(t *testing.T) {
	gin.SetMode(gin.TestMode)
	db := dbtest.Open(t)
	for _, tc := range []struct {
		name    string
		proxies []string
		want    string
	}{
		{"no proxy is trusted by default", nil, "192.0.2.7"},
		{"a trusted proxy's X-Forwarded-For names the client", []string{"192.0.2.0/24"}, "6.6.6.6"},
		{"another proxy is not trusted", []string{"10.0.0.1"}, "192.0.2.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := New(Deps{DB: db, DBState: func() models.DBState { return models.DBState{Up: true} }, Version: "test",
				Tokens: newTestTokens(t),
				Logger: slog.New(slog.NewJSONHandler(&buf, nil)), AccessLog: true, TrustedProxies: tc.proxies})
			req := httptest.NewRequest(http.MethodGet, "/api/v1/nothing-here", nil)
			req.RemoteAddr = "192.0.2.7:5555"
			req.Header.Set("X-Forwarded-For", "6.6.6.6")
			h.ServeHTTP(httptest.NewRecorder(), req)
			var line struct {
				ClientIP string `json:"client_ip"`
			}
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("access log %q: %v", buf.String(), err)
			}
			if line.ClientIP != tc.want {
				t.Errorf("client_ip = %q, want %q", line.ClientIP, tc.want)
			}
		})
	}
}

func TestAccessLogOffWritesNoRequestLine(t *testing.T) {
	gin.SetMode(gin.TestMode)
	var buf bytes.Buffer
	h := New(Deps{DB: dbtest.Open(t), DBState: func() models.DBState { return models.DBState{Up: true} }, Version: "test",
		Tokens: newTestTokens(t),
		Logger: slog.New(slog.NewJSONHandler(&buf, nil)), AccessLog: false})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/nothing-here", nil))
	if buf.Len() != 0 {
		t.Errorf("with AccessLog off the router logged %q", buf.String())
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	h := newTestRouter(t, &testDB{state: models.DBState{Up: true}})
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"an unknown path is 404", http.MethodGet, "/api/v1/nothing-here", http.StatusNotFound},
		{"a wrong method is 405", http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, h, tc.method, tc.path)
			if code != tc.want || body["error"] == nil {
				t.Errorf("%s %s = %d %v, want %d with an error message", tc.method, tc.path, code, body, tc.want)
			}
		})
	}
}

func TestTheAPIRequiresATokenFromAuth(t *testing.T) {
	gin.SetMode(gin.TestMode)
	db := dbtest.Open(t)
	if _, err := models.CreateUser(context.Background(), db, "ann", "correct horse"); err != nil {
		t.Fatal(err)
	}
	h := New(Deps{DB: db, DBState: func() models.DBState { return models.DBState{Up: true} }, Tokens: newTestTokens(t), Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	call := func(method, path, body, token string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body, err)
		}
		return rec.Code, out
	}

	if code, body := call(http.MethodGet, "/api/v1/me", "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me without a token = %d %v, want 401", code, body)
	}
	if code, body := call(http.MethodPost, "/auth", `{"username":"ann","password":"wrong"}`, ""); code != http.StatusUnauthorized {
		t.Errorf("POST /auth with a wrong password = %d %v, want 401", code, body)
	}
	code, login := call(http.MethodPost, "/auth", `{"username":"ann","password":"correct horse"}`, "")
	token, _ := login["token"].(string)
	if code != http.StatusOK || token == "" {
		t.Fatalf("POST /auth = %d %v, want 200 with a token", code, login)
	}
	if code, me := call(http.MethodGet, "/api/v1/me", "", token); code != http.StatusOK || me["username"] != "ann" {
		t.Errorf("GET /api/v1/me with the token = %d %v, want 200 naming ann", code, me)
	}
	if code, _ := call(http.MethodGet, "/healthz", "", ""); code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200 without a token", code)
	}

	// The live events of resources added with --events want the token GET wants.
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for p := range streamPaths(t) {
		for _, tc := range []struct {
			token string
			want  int
		}{
			{"", http.StatusUnauthorized},
			{"not a token", http.StatusUnauthorized},
			{token, http.StatusOK},
		} {
			ctx, cancel := context.WithCancel(t.Context())
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+p+"?after=0", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			want := tc.want
			if strings.HasSuffix(p, "/ws") && want == http.StatusOK {
				want = http.StatusUpgradeRequired // authorized, but no websocket handshake
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", p, err)
			}
			if resp.StatusCode != want {
				t.Errorf("GET %s with token %q = %d, want %d", p, tc.token, resp.StatusCode, want)
			}
			cancel() // ends a stream that was let through
			_ = resp.Body.Close()
		}
	}
}

// streamPaths are the paths of the document's streams (live events, marked
// x-gingen-stream): served by GET only.
func streamPaths(t *testing.T) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openapi.JSON(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	out := map[string]bool{}
	for p, item := range doc.Paths {
		if get, ok := item["get"].(map[string]any); ok && get["x-gingen-stream"] == true {
			out[p] = true
		}
	}
	return out
}

func TestEveryGETRouteAnswersHEADWithItsHeadersAndNoBody(t *testing.T) {
	h := newTestRouter(t, &testDB{state: models.DBState{Up: true}})
	heads := streamPaths(t) // a stream has no HEAD
	for p := range heads {
		found := false
		for _, r := range h.Routes() {
			found = found || r.Method == http.MethodGet && r.Path == p
		}
		if !found {
			t.Errorf("the document's stream %s is not served", p)
		}
	}
	for _, r := range h.Routes() {
		if r.Method == http.MethodHead {
			heads[r.Path] = true
		}
	}
	for _, r := range h.Routes() {
		if r.Method == http.MethodGet && !heads[r.Path] {
			t.Errorf("GET %s has no HEAD route", r.Path)
		}
	}

	// Through a real server, which sends no body to a HEAD.
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	getResp, err := srv.Client().Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	_ = getResp.Body.Close()
	headResp, err := srv.Client().Head(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(headResp.Body)
	_ = headResp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if headResp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD /openapi.json = %d with %d bytes of body, want 200 and none", headResp.StatusCode, len(body))
	}
	for _, name := range []string{"Content-Type", "X-Request-Id"} {
		if got, want := headResp.Header.Get(name), getResp.Header.Get(name); got == "" || (name == "Content-Type" && got != want) {
			t.Errorf("HEAD /openapi.json: %s = %q, want it as GET answers it (%q)", name, got, want)
		}
	}
}
