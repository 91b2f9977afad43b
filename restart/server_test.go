package restart

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

func testOptions() Options {
	return Options{
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    5 * time.Second,
		ShutdownTimeout: 5 * time.Second,
		ReadyTimeout:    5 * time.Second,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// slowHandler answers after the request's "ms" query parameter, signalling on started.
func slowHandler(started chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if started != nil {
			started <- struct{}{}
		}
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		time.Sleep(d)
		_, _ = io.WriteString(w, "done")
	})
}

func TestDrainLetsAnInFlightRequestFinishAndRefusesNewConnections(t *testing.T) {
	ln := listen(t)
	started := make(chan struct{}, 1)
	s := startServer(slowHandler(started), []net.Listener{ln}, testOptions())
	url := "http://" + ln.Addr().String()

	result := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/?d=300ms")
		if err != nil {
			result <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		result <- string(b)
	}()
	<-started
	drained := make(chan error, 1)
	go func() { drained <- s.Drain(context.Background(), 5*time.Second) }()

	if got := <-result; got != "done" {
		t.Errorf("in-flight request got %q, want it to finish with \"done\"", got)
	}
	if err := <-drained; err != nil {
		t.Errorf("Drain() = %v, want nil", err)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err() = %v, want nil after a drain", err)
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("a new connection was accepted after the drain")
	}
}

func TestDrainAsksBusyKeptAliveConnectionsToClose(t *testing.T) {
	ln := listen(t)
	started := make(chan struct{}, 1)
	s := startServer(slowHandler(started), []net.Listener{ln}, testOptions())
	go func() {
		<-started // the first request is in flight: start draining under it
		_ = s.Drain(context.Background(), 5*time.Second)
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/?d=200ms")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !resp.Close {
		t.Error("a response sent while draining did not carry Connection: close")
	}
}

func TestDrainCutsOffARequestStillRunningAtTheTimeout(t *testing.T) {
	ln := listen(t)
	started := make(chan struct{}, 1)
	s := startServer(slowHandler(started), []net.Listener{ln}, testOptions())
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/?d=3s")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	begin := time.Now()
	err := s.Drain(context.Background(), 200*time.Millisecond)
	if err == nil {
		t.Error("Drain() = nil, want an error saying requests were cut off")
	}
	if took := time.Since(begin); took > 2*time.Second {
		t.Errorf("Drain took %s, want it bounded by its timeout", took)
	}
}
