package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

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

// TestExistingDatabaseFilesAreMadePrivateAtStart opens a database whose file, folder, -wal and
// -shm files were left readable by others (0644 in a 0755 folder, as an earlier release or the
// usual umask made them) while another process still has it open, as the old process does
// during a restart: the new process's Open takes them back to 0600 and 0700.
func TestExistingDatabaseFilesAreMadePrivateAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "app.db")
	old := openForTest(t, path)
	if err := old.Exec("CREATE TABLE t (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	if err := old.Exec("INSERT INTO t (v) VALUES ('x')").Error; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(name, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := openForTest(t, path)
	if err := db.Exec("INSERT INTO t (v) VALUES ('y')").Error; err != nil {
		t.Fatal(err)
	}
	wantModes(t, map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600})
}

// TestANewWALOfAnExistingDatabaseIsPrivate: an existing 0644 database without -wal and -shm
// files (its last process closed it) is made 0600 before SQLite creates them, so they are
// created 0600 too.
func TestANewWALOfAnExistingDatabaseIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "app.db")
	first := openForTest(t, path)
	if err := first.Exec("CREATE TABLE t (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	if err := Close(first); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s is still there after the last connection closed (%v): the test needs it gone", filepath.Base(name), err)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openForTest(t, path)
	if err := db.Exec("INSERT INTO t (v) VALUES ('x')").Error; err != nil {
		t.Fatal(err)
	}
	wantModes(t, map[string]os.FileMode{path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600})
}

// TestASharedFolderKeepsItsMode: a folder that holds other files than the database's (the
// working folder, /var/lib) is not the server's to close; the database's files still are.
func TestASharedFolderKeepsItsMode(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("someone else's"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openForTest(t, path)
	if err := db.Exec("CREATE TABLE t (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	wantModes(t, map[string]os.FileMode{dir: 0o755 | os.ModeDir, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600})
}

// openForTest opens the SQLite database at path, closed when the test ends.
func openForTest(t *testing.T, path string) *gorm.DB {
	t.Helper()
	db, err := Open(context.Background(), setting.Database{Type: "sqlite", DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Close(db) })
	return db
}

// wantModes checks the permission bits of each file.
func wantModes(t *testing.T, modes map[string]os.FileMode) {
	t.Helper()
	for name, want := range modes {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s has mode %s, want %s", filepath.Base(name), info.Mode(), want)
		}
	}
}
