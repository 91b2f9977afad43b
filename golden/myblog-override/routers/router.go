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

	"myblog/models"
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
}

// New returns the application's handler.
func New(deps Deps) *gin.Engine {
	r := gin.New()
	r.Use(requestLogger(deps.Logger), gin.Recovery())
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
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, health{Status: "ok", Version: deps.Version, PID: pid, Database: deps.DBState().String()})
	})
	// Readiness: the database answers.
	r.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := models.Ping(ctx, deps.DB); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})

	// The API's OpenAPI 3.1 document, which gingen keeps in step with the resources.
	r.GET("/openapi.json", openapi.Handler)

	v1.Register(r.Group("/api/v1"), deps.DB)
	return r
}

// health is the body of GET /healthz.
type health struct {
	Status   string `json:"status"`
	Version  string `json:"version"`
	PID      int    `json:"pid"`
	Database string `json:"database"`
}

// requestLogger logs one line per request, except the health checks that load balancers and
// restart harnesses call many times a second.
func requestLogger(logger *slog.Logger) gin.HandlerFunc {
	if logger == nil {
		logger = slog.Default()
	}
	return func(c *gin.Context) {
		switch c.Request.URL.Path {
		case "/healthz", "/readyz":
			c.Next()
			return
		}
		start := time.Now()
		c.Next()
		logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Duration("latency", time.Since(start)),
			slog.String("client", c.ClientIP()),
		)
	}
}
