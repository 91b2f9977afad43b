package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"myblog/pkg/setting"
)

// codedError is an error with an SQLite result code, as the driver returns them.
type codedError int

func (e codedError) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e codedError) Code() int     { return int(e) }

func TestDriverUnavailableMeansALockHeldTooLong(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"SQLITE_BUSY", codedError(5), true},
		{"SQLITE_BUSY_SNAPSHOT, an extended code", codedError(5 | 2<<8), true},
		{"SQLITE_LOCKED, wrapped", fmt.Errorf("update: %w", codedError(6)), true},
		{"SQLITE_CONSTRAINT", codedError(19), false},
		{"an error without a code", errors.New("no such table"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := driverUnavailable(tc.err); got != tc.want {
				t.Errorf("driverUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestTheDatabaseFilesAreReadableByTheirOwnerOnly opens a new database, writes to it, and
// checks the permissions of the file, its -wal and -shm companions and its folder: they hold
// password hashes and user data.
func TestTheDatabaseFilesAreReadableByTheirOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "app.db")
	db, err := Open(context.Background(), setting.Database{Type: "sqlite", DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Close(db); err != nil {
			t.Error(err)
		}
	})
	if err := db.Exec("CREATE TABLE t (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO t (v) VALUES ('x')").Error; err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s has mode %s, want %s", filepath.Base(name), info.Mode(), want)
		}
	}
}
