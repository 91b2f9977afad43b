package metrics

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestRequestsAreCountedByRouteTemplateMethodAndStatus(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := New()
	r := gin.New()
	r.Use(m.Middleware())
	inFlight := -1.0
	r.GET("/items/:id", func(c *gin.Context) {
		inFlight = testutil.ToFloat64(m.inFlight)
		c.String(http.StatusOK, "ok")
	})
	for _, path := range []string{"/items/1", "/items/2", "/nothing/1", "/nothing/2"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/items/:id", "GET", "200")); got != 2 {
		t.Errorf("requests of /items/:id = %v, want 2 (one series for every id)", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues(unmatchedRoute, "GET", "404")); got != 2 {
		t.Errorf("unmatched requests = %v, want 2 in one series", got)
	}
	if inFlight != 1 || testutil.ToFloat64(m.inFlight) != 0 {
		t.Errorf("in flight: %v during a request, %v after; want 1 and 0", inFlight, testutil.ToFloat64(m.inFlight))
	}
	out := scrape(t, m)
	for _, want := range []string{
		`http_request_duration_seconds_count{method="GET",route="/items/:id",status="200"} 2`,
		"go_goroutines", "process_open_fds",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestGenerationAndDatabasePoolAreExported(t *testing.T) {
	m := New()
	m.Generation(3, 1500*time.Millisecond)
	// A pool that never connects: sql.Open only checks the driver name, and the stats
	// collector reads DB.Stats.
	sql.Register("metrics-test-driver", nopDriver{})
	db, err := sql.Open("metrics-test-driver", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := m.SetDB(db, "sqlite"); err != nil {
		t.Fatal(err)
	}
	if err := m.SetDB(db, "sqlite"); err != nil {
		t.Fatalf("setting the pool again (a new generation's): %v", err)
	}
	out := scrape(t, m)
	for _, want := range []string{"restart_generation 3", "restart_handover_seconds 1.5", `go_sql_max_open_connections{db_name="sqlite"} 0`} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
