package restart

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// ReadinessPath is the readiness check that routers.New serves (/readyz). While a shutdown
// waits out its DrainDelay, the server answers it 503 itself, without calling the router.
const ReadinessPath = "/readyz"

// notReadyWhileStopping answers ReadinessPath with 503 once stopping is set, and passes
// every other request (and /readyz before that) to h. /healthz stays 200: the process is
// alive and still serving, restarting it would not help.
func notReadyWhileStopping(h http.Handler, stopping *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stopping.Load() && r.URL.Path == ReadinessPath {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"stopping"}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// DelayDrain is the first step of a shutdown: from now on the readiness check answers 503,
// and the server keeps serving, accepting new connections too, for delay. Load balancers
// that check readiness (HAProxy, a Kubernetes Service's endpoints) take a few checks to
// take this process out of rotation, and until they do they keep sending it new
// connections: closing the listener at once would refuse them. After delay the caller runs
// Drain (listener closed first, "Connection: close", then Shutdown).
//
// It returns early when ctx is done or when the server stops on its own. A SIGHUP restart
// does not call it: the socket is handed over, so no connection is refused anyway.
func (s *server) DelayDrain(ctx context.Context, delay time.Duration, log *slog.Logger) {
	s.stopping.Store(true)
	if delay <= 0 {
		return
	}
	log.Info("stopping: "+ReadinessPath+" answers 503; still serving until load balancers notice",
		"pid", os.Getpid(), "drain_delay", delay)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.stopped:
	}
}
