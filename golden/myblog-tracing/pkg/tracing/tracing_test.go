package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"myblog/pkg/setting"
)

// collector stands in for an OpenTelemetry Collector's OTLP/HTTP receiver: it keeps the
// method and path of every export, and which of the span names it looks for were in them
// (a protobuf message holds its strings as they are).
type collector struct {
	mu    sync.Mutex
	look  []string
	names []string
	paths []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paths = append(c.paths, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
	if err != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	for _, name := range c.look {
		if strings.Contains(string(body), name) {
			c.names = append(c.names, name)
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *collector) received() (names, paths []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...), append([]string(nil), c.paths...)
}

func enabled(endpoint string) setting.Tracing {
	cfg := setting.Default().Tracing
	cfg.Enabled, cfg.Endpoint, cfg.Timeout = true, endpoint, 5*time.Second
	return cfg
}

// The batch would wait up to 5 s before sending: a span that ends just before the
// generation stops reaches the collector only through the flush of Shutdown.
func TestSpansEndedJustBeforeShutdownReachTheCollector(t *testing.T) {
	c := &collector{look: []string{"span-ended-first", "span-ended-last"}}
	srv := httptest.NewServer(c)
	defer srv.Close()
	tr, err := New(enabled(srv.URL), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range c.look {
		_, span := tr.Provider().Tracer("test").Start(context.Background(), name)
		span.End()
	}
	if names, _ := c.received(); len(names) != 0 {
		t.Fatalf("exported before shutdown: %v (the test would prove nothing)", names)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	names, paths := c.received()
	if strings.Join(names, ",") != strings.Join(c.look, ",") {
		t.Errorf("collector received spans %v, want %v", names, c.look)
	}
	for _, p := range paths {
		if p != "POST /v1/traces application/x-protobuf" {
			t.Errorf("export went to %s, want POST /v1/traces application/x-protobuf", p)
		}
	}
}

func TestAnEndpointPathIsKept(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	tr, err := New(enabled(srv.URL+"/otlp/v1/traces"), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.Provider().Tracer("test").Start(context.Background(), "one")
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, paths := c.received(); len(paths) != 1 || paths[0] != "POST /otlp/v1/traces application/x-protobuf" {
		t.Errorf("exports went to %v, want POST /otlp/v1/traces", paths)
	}
}

// A collector that takes the export and never answers does not hold a draining generation
// past its deadline ([server] ShutdownTimeout in main): Shutdown gives up when its context
// ends and says so, and the generation goes on exiting.
func TestShutdownGivesUpOnAHungCollectorAtItsDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handler
	cfg := enabled(srv.URL)
	cfg.Timeout = time.Minute // the export alone would wait that long
	tr, err := New(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.Provider().Tracer("test").Start(context.Background(), "stuck")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := tr.Shutdown(ctx); err == nil || !strings.Contains(err.Error(), "tracing: flush and shut down") {
		t.Fatalf("Shutdown = %v, want the flush cut short by its deadline, reported", err)
	}
}

func TestNewWithTracingOffReturnsNothing(t *testing.T) {
	tr, err := New(setting.Default().Tracing, "test")
	if err != nil || tr != nil {
		t.Fatalf("New = %v, %v; want nil, nil", tr, err)
	}
}
