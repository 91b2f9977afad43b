package models

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// DBState is what the last probe of a DBMonitor found.
type DBState struct {
	Up      bool
	Err     error // why the database is down; nil when it is up
	Checked time.Time
}

// String is "up" or "down", as /healthz reports it.
func (s DBState) String() string {
	if s.Up {
		return "up"
	}
	return "down"
}

// DBMonitor probes the database in the background and keeps the last answer, so that a
// liveness check can report the database's state without a round trip to it per request. It
// logs when the database goes down and when it is back.
type DBMonitor struct {
	probe    func(context.Context) error
	interval time.Duration
	logger   *slog.Logger
	state    atomic.Pointer[DBState]
	stop     context.CancelFunc
	done     chan struct{}
}

// StartDBMonitor probes once, then every interval until Stop; each probe may take at most
// interval. probe is typically a Ping of the database. A nil logger means slog.Default().
func StartDBMonitor(probe func(context.Context) error, interval time.Duration, logger *slog.Logger) *DBMonitor {
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &DBMonitor{probe: probe, interval: interval, logger: logger, stop: cancel, done: make(chan struct{})}
	m.check(ctx)
	go m.run(ctx)
	return m
}

// State returns what the last probe found.
func (m *DBMonitor) State() DBState {
	return *m.state.Load()
}

// Stop ends the probes and waits for the one under way, if any.
func (m *DBMonitor) Stop() {
	m.stop()
	<-m.done
}

func (m *DBMonitor) run(ctx context.Context) {
	defer close(m.done)
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			m.check(ctx)
		}
	}
}

func (m *DBMonitor) check(ctx context.Context) {
	probeCtx, cancel := context.WithTimeout(ctx, m.interval)
	err := m.probe(probeCtx)
	cancel()
	if ctx.Err() != nil {
		return // stopped mid-probe: that failure says nothing about the database
	}
	now := DBState{Up: err == nil, Err: err, Checked: time.Now()}
	prev := m.state.Swap(&now)
	switch {
	case prev != nil && prev.Up && !now.Up:
		m.logger.Warn("database is down", "err", err)
	case prev != nil && !prev.Up && now.Up:
		m.logger.Info("database is up again")
	case prev == nil && !now.Up:
		m.logger.Warn("database is down", "err", err)
	}
}
