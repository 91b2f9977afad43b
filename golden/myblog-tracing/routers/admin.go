package routers

import (
	"net/http"
	"net/http/pprof"

	"myblog/pkg/metrics"
)

// Admin returns the handler of the private [admin] Addr listener: /metrics and the runtime
// profiles of net/http/pprof under /debug/pprof/. It is never mounted on the public router.
func Admin(m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
