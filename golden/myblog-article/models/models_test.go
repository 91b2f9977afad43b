package models

import (
	"context"
	"path/filepath"
	"testing"

	"myblog/pkg/setting"
)

func TestOpenCreatesTheDatabaseFileAndMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "test.db")
	db, err := Open(setting.Database{Type: "sqlite", DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Close(db); err != nil {
			t.Error(err)
		}
	})
	if err := Migrate(db); err != nil {
		t.Fatal(err)
	}
	if err := Ping(context.Background(), db); err != nil {
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
	if _, err := Open(setting.Database{Type: "oracle", DSN: "x"}); err == nil {
		t.Fatal("Open accepted an unsupported database type")
	}
}
