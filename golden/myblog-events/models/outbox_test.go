package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"myblog/internal/dbtest"
	"myblog/models"
)

// outboxProbe is a row whose changes the ordering test records as events.
type outboxProbe struct {
	ID     uint `gorm:"primaryKey"`
	Writer int  `gorm:"not null"`
	N      int  `gorm:"not null"`
}

func (outboxProbe) TableName() string { return "outbox_probes" }

// Writers commit events concurrently while a reader follows the outbox as a stream does
// (EventsAfter the last id it saw): the reader sees ids strictly increasing, never an event
// before its row, and, once every writer committed, every event exactly once, with no gap:
// no event was skipped because a smaller id committed after a larger one. SQLite has one
// writer at a time; the test runs against PostgreSQL and MySQL in the projects of those
// databases, where RecordEvent makes writers take turns.
func TestOutboxIDsCommitInOrderUnderConcurrentWriters(t *testing.T) {
	const writers, writes = 8, 50 // each write: a create, then an update, in two transactions
	db := dbtest.Open(t)
	if err := db.AutoMigrate(&outboxProbe{}); err != nil {
		t.Fatal(err)
	}
	const resource = "outbox_probes"
	start := time.Now()
	writersDone := make(chan struct{})
	writeErrs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range writes {
				p := outboxProbe{Writer: w, N: i + 1}
				err := db.Transaction(func(tx *gorm.DB) error {
					if err := tx.Create(&p).Error; err != nil {
						return err
					}
					return models.RecordEvent(tx, resource, models.EventCreated, p.ID, p)
				})
				if err == nil {
					err = db.Transaction(func(tx *gorm.DB) error {
						p.N = -p.N
						if err := tx.Model(&outboxProbe{}).Where("id = ?", p.ID).Update("n", p.N).Error; err != nil {
							return err
						}
						return models.RecordEvent(tx, resource, models.EventUpdated, p.ID, p)
					})
				}
				if err != nil {
					writeErrs <- fmt.Errorf("writer %d, write %d: %w", w, i, err)
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(writersDone)
	}()

	var (
		seen  []uint64
		after uint64
		fails []error
	)
	for reading := true; reading; {
		finished := false
		select {
		case <-writersDone:
			finished = true // this read is after every commit
		default:
		}
		evs, err := models.EventsAfter(t.Context(), db, resource, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.ID <= after {
				fails = append(fails, fmt.Errorf("event %d after %d: ids must grow", ev.ID, after))
			}
			var row outboxProbe
			if err := db.First(&row, ev.ResourceID).Error; err != nil {
				fails = append(fails, fmt.Errorf("event %d (%s of %d) is visible, its row is not: %w", ev.ID, ev.Action, ev.ResourceID, err))
			} else if ev.Action == models.EventUpdated && row.N > 0 {
				fails = append(fails, fmt.Errorf("event %d (update of %d) is visible before its update", ev.ID, ev.ResourceID))
			}
			seen = append(seen, ev.ID)
			after = ev.ID
		}
		switch {
		case finished && len(evs) == 0:
			reading = false
		case len(evs) == 0:
			time.Sleep(time.Millisecond)
		}
	}
	close(writeErrs)
	for err := range writeErrs {
		t.Error(err)
	}
	if err := errors.Join(fails...); err != nil {
		t.Fatal(err)
	}

	var stored []uint64
	if err := db.Model(&models.OutboxEvent{}).Where("resource = ?", resource).Order("id").Pluck("id", &stored).Error; err != nil {
		t.Fatal(err)
	}
	if want := writers * writes * 2; len(stored) != want || len(seen) != want {
		t.Fatalf("%d events stored, %d seen by the reader; want %d each", len(stored), len(seen), want)
	}
	for i := range stored {
		if seen[i] != stored[i] {
			t.Fatalf("the reader's event %d is id %d, the outbox's is %d: an event committed behind the reader's position and was skipped", i, seen[i], stored[i])
		}
		if i > 0 && stored[i] != stored[i-1]+1 {
			t.Fatalf("ids %d then %d: a gap", stored[i-1], stored[i])
		}
	}
	t.Logf("%d writers x %d creates and updates: %d events in order, none skipped, in %v", writers, writes, len(seen), time.Since(start).Round(time.Millisecond))
}

// recordProbeEvents records n created events of resource, each in its own transaction, and
// returns their ids in order.
func recordProbeEvents(t *testing.T, db *gorm.DB, resource string, n int) []uint64 {
	t.Helper()
	var ids []uint64
	for i := range n {
		err := db.Transaction(func(tx *gorm.DB) error {
			return models.RecordEvent(tx, resource, models.EventCreated, uint(i+1), map[string]int{"n": i})
		})
		if err != nil {
			t.Fatal(err)
		}
		last, err := models.LastEventID(t.Context(), db, resource)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, last)
	}
	return ids
}

