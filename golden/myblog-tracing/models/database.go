package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"

	"myblog/pkg/setting"
)

// sqlitePragmas make SQLite safe to share between the old and the new process during a
// restart, and between concurrent requests:
//   - WAL lets readers and a writer work at once;
//   - synchronous=NORMAL, the setting SQLite recommends with WAL, syncs at checkpoints rather
//     than at every commit: a crash of the process loses nothing, a power loss may roll back
//     the last commits but never corrupts the file; writes hold the lock far shorter;
//   - busy_timeout waits up to 5s for the write lock instead of failing;
//   - _txlock=immediate takes the write lock when a transaction begins, where busy_timeout
//     applies: a deferred transaction that reads first and then writes gets "database is
//     locked" at once, without waiting, when another connection wrote in between;
//   - foreign keys are enforced.
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// newDialector returns the pure-Go SQLite driver for the file cfg.DSN names, creating its
// folder if need be.
func newDialector(cfg setting.Database) (gorm.Dialector, error) {
	if cfg.Type != "sqlite" {
		return nil, fmt.Errorf("type %q is not supported", cfg.Type)
	}
	dsn := cfg.DSN
	if dsn != ":memory:" && !strings.HasPrefix(dsn, "file:") {
		if err := createPrivate(dsn); err != nil {
			return nil, err
		}
	}
	pragmas := sqlitePragmas
	if cfg.SingleWriter {
		// The writer leaves checkpoints to a connection of their own (pool.go).
		pragmas += "&_pragma=wal_autocheckpoint(0)"
	}
	return sqlite.Open(dsn + dsnSeparator(dsn) + pragmas), nil
}

// dsnSeparator is what goes between dsn and more parameters.
func dsnSeparator(dsn string) string {
	if strings.Contains(dsn, "?") {
		return "&"
	}
	return "?"
}

// createPrivate creates the database file named by dsn (its query string aside) and its
// folder, and makes them readable by this user only, at every start: the file holds password
// hashes and user data, and a file or folder that already exists keeps whatever mode it was
// made with (0644 under the usual umask) unless it is set again.
//   - The file, and the -wal and -shm files an earlier process left beside it: 0600. SQLite
//     gives the -wal and -shm files it creates the database file's mode (it sets it with
//     fchmod, whatever the umask), so new ones are 0600 too.
//   - The folder: 0700 when it is the database's own, i.e. created here or holding nothing
//     but the database's files. A folder shared with other files (the working folder, /var/lib)
//     is left as it is, and so is one this user may not change (a volume's root, owned by
//     root with the pod's fsGroup): the files' own mode keeps others out.
func createPrivate(dsn string) error {
	path, _, _ := strings.Cut(dsn, "?")
	dir := filepath.Dir(path)
	_, err := os.Stat(dir)
	created := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create folder for %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // the path is the operator's [database] DSN
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	for _, name := range databaseFiles(path) {
		err := os.Chmod(name, 0o600)
		if err != nil && (name == path || !errors.Is(err, fs.ErrNotExist)) {
			return fmt.Errorf("make %s private: %w", name, err)
		}
	}
	own, err := onlyDatabaseFiles(dir, path)
	if err != nil {
		return err
	}
	if created || own {
		if err := os.Chmod(dir, 0o700); err != nil && !errors.Is(err, fs.ErrPermission) { //nolint:gosec // a folder: 0700 is its owner's only (G302 is meant for files)
			return fmt.Errorf("make %s private: %w", dir, err)
		}
	}
	return nil
}

// databaseFiles are the database file and the files SQLite keeps beside it.
func databaseFiles(path string) []string {
	return []string{path, path + "-wal", path + "-shm", path + "-journal"}
}

// onlyDatabaseFiles reports whether dir holds nothing but the database's files.
func onlyDatabaseFiles(dir, path string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("read folder of %s: %w", path, err)
	}
	ours := map[string]bool{}
	for _, name := range databaseFiles(path) {
		ours[filepath.Base(name)] = true
	}
	for _, e := range entries {
		if !ours[e.Name()] {
			return false, nil
		}
	}
	return true, nil
}

// SQLite's primary result codes that mean "try again later".
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// driverUnavailable reports SQLite's "database is locked" errors, returned once
// busy_timeout has run out: another process held the write lock all that time.
func driverUnavailable(err error) bool {
	var coded interface{ Code() int }
	if !errors.As(err, &coded) {
		return false
	}
	primary := coded.Code() & 0xff // extended codes keep the primary one in the low byte
	return primary == sqliteBusy || primary == sqliteLocked
}
