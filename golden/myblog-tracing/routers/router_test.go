package routers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"myblog/internal/dbtest"
	"myblog/models"
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
		Version: "test",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
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

func TestEveryGETRouteAnswersHEADWithItsHeadersAndNoBody(t *testing.T) {
	h := newTestRouter(t, &testDB{state: models.DBState{Up: true}})
	heads := map[string]bool{}
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
