package models_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"myblog/internal/dbtest"
	"myblog/internal/migrate"
	"myblog/models"
	"myblog/pkg/setting"
)

func TestOpenConnectsWithThePoolSettingsAndMigrates(t *testing.T) {
	cfg := dbtest.Settings(t)
	cfg.MaxOpenConns = 7
	db, err := models.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := models.Close(db); err != nil {
			t.Error(err)
		}
	})
	if err := migrate.Up(context.Background(), db, nil); err != nil {
		t.Fatal(err)
	}
	if err := models.Ping(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if n := sqlDB.Stats().MaxOpenConnections; n != 7 {
		t.Errorf("MaxOpenConnections = %d, want [database] MaxOpenConns, 7", n)
	}
}

func TestOpenRejectsAnUnsupportedType(t *testing.T) {
	cfg := setting.Default().Database
	cfg.Type = "oracle"
	if _, err := models.Open(context.Background(), cfg); err == nil {
		t.Fatal("Open accepted an unsupported database type")
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func TestOpenGivesUpOnADownServerWithAClearError(t *testing.T) {
	cfg := setting.Default().Database
	cfg.Host, cfg.Port = "127.0.0.1", closedPort(t)
	cfg.ConnectTimeout = 2 * time.Second

	_, err := models.Open(context.Background(), cfg)
	want := fmt.Sprintf("connect to postgres at 127.0.0.1:%d", cfg.Port)
	if err == nil || !strings.Contains(err.Error(), want) || !models.IsUnavailable(err) {
		t.Fatalf("Open on a closed port = %v; want an error naming %q that IsUnavailable accepts", err, want)
	}

	cfg.ConnectRetries = 1
	start := time.Now()
	_, err = models.Open(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Fatalf("Open with one retry = %v; want it to give up after 2 attempts", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("Open with one retry returned after %s; want a backoff of 1s between the attempts", d)
	}

	cfg.ConnectRetries = 100
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := models.Open(ctx, cfg); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("Open with a cancelled context = %v after %s; want it to stop retrying at once", err, time.Since(start))
	}
}

func TestIsUnavailableTellsADownDatabaseFromABadQuery(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"a broken connection", fmt.Errorf("query: %w", driver.ErrBadConn), true},
		{"a refused connection", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"no error", nil, false},
		{"a missing row", gorm.ErrRecordNotFound, false},
		{"a duplicate key", gorm.ErrDuplicatedKey, false},
		{"any other error", errors.New("syntax error"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := models.IsUnavailable(tc.err); got != tc.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestIsUnavailableIsFalseForARealQueryError(t *testing.T) {
	db := dbtest.Open(t)
	err := db.Exec("SELECT * FROM no_such_table").Error
	if err == nil || models.IsUnavailable(err) {
		t.Errorf("a query of a missing table: err = %v, IsUnavailable = %v; want an error that is not unavailability", err, models.IsUnavailable(err))
	}
}

func TestDBMonitorFollowsTheDatabase(t *testing.T) {
	var down atomic.Bool
	var probes atomic.Int64
	probe := func(context.Context) error {
		probes.Add(1)
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	}
	m := models.StartDBMonitor(probe, 10*time.Millisecond, nil)
	if s := m.State(); !s.Up || s.String() != "up" || s.Checked.IsZero() {
		t.Fatalf("state after start = %+v, want up: the first probe runs before StartDBMonitor returns", s)
	}
	waitFor := func(what string, ok func(models.DBState) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok(m.State()) {
			if time.Now().After(deadline) {
				t.Fatalf("state is still %+v; want %s", m.State(), what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	down.Store(true)
	waitFor("down", func(s models.DBState) bool { return !s.Up && s.String() == "down" && s.Err != nil })
	down.Store(false)
	waitFor("up again", func(s models.DBState) bool { return s.Up && s.Err == nil })

	m.Stop()
	after := probes.Load()
	time.Sleep(50 * time.Millisecond)
	if probes.Load() != after {
		t.Errorf("%d probes after Stop, want none", probes.Load()-after)
	}
}
