// Package routers builds the HTTP handler: health checks and the versioned API.
package routers

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"myblog/middleware"
	"myblog/models"
	"myblog/pkg/metrics"
	"myblog/pkg/setting"
	"myblog/pkg/tracing"
	v1 "myblog/routers/api/v1"
	"myblog/routers/openapi"
)

// Deps are what the handlers need.
type Deps struct {
	DB *gorm.DB
	// DBState is the database's state as last probed (a models.DBMonitor's State).
	DBState func() models.DBState
	Version string
	Logger  *slog.Logger
	// AccessLog writes one line per request to Logger ([app] AccessLog).
	AccessLog bool
	// TrustedProxies are the proxies whose X-Forwarded-For names the client ([server]
	// TrustedProxies, checked by setting.Load); none when empty.
	TrustedProxies []string
	// Metrics count every request; nil: none. GET /metrics serves them on this router only
	// when MetricsPublic ([metrics] Public); the [admin] Addr listener serves them anyway.
	Metrics       *metrics.Metrics
	MetricsPublic bool
	// Server is the [server] section: the minimum rate of request bodies (BodyMinRate,
	// BodyGrace, within ReadTimeout); a zero BodyMinRate sets none.
	Server setting.Server
	// CORS is the [cors] section: no CORS headers when it allows no origin.
	CORS setting.CORS
	// Tracing makes a span of every request but the probes ([tracing]); nil: none, and no
	// tracing middleware at all.
	Tracing *tracing.Tracing
}

// New returns the application's handler.
func New(deps Deps) *gin.Engine {
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	r := gin.New()
	// With no proxy trusted, ClientIP is the peer's address whatever X-Forwarded-For says.
	if err := r.SetTrustedProxies(deps.TrustedProxies); err != nil {
		logger.Error("[server] TrustedProxies is invalid; trusting no proxy", "error", err)
		_ = r.SetTrustedProxies(nil) // nil cannot fail
	}
	// Probes (/healthz, /readyz, /metrics) get no request id and are not counted: nothing
	// logs with their id, and they would outnumber the API's requests in the metrics.
	// First: the access log line and every log line of the request are written within its
	// span, and carry its trace id.
	if deps.Tracing != nil {
		r.Use(deps.Tracing.Middleware()...)
	}
	r.Use(middleware.SkipProbes(middleware.RequestID()))
	if deps.AccessLog {
		r.Use(middleware.AccessLog(logger))
	}
	r.Use(middleware.Recovery(logger), middleware.URLLimit(),
		middleware.BodyDeadline(deps.Server.BodyMinRate, deps.Server.BodyGrace, deps.Server.ReadTimeout))
	if deps.Metrics != nil {
		r.Use(middleware.SkipProbes(deps.Metrics.Middleware()))
		if deps.MetricsPublic {
			getAndHead(r, "/metrics", gin.WrapH(deps.Metrics.Handler()))
		}
	}
	switch cors, err := middleware.CORS(deps.CORS); {
	case err != nil:
		logger.Error("[cors] is invalid; no CORS headers are sent", "error", err)
	case cors != nil:
		r.Use(cors)
	}
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
	})
	r.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, gin.H{"error": "method not allowed"})
	})

	// Liveness: cheap, no I/O; it also tells which generation (pid, version) answered, and
	// the database's state as last probed in the background. It stays 200 while the database
	// is down: restarting this process would not bring the database back.
	// The pid is read once: /healthz is called many times a second, and a struct encodes
	// faster than a map.
	pid := os.Getpid()
	healthz := func(c *gin.Context) {
		c.JSON(http.StatusOK, health{Status: "ok", Version: deps.Version, PID: pid, Database: deps.DBState().String()})
	}
	getAndHead(r, "/healthz", healthz)
	// Readiness: the database answers.
	getAndHead(r, "/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := models.Ping(ctx, deps.DB); err != nil {
			// The driver's error names hosts, users and databases: it goes to the log only.
			logger.WarnContext(c.Request.Context(), "readiness check failed", "error", err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": "database unreachable"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})

	// The API's OpenAPI 3.1 document, which gingen keeps in step with the resources.
	getAndHead(r, "/openapi.json", openapi.Handler)

	v1.Register(r.Group("/api/v1"), deps.DB)
	return r
}

// getAndHead registers h for GET and HEAD: HEAD answers the headers of the GET, and
// net/http sends no body to it. The resources register their own (routers/api/v1).
func getAndHead(r gin.IRoutes, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	r.HEAD(path, h)
}

// health is the body of GET /healthz.
type health struct {
	Status   string `json:"status"`
	Version  string `json:"version"`
	PID      int    `json:"pid"`
	Database string `json:"database"`
}
