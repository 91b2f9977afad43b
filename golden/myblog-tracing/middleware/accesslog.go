package middleware

import (
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
)

// Probe reports the paths of probes and scrapes: /healthz, /readyz and /metrics. Load
// balancers, restart harnesses and Prometheus call them many times a minute, and they are
// not written to the access log, get no request id (SkipProbes(RequestID())) and are not
// counted in the metrics (SkipProbes(metrics.Middleware())).
func Probe(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// SkipProbes runs h for every request but those to a Probe path, which go straight on to
// their handler: they skip the per-request work they do not need.
func SkipProbes(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if Probe(c.Request.URL.Path) {
			c.Next()
			return
		}
		h(c)
	}
}

// AccessLog writes one line per request after it is answered: request id, method, route
// template (/api/v1/articles/:id, empty when no route matched), path, status, response bytes,
// latency and the client's IP address. The path is the client's: it is cut to
// MaxLogValueBytes. The client IP is gin's ClientIP: the peer's address,
// or what X-Forwarded-For says when the peer is one of [server] TrustedProxies. Requests that
// end in a server error are logged at warn level.
func AccessLog(logger *slog.Logger) gin.HandlerFunc {
	if logger == nil {
		logger = slog.Default()
	}
	return func(c *gin.Context) {
		if Probe(c.Request.URL.Path) {
			c.Next()
			return
		}
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelWarn
		}
		ctx := c.Request.Context()
		h := logger.Handler()
		if !h.Enabled(ctx, level) {
			return
		}
		// The record is made here rather than by logger.LogAttrs, which would look up its
		// caller (runtime.Callers) on every request for a source line that would only ever
		// name this function; its time is the end of the request, as LogAttrs's would be.
		end := time.Now()
		r := slog.NewRecord(end, level, "request", 0)
		r.AddAttrs(
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.String("path", Clip(c.Request.URL.Path)),
			slog.Int("status", status),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.Duration("latency", end.Sub(start)),
			slog.String("client_ip", c.ClientIP()),
		)
		_ = h.Handle(ctx, r) // as LogAttrs: a handler that fails to write has nowhere to say so
	}
}

// Recovery answers 500 to a request whose handler panicked and logs the panic with its
// stack through logger, instead of gin's own text on stderr. A client that went away (a
// broken pipe) is not answered.
func Recovery(logger *slog.Logger) gin.HandlerFunc {
	if logger == nil {
		logger = slog.Default()
	}
	return gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, err any) {
		logger.ErrorContext(c.Request.Context(), "handler panicked",
			"method", c.Request.Method, "route", c.FullPath(), "panic", err, "stack", string(debug.Stack()))
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
	})
}
