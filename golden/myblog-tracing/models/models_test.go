package models_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"myblog/internal/dbtest"
	"myblog/internal/migrate"
	"myblog/models"
	"myblog/pkg/setting"
)

func TestOpenCreatesTheDatabaseFileAndMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "test.db")
	db, err := models.Open(context.Background(), setting.Database{Type: "sqlite", DSN: path})
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
	var mode string
	if err := db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal so that two generations can share the file", mode)
	}
}

func TestOpenRejectsAnUnsupportedType(t *testing.T) {
	if _, err := models.Open(context.Background(), setting.Database{Type: "oracle", DSN: "x"}); err == nil {
		t.Fatal("Open accepted an unsupported database type")
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
