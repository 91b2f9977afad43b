package models

import (
	"fmt"
	"reflect"
	"time"

	"gorm.io/gorm"
)

// Times are instants: every time the models write or read is in UTC, whatever the server's
// time zone (TZ) or the offset a client sent. PostgreSQL's timestamptz and MySQL's DATETIME
// (read with loc=UTC) compare instants either way, but SQLite stores a time as the text
// glebarez/sqlite formats, "2006-01-02 15:04:05.999999999-07:00", and compares that text:
// two offsets for one instant would be two values that neither match nor sort as time. All
// in UTC, every value ends in "+00:00" and the text sorts as the instants do (a trimmed
// fraction sorts right too: '+' < '.' < '0'), so that filters, ranges and ORDER BY agree
// with time. The list filters normalize their values the same way (routers/api/v1/query.go).

// nowUTC is gorm's clock: created_at and updated_at in UTC.
func nowUTC() time.Time { return time.Now().UTC() }

// utcPlugin puts in UTC the times of the rows gorm creates and updates, the values of a
// map update, and those of the rows it reads (PostgreSQL's driver reads them in time.Local).
type utcPlugin struct{}

func (utcPlugin) Name() string { return "gingen:utc" }

func (utcPlugin) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	if err := cb.Create().Before("gorm:create").Register("gingen:utc_create", toUTC); err != nil {
		return fmt.Errorf("register utc create callback: %w", err)
	}
	if err := cb.Update().Before("gorm:update").Register("gingen:utc_update", toUTC); err != nil {
		return fmt.Errorf("register utc update callback: %w", err)
	}
	if err := cb.Query().After("gorm:query").Register("gingen:utc_query", toUTC); err != nil {
		return fmt.Errorf("register utc query callback: %w", err)
	}
	return nil
}

// toUTC puts the times of the statement's rows and of its map of updates in UTC.
func toUTC(db *gorm.DB) {
	stmt := db.Statement
	if db.Error != nil || stmt.Schema == nil {
		return
	}
	if m, ok := stmt.Dest.(map[string]any); ok {
		for k, v := range m {
			m[k] = UTC(v)
		}
	}
	rv := stmt.ReflectValue
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			rowToUTC(db, reflect.Indirect(rv.Index(i)))
		}
	case reflect.Struct:
		rowToUTC(db, rv)
	default:
	}
}

func rowToUTC(db *gorm.DB, row reflect.Value) {
	if row.Kind() != reflect.Struct || !row.CanAddr() {
		return
	}
	ctx := db.Statement.Context
	for _, f := range db.Statement.Schema.Fields {
		v, zero := f.ValueOf(ctx, row)
		if zero {
			continue
		}
		switch v.(type) {
		case time.Time, *time.Time:
			if err := f.Set(ctx, row, UTC(v)); err != nil {
				_ = db.AddError(fmt.Errorf("%s in UTC: %w", f.Name, err))
			}
		}
	}
}

// UTC returns v in UTC when it is a time.Time or a non-nil *time.Time, otherwise v itself.
func UTC(v any) any {
	switch t := v.(type) {
	case time.Time:
		return t.UTC()
	case *time.Time:
		if t != nil {
			u := t.UTC()
			return &u
		}
	}
	return v
}
