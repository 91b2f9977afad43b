// Package dbtest gives each test a database of its own on a PostgreSQL server: a schema
// created for the test and dropped after it, so tests never see each other's rows nor the
// application's tables.
//
// The server is the one the MYBLOG_DATABASE_* environment variables name, over the
// defaults of pkg/setting (conf/app.ini is not read), e.g.
//
//	MYBLOG_DATABASE_HOST=127.0.0.1 MYBLOG_DATABASE_PASSWORD=secret go test ./...
//
// The user needs the CREATE privilege on the database (its owner has it).
// A test that cannot reach the server is skipped, or fails when CI=true.
package dbtest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"gorm.io/gorm"

	"myblog/internal/migrate"
	"myblog/models"
)

// Open returns an empty database with every migration applied; it is closed and dropped when
// the test ends.
func Open(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := models.Open(context.Background(), Settings(t))
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
	return db
}

// unreachable skips the test, or fails it when CI=true: CI must provide the server.
func unreachable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("this test needs a PostgreSQL server; set MYBLOG_DATABASE_HOST, _PORT, _USER, _PASSWORD and _NAME: %v", err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
