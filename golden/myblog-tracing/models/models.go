// Package models holds the database models and opens the database.
package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"gorm.io/gorm"

	"myblog/pkg/setting"
)

// Open connects to the database described by cfg and checks that it answers.
func Open(ctx context.Context, cfg setting.Database) (*gorm.DB, error) {
	dialector, err := newDialector(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.DSN, err)
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: gormLoggerFor(dialector, cfg), NowFunc: nowUTC})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.DSN, err)
	}
	if err := db.Use(utcPlugin{}); err != nil {
		return nil, errors.Join(fmt.Errorf("open database %s: %w", cfg.DSN, err), Close(db))
	}
	// An in-memory database is one per connection: it keeps the single pool.
	if cfg.SingleWriter && cfg.DSN != ":memory:" {
		if err := useSingleWriter(db, cfg); err != nil {
			return nil, errors.Join(fmt.Errorf("open database %s: %w", cfg.DSN, err), Close(db))
		}
	} else {
		// One pool, bounded as the descriptors the connection cap keeps for it.
		sqlDB, err := db.DB()
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open database %s: %w", cfg.DSN, err), Close(db))
		}
		sqlDB.SetMaxOpenConns(setting.SQLiteConns)
	}
	if err := Ping(ctx, db); err != nil {
		return nil, errors.Join(fmt.Errorf("open database %s: %w", cfg.DSN, err), Close(db))
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
		&Article{},
		// gingen:models
	}
}
