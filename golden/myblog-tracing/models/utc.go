package models

import (
	"fmt"
	"reflect"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
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

// rowToUTC puts the times of row in UTC. A time field of the model itself is reached directly
// and written only when it is not in UTC yet: rows read from SQLite, or from MySQL with
// loc=UTC, are in UTC already, and looking at every field through gorm's accessors boxed
// each value, allocations on every row of every read. Fields of embedded structs go through
// gorm's accessors, which know the way to them; a row of another type than the statement's
// model (a Find into a struct of one's own) has fields the model's schema does not describe,
// and is walked by reflection.
func rowToUTC(db *gorm.DB, row reflect.Value) {
	if row.Kind() != reflect.Struct || !row.CanAddr() {
		return
	}
	if row.Type() != db.Statement.Schema.ModelType {
		foreignRowToUTC(row)
		return
	}
	for _, f := range db.Statement.Schema.Fields {
		if !isTimeType(f.FieldType) {
			continue
		}
		if len(f.StructField.Index) != 1 {
			fieldToUTC(db, f, row)
			continue
		}
		timeToUTC(row.Field(f.StructField.Index[0]))
	}
}

// isTimeType reports whether t is time.Time or *time.Time.
func isTimeType(t reflect.Type) bool {
	return t == reflect.TypeFor[time.Time]() || t == reflect.TypeFor[*time.Time]()
}

// timeToUTC puts v, an addressable time.Time or *time.Time, in UTC. A pointer gets a new
// time rather than a change to the one it points to, which may be shared (a request's).
func timeToUTC(v reflect.Value) {
	switch t := v.Addr().Interface().(type) {
	case *time.Time:
		if t.Location() != time.UTC {
			*t = t.UTC()
		}
	case **time.Time:
		if *t != nil && (*t).Location() != time.UTC {
			u := (*t).UTC()
			*t = &u
		}
	}
}

// foreignRowToUTC puts in UTC the exported time fields of row, promoted ones included.
func foreignRowToUTC(row reflect.Value) {
	for _, sf := range reflect.VisibleFields(row.Type()) {
		if !sf.IsExported() || !isTimeType(sf.Type) {
			continue
		}
		// A field behind a nil embedded pointer, or of an unexported embedded struct, is
		// left alone.
		if v, err := row.FieldByIndexErr(sf.Index); err == nil && v.CanSet() {
			timeToUTC(v)
		}
	}
}

// fieldToUTC puts the time of field f of row in UTC through gorm's accessors.
func fieldToUTC(db *gorm.DB, f *schema.Field, row reflect.Value) {
	ctx := db.Statement.Context
	v, zero := f.ValueOf(ctx, row)
	if zero {
		return
	}
	switch v.(type) {
	case time.Time, *time.Time:
		if err := f.Set(ctx, row, UTC(v)); err != nil {
			_ = db.AddError(fmt.Errorf("%s in UTC: %w", f.Name, err))
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
