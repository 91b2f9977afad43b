// Package dbtest gives each test a database of its own: an SQLite file in the test's
// temporary folder, so tests never see each other's rows.
package dbtest

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"myblog/internal/migrate"
	"myblog/models"
)

// Open returns an empty database with every migration applied; it is closed when
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
