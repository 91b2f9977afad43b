package restart

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// readyHandler answers 200 "app" on every path, as the router does for /readyz and /healthz
// when the database is up.
func readyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "app")
	})
}

// get returns the status and body of a GET on a new connection.
func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func TestDelayDrainFailsReadinessAndKeepsAcceptingForTheDelay(t *testing.T) {
	ln := listen(t)
	opts := testOptions()
	s := startServer(readyHandler(), []net.Listener{ln}, opts)
	url := "http://" + ln.Addr().String()
	if code, body := getBody(t, url+ReadinessPath); code != http.StatusOK || body != "app" {
		t.Fatalf("before the shutdown %s answered %d %q, want the router's 200", ReadinessPath, code, body)
	}

	const delay = 600 * time.Millisecond
	start := time.Now()
	delayed := make(chan time.Duration, 1)
	go func() {
		s.DelayDrain(context.Background(), delay, opts.logger())
		delayed <- time.Since(start)
	}()
	// From the first moment: readiness fails, everything else is served, on new connections.
	deadline := time.Now().Add(delay / 2)
	for !s.stopping.Load() {
		time.Sleep(time.Millisecond)
	}
	for time.Now().Before(deadline) {
		if code, body := getBody(t, url+ReadinessPath); code != http.StatusServiceUnavailable || body != `{"status":"stopping"}` {
			t.Fatalf("during the drain delay %s answered %d %q, want 503 stopping", ReadinessPath, code, body)
		}
		if code, body := getBody(t, url+"/healthz"); code != http.StatusOK || body != "app" {
			t.Fatalf("during the drain delay /healthz answered %d %q, want the router's 200", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waited := <-delayed; waited < delay {
		t.Errorf("DelayDrain returned after %s, want at least the delay, %s", waited, delay)
	}
	if err := s.Drain(context.Background(), opts.ShutdownTimeout); err != nil {
		t.Fatalf("Drain() = %v", err)
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("a new connection was accepted after the drain")
	}
}

func TestDelayDrainWithoutADelayOnlyFailsReadiness(t *testing.T) {
	ln := listen(t)
	opts := testOptions()
	s := startServer(readyHandler(), []net.Listener{ln}, opts)
	defer func() { _ = s.Drain(context.Background(), opts.ShutdownTimeout) }()
	start := time.Now()
	s.DelayDrain(context.Background(), 0, opts.logger())
	if waited := time.Since(start); waited > 100*time.Millisecond {
		t.Errorf("DelayDrain(0) took %s, want no wait", waited)
	}
	if code, _ := getBody(t, "http://"+ln.Addr().String()+ReadinessPath); code != http.StatusServiceUnavailable {
		t.Errorf("%s answered %d after DelayDrain(0), want 503", ReadinessPath, code)
	}
}

func TestDelayDrainEndsEarlyWhenTheContextIsDone(t *testing.T) {
	ln := listen(t)
	opts := testOptions()
	s := startServer(readyHandler(), []net.Listener{ln}, opts)
	defer func() { _ = s.Drain(context.Background(), opts.ShutdownTimeout) }()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	s.DelayDrain(ctx, time.Minute, opts.logger())
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("DelayDrain waited %s with a context done after 50ms", waited)
	}
}
