// Package admin serves the private admin listener ([admin] Addr): /metrics and pprof.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// retryEvery is how often Start tries again to bind an address still held, typically by the
// previous generation while it drains during a restart.
const retryEvery = 100 * time.Millisecond

// Server is the admin listener of one serving generation.
type Server struct {
	http   *http.Server
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	ln net.Listener
}

// Start serves h on addr in the background. While addr is taken, it retries every 100ms
// until Shutdown: the previous generation lets it go when it stops.
func Start(addr string, h http.Handler, logger *slog.Logger) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		var lc net.ListenConfig
		warned := false
		for {
			ln, err := lc.Listen(ctx, "tcp", addr)
			if err == nil {
				s.mu.Lock()
				s.ln = ln
				s.mu.Unlock()
				logger.Info("admin endpoints serving", "addr", ln.Addr().String())
				if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					logger.Error("admin listener failed", "addr", addr, "error", err)
				}
				return
			}
			if !warned {
				logger.Warn("admin address not available yet; retrying", "addr", addr, "error", err)
				warned = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryEvery):
			}
		}
	}()
	return s
}

// Addr is the address listened on, or nil while it is not bound yet.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops the retries and the server, letting requests under way finish until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	err := s.http.Shutdown(ctx)
	<-s.done
	if err != nil {
		return fmt.Errorf("admin: shutdown: %w", err)
	}
	return nil
}
