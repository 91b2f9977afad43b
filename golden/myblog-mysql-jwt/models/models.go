// Package models holds the database models and opens the database.
package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

	"myblog/pkg/setting"
)

// The backoff between two attempts to reach the database at start.
const (
	firstConnectBackoff = time.Second
	maxConnectBackoff   = 16 * time.Second
)

// Open connects to the database described by cfg and checks that it answers. A server that
// cannot be reached is tried cfg.ConnectRetries more times, with a backoff doubling from 1s to
// 16s, before Open gives up; cancelling ctx ends the wait.
func Open(ctx context.Context, cfg setting.Database) (*gorm.DB, error) {
	where := fmt.Sprintf("mysql at %s (user %s, database %s)", cfg.Addr(), cfg.User, cfg.Name)
	backoff := firstConnectBackoff
	for attempt := 1; ; attempt++ {
		db, err := connect(ctx, cfg)
		if err == nil {
			return db, nil
		}
		err = fmt.Errorf("connect to %s: %w", where, oneLineError{err})
		if attempt > cfg.ConnectRetries {
			if attempt > 1 {
				err = fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return nil, err
		}
		slog.WarnContext(ctx, "database unreachable; retrying", "attempt", attempt, "retries", cfg.ConnectRetries, "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (stopped retrying: %w)", err, context.Cause(ctx))
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxConnectBackoff)
	}
}

// oneLineError keeps a driver's error, and prints its message on one line: pgx, for one,
// lists every address it tried on lines of their own.
type oneLineError struct{ err error }

func (e oneLineError) Error() string {
	lines := strings.Split(strings.TrimSpace(e.err.Error()), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return lines[0] + " " + strings.Join(lines[1:], "; ")
}

func (e oneLineError) Unwrap() error { return e.err }

// connect makes one attempt: it opens the connection pool and pings the server within
// cfg.ConnectTimeout.
func connect(ctx context.Context, cfg setting.Database) (*gorm.DB, error) {
	dialector, err := newDialector(cfg)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger: gormLoggerFor(dialector, cfg),
		// gorm's own ping has neither a context nor a timeout; the one below has both.
		DisableAutomaticPing: true,
		NowFunc:              nowUTC,
	})
	if err != nil {
		return nil, err
	}
	if err := db.Use(utcPlugin{}); err != nil {
		return nil, errors.Join(err, Close(db))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	sqlDB.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	pingCtx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		return nil, errors.Join(err, sqlDB.Close())
	}
	return db, nil
}

// Ping checks that the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the database's connection pool, and the pools of plugins that hold their own
// (io.Closer).
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	errs := []error{sqlDB.Close()}
	for _, p := range db.Config.Plugins {
		if c, ok := p.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// IsUnavailable reports whether err says that the database cannot be reached, or is too
// busy or shutting down, rather than that the query was wrong: the same request may succeed
// later. The API answers such errors 503.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	}
	return driverUnavailable(err)
}

// All returns every model. The tables are made by the SQL migrations of package db; the
// test of internal/migrate checks that they match these models.
func All() []any {
	return []any{
		&User{},
		// gingen:models
	}
}