// Pruning deletes each resource's events before the cutoff and turns the newest of them into
// the resource's marker: the events after it are untouched, the newest id stays, and pruning
// again deletes nothing more.
func TestPruneEventsDeletesTheOldEventsAndMarksWhereTheKeptOnesStart(t *testing.T) {
	db := dbtest.Open(t)
	widgets := recordProbeEvents(t, db, "widgets", 5)
	gadgets := recordProbeEvents(t, db, "gadgets", 2)
	fresh := recordProbeEvents(t, db, "fresh", 2)
	// The first 3 widgets and both gadgets are two hours old.
	old := time.Now().Add(-2 * time.Hour).UTC()
	if err := db.Model(&models.OutboxEvent{}).Where("id IN ?", append(slices.Clone(widgets[:3]), gadgets...)).Update("created_at", old).Error; err != nil {
		t.Fatal(err)
	}
	for _, h := range []struct {
		resource string
		want     uint64
	}{
		{"widgets", 0}, {"gadgets", 0}, {"fresh", 0},
	} {
		if got, err := models.EventHorizon(t.Context(), db, h.resource); err != nil || got != h.want {
			t.Fatalf("horizon of %s before pruning = %d, %v; want %d", h.resource, got, err, h.want)
		}
	}
	deleted, err := models.PruneEvents(t.Context(), db, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 3 { // widgets[0], widgets[1], gadgets[0]
		t.Errorf("deleted %d events, want 3", deleted)
	}
	for _, h := range []struct {
		resource string
		want     uint64
		kept     []uint64
	}{
		{"widgets", widgets[2], widgets[3:]},
		{"gadgets", gadgets[1], nil},
		{"fresh", 0, fresh},
	} {
		got, err := models.EventHorizon(t.Context(), db, h.resource)
		if err != nil || got != h.want {
			t.Errorf("horizon of %s = %d, %v; want %d", h.resource, got, err, h.want)
		}
		evs, err := models.EventsAfter(t.Context(), db, h.resource, got, 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for _, ev := range evs {
			ids = append(ids, ev.ID)
			if ev.Action != models.EventCreated {
				t.Errorf("kept event %d of %s is %q, want it untouched", ev.ID, h.resource, ev.Action)
			}
		}
		if fmt.Sprint(ids) != fmt.Sprint(h.kept) {
			t.Errorf("%s events after the horizon: %v, want %v", h.resource, ids, h.kept)
		}
	}
	var stored int64
	if err := db.Model(&models.OutboxEvent{}).Count(&stored).Error; err != nil || stored != 6 {
		t.Errorf("%d events stored (%v), want 6: 2 markers and 4 kept", stored, err)
	}
	if last, err := models.LastEventID(t.Context(), db, "widgets"); err != nil || last != widgets[4] {
		t.Errorf("newest widgets event = %d, %v; want %d", last, err, widgets[4])
	}
	if deleted, err := models.PruneEvents(t.Context(), db, time.Now().Add(-time.Hour)); err != nil || deleted != 0 {
		t.Errorf("pruning again deleted %d (%v), want 0", deleted, err)
	}
}

// Writers of events and pruners take turns on the outbox lock: pruning over and over while
// writers commit fails no write and no prune (no deadlock, no lock timeout), and leaves each
// writer's newest event or a later marker. SQLite has one writer at a time;
// the test runs against PostgreSQL and MySQL in the projects of those databases.
func TestPruningBesideConcurrentWritersFailsNothing(t *testing.T) {
	const writers, writes, pruners = 4, 30, 2
	db := dbtest.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, writers*writes+pruners)
	var prunes sync.WaitGroup
	for range pruners {
		prunes.Go(func() {
			for ctx.Err() == nil {
				// A cutoff in the future: every event but each resource's newest goes.
				if _, err := models.PruneEvents(ctx, db, time.Now().Add(time.Hour)); err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
		})
	}
	var writing sync.WaitGroup
	for w := range writers {
		writing.Go(func() {
			resource := fmt.Sprintf("writer%d", w)
			for i := range writes {
				err := db.Transaction(func(tx *gorm.DB) error {
					return models.RecordEvent(tx, resource, models.EventCreated, uint(i+1), map[string]int{"n": i})
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d, write %d: %w", w, i, err)
					return
				}
			}
		})
	}
	writing.Wait()
	cancel()
	prunes.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var stored int64
	if err := db.Model(&models.OutboxEvent{}).Count(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if stored < writers || stored > writers*writes {
		t.Errorf("%d events stored, want from %d (each resource's newest) to %d", stored, writers, writers*writes)
	}
}
