// Package tracing exports OpenTelemetry spans over OTLP/HTTP ([tracing] in conf/app.ini):
// one server span per request (the route template as its name: GET /api/v1/articles/:id),
// continuing the caller's trace from a W3C traceparent header, and one client span per
// database query, a child of its request's span. With [tracing] Enabled = false, New returns
// nil and nothing is installed: no middleware, no database plugin, no exporter.
//
// The provider is passed to who needs it, never set as OpenTelemetry's global one: two
// generations of a restart, or two tests, each keep their own.
package tracing

import (
	"context"
	"fmt"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"myblog/middleware"
	"myblog/pkg/setting"
)

// Tracing is one generation's tracing: its tracer provider, which batches finished spans and
// exports them, and the service name.
type Tracing struct {
	provider *sdktrace.TracerProvider
	service  string
}

// New returns the tracing of cfg, exporting over OTLP/HTTP to cfg.URL(); nil when cfg is not
// Enabled. version is the service.version of the spans. Nothing connects yet: the first
// batch of spans does.
func New(cfg setting.Tracing, version string) (*Tracing, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	u := cfg.URL()
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpoint(u.Host),
		otlptracehttp.WithURLPath(u.Path),
		otlptracehttp.WithTimeout(cfg.Timeout),
	}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	// New only builds the client: the context would bound a connection it does not make.
	exporter, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter to %s: %w", u, err)
	}
	return NewWithExporter(cfg, version, exporter), nil
}

// NewWithExporter returns the tracing of cfg (Enabled or not) with spans going to exporter
// in batches: tests pass an in-memory one (go.opentelemetry.io/otel/sdk/trace/tracetest).
func NewWithExporter(cfg setting.Tracing, version string, exporter sdktrace.SpanExporter) *Tracing {
	res := resource.NewSchemaless(
		attribute.String("service.name", cfg.ServiceName),
		attribute.String("service.version", version),
	)
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter, sdktrace.WithExportTimeout(cfg.Timeout)),
		sdktrace.WithResource(res),
		// A caller's decision (the sampled flag of its traceparent) is followed; new traces
		// are recorded at the configured ratio.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	return &Tracing{provider: provider, service: cfg.ServiceName}
}

// Provider returns the tracer provider, for code of the project's own that makes spans.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Middleware returns the middleware that makes each request's server span
// (go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin): named by
// the route template, with the response status, a child of the trace of an incoming W3C
// traceparent header. The response carries the span's own traceparent, so that a client can
// quote its trace. Probes (middleware.Probe) get no span. It must run before the access log,
// whose line then carries the trace id (middleware.LogHandler).
func (t *Tracing) Middleware() []gin.HandlerFunc {
	return []gin.HandlerFunc{
		otelgin.Middleware(t.service,
			otelgin.WithTracerProvider(t.provider),
			otelgin.WithPropagators(propagation.TraceContext{}),
			// otelgin also records request metrics: the project's own are Prometheus's
			// (pkg/metrics), so these go nowhere rather than to a global meter provider.
			otelgin.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelgin.WithGinFilter(func(c *gin.Context) bool { return !middleware.Probe(c.Request.URL.Path) }),
		),
		func(c *gin.Context) {
			ctx := c.Request.Context()
			if trace.SpanContextFromContext(ctx).IsValid() {
				propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(c.Writer.Header()))
			}
			c.Next()
		},
	}
}

// Shutdown flushes the spans not exported yet and stops the exporter, within ctx: called
// once the generation has drained its requests, so that no finished span is lost to a
// restart or a stop.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush and shut down: %w", err)
	}
	return nil
}
