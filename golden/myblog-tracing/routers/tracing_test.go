package routers

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"myblog/internal/dbtest"
	"myblog/middleware"
	"myblog/models"
	"myblog/pkg/setting"
	"myblog/pkg/tracing"
)

// tracedApp is a router of the project with a route of the tests' own that runs database
// queries with the request's context, as the resources' handlers do.
type tracedApp struct {
	handler  *gin.Engine
	exporter *tracetest.InMemoryExporter
	tracing  *tracing.Tracing
	log      *bytes.Buffer
}

// newTracedApp builds the router with tracing on (exporting to memory at ratio), or off
// when ratio is negative.
func newTracedApp(t testing.TB, ratio float64) *tracedApp {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	app := newTracedAppTo(t, ratio, exporter)
	app.exporter = exporter
	return app
}

// newTracedAppTo is newTracedApp with spans going to exporter.
func newTracedAppTo(t testing.TB, ratio float64, exporter sdktrace.SpanExporter) *tracedApp {
	t.Helper()
	gin.SetMode(gin.TestMode)
	db := dbtest.Open(t)
	app := &tracedApp{log: new(bytes.Buffer)}
	if ratio >= 0 {
		cfg := setting.Default().Tracing
		cfg.Enabled, cfg.SampleRatio = true, ratio
		app.tracing = tracing.NewWithExporter(cfg, "test", exporter)
		if err := db.Use(app.tracing.GormPlugin(setting.Default().Database.Type)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = app.tracing.Shutdown(context.Background()) })
	}
	app.handler = New(Deps{
		DB:        db,
		DBState:   func() models.DBState { return models.DBState{Up: true} },
		Version:   "test",
		Logger:    slog.New(middleware.LogHandler(slog.NewJSONHandler(app.log, nil))),
		AccessLog: true,
		Tracing:   app.tracing,
	})
	app.handler.GET("/traced/:id", func(c *gin.Context) {
		tx := db.WithContext(c.Request.Context())
		var n int
		_ = tx.Exec("SELECT 1").Error
		_ = tx.Raw("SELECT 2").Scan(&n).Error
		_ = tx.Exec("SELECT * FROM no_such_table").Error // a failed query: an error span
		c.JSON(http.StatusOK, gin.H{"n": n})
	})
	return app
}

// serve answers one request and returns the response.
func (a *tracedApp) serve(t testing.TB, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// spans flushes the batch and returns every span exported (a Shutdown would empty the
// in-memory exporter).
func (a *tracedApp) spans(t *testing.T) tracetest.SpanStubs {
	t.Helper()
	provider, ok := a.tracing.Provider().(*sdktrace.TracerProvider)
	if !ok {
		t.Fatalf("provider %T, want the SDK's", a.tracing.Provider())
	}
	if err := provider.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a.exporter.GetSpans()
}

// accessLine returns the access log line of the request.
func (a *tracedApp) accessLine(t *testing.T) map[string]any {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(a.log.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "request" {
			return rec
		}
	}
	t.Fatalf("no access log line in %q", a.log.String())
	return nil
}

func intAttr(s tracetest.SpanStub, key string) int64 {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.AsInt64()
		}
	}
	return -1
}

func TestARequestMakesOneServerSpanWithItsQueriesAsChildren(t *testing.T) {
	app := newTracedApp(t, 1)
	if rec := app.serve(t, "/traced/7", nil); rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var server []tracetest.SpanStub
	var queries []tracetest.SpanStub
	for _, s := range app.spans(t) {
		switch s.SpanKind {
		case trace.SpanKindServer:
			server = append(server, s)
		case trace.SpanKindClient:
			queries = append(queries, s)
		default:
			t.Errorf("unexpected span %q of kind %s", s.Name, s.SpanKind)
		}
	}
	if len(server) != 1 {
		t.Fatalf("%d server spans, want 1", len(server))
	}
	s := server[0]
	if s.Name != "GET /traced/:id" {
		t.Errorf("server span named %q, want the route template GET /traced/:id", s.Name)
	}
	if got := intAttr(s, "http.response.status_code"); got != http.StatusOK {
		t.Errorf("http.response.status_code = %d, want 200", got)
	}
	if len(queries) != 3 {
		t.Fatalf("%d query spans, want 3 (one per query)", len(queries))
	}
	for _, q := range queries {
		if q.Parent.SpanID() != s.SpanContext.SpanID() || q.SpanContext.TraceID() != s.SpanContext.TraceID() {
			t.Errorf("query span %q is not a child of the request's span", q.Name)
		}
	}
	if failed := queries[2]; failed.Status.Code != codes.Error {
		t.Errorf("the failed query's span has status %v, want Error", failed.Status)
	}
	if ok := queries[0]; ok.Status.Code == codes.Error {
		t.Errorf("a query that worked has an error status: %v", ok.Status)
	}
}

