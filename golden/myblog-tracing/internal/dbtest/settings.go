package dbtest

import (
	"path/filepath"
	"testing"

	"myblog/pkg/setting"
)

// Settings returns the settings of an empty database that only this test uses.
func Settings(t testing.TB) setting.Database {
	t.Helper()
	return setting.Database{Type: "sqlite", DSN: filepath.Join(t.TempDir(), "test.db"), SingleWriter: true}
}
