package models

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// UTCStamps is embedded in utcRow: its time is reached through gorm's accessors.
type UTCStamps struct {
	DeletedOn time.Time
}

type utcRow struct {
	ID uint
	UTCStamps
	At      time.Time
	Maybe   *time.Time
	Never   *time.Time
	Name    string
	Already time.Time
}

// statementOf returns a gorm handle whose statement holds dest, as gorm's callbacks see it:
// after a read, dest points to the rows read; in a map update, dest is the map and the rows
// are the model's.
func statementOf(t *testing.T, dest any, rows reflect.Value) *gorm.DB {
	t.Helper()
	s, err := schema.Parse(&utcRow{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	return &gorm.DB{Config: &gorm.Config{}, Statement: &gorm.Statement{
		Schema: s, Dest: dest, ReflectValue: rows, Context: context.Background(),
	}}
}

func TestToUTCPutsEveryTimeOfTheRowsReadInUTC(t *testing.T) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, zone)
	maybe := at.Add(time.Hour)
	already := time.Date(2024, 3, 1, 4, 30, 0, 0, time.UTC)
	newRow := func() utcRow {
		m := maybe
		return utcRow{ID: 1, UTCStamps: UTCStamps{DeletedOn: at}, At: at, Maybe: &m, Name: "x", Already: already}
	}
	check := func(t *testing.T, r utcRow, shared *time.Time) {
		t.Helper()
		for name, got := range map[string]time.Time{"At": r.At, "Maybe": *r.Maybe, "DeletedOn (embedded)": r.DeletedOn, "Already": r.Already} {
			if got.Location() != time.UTC {
				t.Errorf("%s is in %s, want UTC", name, got.Location())
			}
		}
		if !r.At.Equal(at) || !r.Maybe.Equal(maybe) || !r.DeletedOn.Equal(at) || !r.Already.Equal(already) {
			t.Errorf("times moved: %v %v %v %v, want the instants %v %v %v %v", r.At, *r.Maybe, r.DeletedOn, r.Already, at, maybe, at, already)
		}
		if r.Never != nil || r.Name != "x" || r.ID != 1 {
			t.Errorf("other fields changed: %+v", r)
		}
		// The time a pointer field held is left as it was: it may be the request's.
		if shared.Location() != zone {
			t.Errorf("the *time.Time the row pointed to was changed in place to %s", shared.Location())
		}
	}

	t.Run("one row", func(t *testing.T) {
		r := newRow()
		before := r.Maybe
		toUTC(statementOf(t, &r, reflect.ValueOf(&r).Elem()))
		check(t, r, before)
	})
	t.Run("a slice of rows", func(t *testing.T) {
		rows := []utcRow{newRow(), newRow()}
		before := []*time.Time{rows[0].Maybe, rows[1].Maybe}
		toUTC(statementOf(t, &rows, reflect.ValueOf(&rows).Elem()))
		for i, r := range rows {
			check(t, r, before[i])
		}
	})
	t.Run("a slice of pointers", func(t *testing.T) {
		r := newRow()
		before := r.Maybe
		rows := []*utcRow{&r}
		toUTC(statementOf(t, &rows, reflect.ValueOf(&rows).Elem()))
		check(t, r, before)
	})
}

// A destination of another type than the statement's model (a Find into a struct of one's
// own, with fewer fields) has its own times put in UTC, not the model's fields looked up in it.
func TestToUTCPutsTheTimesOfARowOfAnotherTypeInUTC(t *testing.T) {
	type Embedded struct{ Then time.Time }
	type other struct {
		Name string
		When time.Time
		Embedded
		missing *Embedded // unexported: left alone
	}
	zone := time.FixedZone("UTC-3", -3*3600)
	when := time.Date(2024, 3, 1, 10, 0, 0, 0, zone)
	rows := []other{
		{Name: "x", When: when, Embedded: Embedded{Then: when}},
	}
	db := statementOf(t, &rows, reflect.ValueOf(&rows).Elem())
	toUTC(db)
	if db.Error != nil {
		t.Fatalf("toUTC on rows of another type: %v", db.Error)
	}
	o := rows[0]
	if o.Name != "x" || o.missing != nil || o.When.Location() != time.UTC || !o.When.Equal(when) ||
		o.Then.Location() != time.UTC || !o.Then.Equal(when) {
		t.Errorf("row = %+v, want its times %v in UTC and the rest unchanged", o, when)
	}
}

func TestToUTCPutsTheTimesOfAMapUpdateInUTC(t *testing.T) {
	zone := time.FixedZone("UTC-3", -3*3600)
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, zone)
	updates := map[string]any{"at": at, "maybe": &at, "name": "x"}
	toUTC(statementOf(t, updates, reflect.ValueOf(&utcRow{}).Elem()))
	if got, ok := updates["at"].(time.Time); !ok || got.Location() != time.UTC || !got.Equal(at) {
		t.Errorf("at = %v, want %v in UTC", updates["at"], at)
	}
	if got, ok := updates["maybe"].(*time.Time); !ok || got.Location() != time.UTC || !got.Equal(at) {
		t.Errorf("maybe = %v, want %v in UTC", updates["maybe"], at)
	}
	if updates["name"] != "x" {
		t.Errorf("name = %v, want x", updates["name"])
	}
}
