package middleware

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// newLoggedEngine returns an engine with RequestID and AccessLog logging as JSON into the
// returned buffer, serving GET /items/:id and a handler that panics.
func newLoggedEngine(t *testing.T) (*gin.Engine, *bytes.Buffer) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	var buf bytes.Buffer
	logger := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	r := gin.New()
	r.Use(RequestID(), AccessLog(logger), Recovery(logger))
	r.GET("/items/:id", func(c *gin.Context) {
		logger.InfoContext(c.Request.Context(), "handler ran")
		c.String(http.StatusOK, "hello")
	})
	r.GET("/panic", func(*gin.Context) { panic("boom") })
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	return r, &buf
}

func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestAccessLogNamesTheRouteStatusBytesAndRequestID(t *testing.T) {
	r, buf := newLoggedEngine(t)
	req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
	req.RemoteAddr = "192.0.2.7:4242"
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)

	id := rec.Header().Get(RequestIDHeader)
	if len(id) != 32 {
		t.Fatalf("X-Request-ID = %q, want 32 hex digits made up for the request", id)
	}
	lines := logLines(t, buf)
	if len(lines) != 2 {
		t.Fatalf("want the handler's line and the access line, got %v", lines)
	}
	if lines[0]["msg"] != "handler ran" || lines[0]["request_id"] != id {
		t.Errorf("the handler's line %v does not carry request_id %s", lines[0], id)
	}
	got := lines[1]
	for key, want := range map[string]any{
		"msg": "request", "method": "GET", "route": "/items/:id", "path": "/items/42",
		"status": float64(200), "bytes": float64(5), "client_ip": "192.0.2.7", "request_id": id,
	} {
		if got[key] != want {
			t.Errorf("access line %s = %v, want %v (line %v)", key, got[key], want, got)
		}
	}
	if _, ok := got["latency"]; !ok {
		t.Errorf("access line %v has no latency", got)
	}
}

func TestRequestIDIsHonouredWhenUsableAndReplacedOtherwise(t *testing.T) {
	r, _ := newLoggedEngine(t)
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"a proxy's id is echoed", "lb-1f2e3d/7", true},
		{"an id with a line break is replaced", "x\nlevel=ERROR msg=forged", false},
		{"an id with spaces is replaced", "a b", false},
		{"an over-long id is replaced", strings.Repeat("a", maxRequestIDLength+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/items/1", nil)
			req.Header.Set(RequestIDHeader, tc.sent)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			got := rec.Header().Get(RequestIDHeader)
			if tc.kept && got != tc.sent {
				t.Errorf("X-Request-ID = %q, want the one sent, %q", got, tc.sent)
			}
			if !tc.kept && (got == tc.sent || len(got) != 32) {
				t.Errorf("X-Request-ID = %q, want a new id instead of %q", got, tc.sent)
			}
		})
	}
}

func TestHealthChecksAreNotLogged(t *testing.T) {
	r, buf := newLoggedEngine(t)
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if buf.Len() != 0 {
		t.Errorf("GET /healthz was logged: %s", buf)
	}
}

func TestRecoveryLogsThePanicAndAnswers500(t *testing.T) {
	r, buf := newLoggedEngine(t)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/panic", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "internal error") {
		t.Errorf("GET /panic = %d %q, want 500 internal error", rec.Code, rec.Body)
	}
	lines := logLines(t, buf)
	if len(lines) != 2 || lines[0]["msg"] != "handler panicked" || lines[0]["panic"] != "boom" || lines[1]["status"] != float64(500) || lines[1]["level"] != "WARN" {
		t.Errorf("want the panic logged, then a warning access line with status 500; got %v", lines)
	}
}

func TestSkipProbesRunsTheMiddlewareForEveryPathButAProbe(t *testing.T) {
	gin.SetMode(gin.TestMode)
	for _, tc := range []struct {
		path    string
		skipped bool
	}{
		{"/healthz", true},
		{"/readyz", true},
		{"/metrics", true},
		// Only the exact paths: a look-alike still gets the middleware.
		{"/healthz/", false},
		{"/HEALTHZ", false},
		{"/healthz/../api/v1/items", false},
		{"/api/v1/items", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			ran, handled := 0, 0
			r := gin.New()
			r.Use(SkipProbes(func(c *gin.Context) {
				ran++
				c.Next()
			}))
			r.NoRoute(func(c *gin.Context) { handled++; c.Status(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path = tc.path // as sent, not cleaned
			r.ServeHTTP(httptest.NewRecorder(), req)
			if handled != 1 {
				t.Errorf("the handler ran %d times, want once", handled)
			}
			if want := map[bool]int{true: 0, false: 1}[tc.skipped]; ran != want {
				t.Errorf("the middleware ran %d times, want %d", ran, want)
			}
		})
	}
}
