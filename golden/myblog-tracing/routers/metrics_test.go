package routers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"myblog/internal/dbtest"
	"myblog/middleware"
	"myblog/models"
	"myblog/pkg/metrics"
)

func newMetricsRouter(t *testing.T, public bool) (*gin.Engine, *metrics.Metrics) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	m := metrics.New()
	return New(Deps{
		DB:            dbtest.Open(t),
		DBState:       func() models.DBState { return models.DBState{Up: true} },
		Version:       "test",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:       m,
		MetricsPublic: public,
	}), m
}

func status(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestMetricsAreOnThePublicPortOnlyWhenMadePublic(t *testing.T) {
	h, _ := newMetricsRouter(t, false)
	if code, _ := status(h, "/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics with [metrics] Public = false = %d, want 404 on the public port", code)
	}
	h, _ = newMetricsRouter(t, true)
	status(h, "/openapi.json")
	code, body := status(h, "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `http_requests_total{method="GET",route="/openapi.json",status="200"} 1`) {
		t.Errorf("GET /metrics with [metrics] Public = true = %d, want 200 counting the /openapi.json request:\n%s", code, body)
	}
}

func TestProbesGetNoRequestIDAndAreNotCounted(t *testing.T) {
	h, _ := newMetricsRouter(t, true)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Header().Get(middleware.RequestIDHeader) != "" {
			t.Errorf("GET %s = %d with X-Request-ID %q, want 200 and no id", path, rec.Code, rec.Header().Get(middleware.RequestIDHeader))
		}
	}
	// Any other request, a 404 included, gets its id and is counted.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthzz", nil))
	if rec.Header().Get(middleware.RequestIDHeader) == "" {
		t.Errorf("GET /healthzz = %d with no X-Request-ID, want one", rec.Code)
	}
	_, body := status(h, "/metrics")
	for _, route := range []string{"/healthz", "/readyz", "/metrics"} {
		if strings.Contains(body, `route="`+route+`"`) {
			t.Errorf("/metrics counts %s requests, want probes left out:\n%s", route, body)
		}
	}
	if !strings.Contains(body, `http_requests_total{method="GET",route="unmatched",status="404"} 1`) {
		t.Errorf("/metrics does not count the GET /healthzz (404):\n%s", body)
	}
}

func TestPprofIsNeverOnThePublicPort(t *testing.T) {
	for _, public := range []bool{false, true} {
		h, _ := newMetricsRouter(t, public)
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap"} {
			if code, _ := status(h, path); code != http.StatusNotFound {
				t.Errorf("GET %s on the public router = %d, want 404", path, code)
			}
		}
	}
}

func TestTheAdminHandlerServesMetricsAndPprof(t *testing.T) {
	h := Admin(metrics.New())
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if code, _ := status(h, path); code != http.StatusOK {
			t.Errorf("GET %s on the admin handler = %d, want 200", path, code)
		}
	}
}
