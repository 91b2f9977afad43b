// Package metrics keeps the process's Prometheus metrics (github.com/prometheus/client_golang)
// and serves them: HTTP requests by route template, method and status, requests in flight,
// the restart generation and how long its hand-over took, the database pool, and the Go
// runtime and process collectors.
package metrics

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// unmatchedRoute is the route label of requests no route matched, so that scanners probing
// random paths cannot grow the number of series.
const unmatchedRoute = "unmatched"

// Metrics are one process's metrics, in a registry of their own (no global state).
type Metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	generation prometheus.Gauge
	handover   prometheus.Gauge

	mu sync.Mutex
	db prometheus.Collector // the database pool's collector, replaced by SetDB
}

// New returns the metrics of a process, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time from a request's arrival at the router to its answer, by route template, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "restart_generation",
			Help: "Restarts (SIGHUP hand-overs) since the first process of this lineage started: 0 for the first generation.",
		}),
		handover: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "restart_handover_seconds",
			Help: "How long the restart that started this generation took, from SIGHUP to this generation serving; 0 for the first generation.",
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.inFlight, m.generation, m.handover,
	)
	return m
}

// Middleware counts and times every request by its route template (/api/v1/articles/:id,
// "unmatched" when no route matched), method and status.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		method := c.Request.Method
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
			http.MethodDelete, http.MethodOptions:
		default:
			method = "other" // bounded label values
		}
		status := strconv.Itoa(c.Writer.Status())
		m.requests.WithLabelValues(route, method, status).Inc()
		m.duration.WithLabelValues(route, method, status).Observe(time.Since(start).Seconds())
	}
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// SetDB exports the statistics of db's connection pool (go_sql_* with db_name=name),
// replacing those of a pool set before.
func (m *Metrics) SetDB(db *sql.DB, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.db != nil {
		m.registry.Unregister(m.db)
	}
	m.db = collectors.NewDBStatsCollector(db, name)
	if err := m.registry.Register(m.db); err != nil {
		return fmt.Errorf("metrics: database pool: %w", err)
	}
	return nil
}

// Generation records that this process serves the given restart generation, which took
// handover to take over (0 for the first one). It is restart.Options' OnServe hook.
func (m *Metrics) Generation(generation int, handover time.Duration) {
	m.generation.Set(float64(generation))
	m.handover.Set(handover.Seconds())
}

// Registry is where the metrics are registered, for collectors of your own.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }
