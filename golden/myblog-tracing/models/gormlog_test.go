package models_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"myblog/internal/dbtest"
	"myblog/models"
)

// logNote is a table of the logger's tests: a value that must not reach the log above debug.
type logNote struct {
	ID   uint
	Body string `gorm:"size:64;uniqueIndex"`
}

// TableName keeps the table apart from any model of the application.
func (logNote) TableName() string { return "gormlog_test_notes" }

const secretValue = "hunter2-do-not-log"

// loggedDB returns a database whose gorm logs to the returned buffer through slog at level,
// with the slow-query threshold slow.
func loggedDB(t *testing.T, level slog.Level, slow time.Duration) (*gorm.DB, *bytes.Buffer) {
	t.Helper()
	db := dbtest.Open(t)
	if err := db.AutoMigrate(&logNote{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	translator, _ := db.Dialector.(gorm.ErrorTranslator)
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))
	return db.Session(&gorm.Session{Logger: models.NewGormLogger(l, slow, translator)}), &buf
}

func TestGormLogsFailuresWithoutValuesAboveDebug(t *testing.T) {
	db, buf := loggedDB(t, slog.LevelInfo, 0)
	if err := db.Create(&logNote{Body: secretValue}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.First(&logNote{}, 999).Error; !errors.Is(err, gorm.ErrRecordNotFound) {
		t.Fatalf("First of a missing row: %v, want record not found", err)
	}
	if err := db.Create(&logNote{Body: secretValue}).Error; err == nil {
		t.Fatal("a second note with the same body was stored; want a unique violation")
	}
	var rows []logNote
	if err := db.Table("no_such_table").Where("body = ?", secretValue).Find(&rows).Error; err == nil {
		t.Fatal("a query of a missing table succeeded")
	}
	out := buf.String()
	if strings.Contains(out, secretValue) {
		t.Errorf("a bound value reached the log at info level:\n%s", out)
	}
	if strings.Contains(out, "record not found") {
		t.Errorf("record not found was logged:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, `"msg":"database query failed"`) || !strings.Contains(out, "no_such_table") || !strings.Contains(out, `"level":"WARN"`) {
		t.Errorf("want exactly one warning naming the failed query of no_such_table, got %d lines:\n%s", n, out)
	}
}

func TestGormWarnsAboutSlowQueries(t *testing.T) {
	db, buf := loggedDB(t, slog.LevelInfo, time.Nanosecond)
	var rows []logNote
	if err := db.Where("body = ?", secretValue).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"msg":"slow database query"`) || !strings.Contains(out, "gormlog_test_notes") {
		t.Errorf("want a slow query warning naming the gormlog_test_notes table, got:\n%s", out)
	}
	if strings.Contains(out, secretValue) {
		t.Errorf("a bound value reached the log at info level:\n%s", out)
	}
}

func TestGormLogsQueriesWithValuesAtDebug(t *testing.T) {
	db, buf := loggedDB(t, slog.LevelDebug, 0)
	var rows []logNote
	if err := db.Where("body = ?", secretValue).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, `"msg":"database query"`) || !strings.Contains(out, secretValue) {
		t.Errorf("want the query with its value at debug, got:\n%s", out)
	}
}
