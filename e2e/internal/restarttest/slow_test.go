package restarttest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// slowTestServer answers /healthz like a generated project and echoes POST bodies with 201.
func slowTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(Health{Status: "ok", Version: "test", PID: os.Getpid()})
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || !strings.HasPrefix(string(body), "{") {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// slowEcho is a slow POST /echo to srv.
func slowEcho(srv *httptest.Server, trickle time.Duration) SlowConfig {
	return SlowConfig{
		Addr:    strings.TrimPrefix(srv.URL, "http://"),
		Path:    "/echo",
		Body:    []byte(`{"title":"x","body":"a body long enough for ten pieces"}`),
		Status:  http.StatusCreated,
		Trickle: trickle,
	}
}

func TestSlowRequestIsInFlightUntilItsBodyHasTrickled(t *testing.T) {
	cfg := slowEcho(slowTestServer(t), 200*time.Millisecond)
	r, err := StartSlow(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := r.Wait()
	if res.Err != "" || res.Status != http.StatusCreated || res.PID != os.Getpid() {
		t.Fatalf("slow request: %+v, want 201 from pid %d", res, os.Getpid())
	}
	if took := res.Finished.Sub(res.Start); took < cfg.Trickle {
		t.Errorf("finished after %s, before its body had trickled for %s", took, cfg.Trickle)
	}
}

func TestSlowRequestReportsAConnectionCutOff(t *testing.T) {
	srv := slowTestServer(t)
	r, err := StartSlow(context.Background(), slowEcho(srv, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	if res := r.Wait(); res.Err == "" {
		t.Errorf("slow request on a closed connection succeeded: %+v", res)
	}
}
