package migrate_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/schema"

	"myblog/internal/dbtest"
	"myblog/models"
)

// describe lists what the database has for one model: each column's type, length,
// nullability and key, each index and each foreign key, one line each, sorted.
func describe(t *testing.T, db *gorm.DB, model any) []string {
	t.Helper()
	// Some drivers log their catalogue queries at the debug level whatever the logger's.
	db = db.Session(&gorm.Session{Logger: logger.Discard})
	m := db.Migrator()
	var out []string
	columns, err := m.ColumnTypes(model)
	if err != nil {
		t.Fatalf("columns of %T: %v", model, err)
	}
	for _, c := range columns {
		line := fmt.Sprintf("column %s %s", c.Name(), strings.ToLower(c.DatabaseTypeName()))
		if n, ok := c.Length(); ok && n > 0 && n < 1<<20 {
			line += fmt.Sprintf("(%d)", n)
		}
		if null, ok := c.Nullable(); ok && !null {
			line += " not null"
		}
		if pk, ok := c.PrimaryKey(); ok && pk {
			line += " primary key"
		}
		out = append(out, line)
	}
	indexes, err := m.GetIndexes(model)
	if err != nil {
		t.Fatalf("indexes of %T: %v", model, err)
	}
	for _, ix := range indexes {
		if pk, ok := ix.PrimaryKey(); ok && pk {
			continue
		}
		line := fmt.Sprintf("index %s (%s)", ix.Name(), strings.Join(ix.Columns(), ", "))
		if u, ok := ix.Unique(); ok && u {
			line += " unique"
		}
		out = append(out, line)
	}
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(model); err != nil {
		t.Fatalf("parse %T: %v", model, err)
	}
	for _, rel := range stmt.Schema.Relationships.Relations {
		if rel.Type != schema.BelongsTo {
			continue
		}
		if c := rel.ParseConstraint(); c != nil {
			out = append(out, fmt.Sprintf("foreign key %s: %v", c.Name, m.HasConstraint(model, c.Name)))
		}
	}
	slices.Sort(out)
	return out
}

// tables lists the database's tables but goose's own (and SQLite's own).
func tables(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	all, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range all {
		if !strings.HasPrefix(name, "goose_") && !strings.HasPrefix(name, "sqlite_") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestMigrationsMatchTheModels migrates one empty database with the SQL migrations and lets
// gorm create another from the models, then compares them: the same tables, and for every
// model the same columns (type, length, nullability, primary key), indexes and foreign keys.
// Default values are left out: a column added to a table that has rows carries one.
func TestMigrationsMatchTheModels(t *testing.T) {
	migrated := dbtest.Open(t)

	fromModels, err := models.Open(context.Background(), dbtest.Settings(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := models.Close(fromModels); err != nil {
			t.Error(err)
		}
	})
	if err := fromModels.AutoMigrate(models.All()...); err != nil {
		t.Fatal(err)
	}

	if got, want := tables(t, migrated), tables(t, fromModels); !slices.Equal(got, want) {
		t.Errorf("the migrations make the tables %v; the models make %v", got, want)
	}
	for _, model := range models.All() {
		got, want := describe(t, migrated, model), describe(t, fromModels, model)
		for _, line := range want {
			if !slices.Contains(got, line) {
				t.Errorf("%T: the models have %q; the migrations do not (they have %q)", model, line, got)
			}
		}
		for _, line := range got {
			if !slices.Contains(want, line) {
				t.Errorf("%T: the migrations have %q; the models do not (they have %q)", model, line, want)
			}
		}
	}
}