func TestTheAccessLogAndTheResponseCarryTheTraceID(t *testing.T) {
	app := newTracedApp(t, 1)
	rec := app.serve(t, "/traced/1", nil)
	spans := app.spans(t)
	if len(spans) == 0 {
		t.Fatal("no span")
	}
	traceID := spans[0].SpanContext.TraceID().String()
	if got := app.accessLine(t)["trace_id"]; got != traceID {
		t.Errorf("access log trace_id = %v, want %s", got, traceID)
	}
	if tp := rec.Header().Get("traceparent"); !strings.Contains(tp, traceID) {
		t.Errorf("response traceparent %q does not carry the trace id %s", tp, traceID)
	}
}

func TestAnIncomingTraceparentIsContinued(t *testing.T) {
	app := newTracedApp(t, 0) // the ratio would record nothing: the caller's decision wins
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	app.serve(t, "/traced/1", http.Header{"Traceparent": {"00-" + traceID + "-" + parentID + "-01"}})
	spans := app.spans(t)
	if len(spans) != 4 {
		t.Fatalf("%d spans, want the request's and its 3 queries'", len(spans))
	}
	for _, s := range spans {
		if s.SpanContext.TraceID().String() != traceID {
			t.Errorf("span %q in trace %s, want the caller's %s", s.Name, s.SpanContext.TraceID(), traceID)
		}
		if s.SpanKind == trace.SpanKindServer && s.Parent.SpanID().String() != parentID {
			t.Errorf("server span's parent %s, want the caller's span %s", s.Parent.SpanID(), parentID)
		}
	}
}

func TestACallerThatDoesNotSampleIsFollowed(t *testing.T) {
	app := newTracedApp(t, 1)
	app.serve(t, "/traced/1", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}})
	if spans := app.spans(t); len(spans) != 0 {
		t.Errorf("%d spans exported of an unsampled trace, want none", len(spans))
	}
	if got, ok := app.accessLine(t)["trace_id"]; ok {
		t.Errorf("access log has trace_id %v for a span that does not record", got)
	}
}

func TestProbesMakeNoSpan(t *testing.T) {
	app := newTracedApp(t, 1)
	for _, path := range []string{"/healthz", "/readyz"} {
		if rec := app.serve(t, path, nil); rec.Header().Get("traceparent") != "" {
			t.Errorf("%s answered with a traceparent", path)
		}
	}
	if spans := app.spans(t); len(spans) != 0 {
		t.Errorf("probes made %d spans, want none", len(spans))
	}
}

func TestTracingOffInstallsNothing(t *testing.T) {
	tr, err := tracing.New(setting.Default().Tracing, "test")
	if err != nil || tr != nil {
		t.Fatalf("tracing.New with Enabled = false = %v, %v; want nil, nil", tr, err)
	}
	off := newTracedApp(t, -1)
	on := newTracedApp(t, 1)
	if got, want := len(off.handler.Handlers), len(on.handler.Handlers)-len(on.tracing.Middleware()); got != want {
		t.Errorf("tracing off: %d middleware, want %d (none of tracing's)", got, want)
	}
	rec := off.serve(t, "/traced/1", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})
	if tp := rec.Header().Get("traceparent"); tp != "" {
		t.Errorf("tracing off answered traceparent %q", tp)
	}
	if got, ok := off.accessLine(t)["trace_id"]; ok {
		t.Errorf("tracing off logged trace_id %v", got)
	}
}

// BenchmarkTracedGET is a GET that runs two queries, with the access log on: tracing off
// ([tracing] Enabled = false: nothing installed), on and recording every trace, and on with
// a ratio of 0 (spans made but not recorded). Compare ns/op and allocs/op:
//
//	go test ./routers -run '^$' -bench TracedGET -benchmem
func BenchmarkTracedGET(b *testing.B) {
	for _, bc := range []struct {
		name  string
		ratio float64
	}{
		{"off", -1},
		{"on", 1},
		{"on-ratio-0", 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// Spans go nowhere: the benchmark measures making them, not a collector.
			app := newTracedAppTo(b, bc.ratio, tracetest.NewNoopExporter())
			req := httptest.NewRequest(http.MethodGet, "/traced/1", nil)
			b.ReportAllocs()
			for b.Loop() {
				app.log.Reset()
				rec := httptest.NewRecorder()
				app.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
