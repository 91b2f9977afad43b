package models_test

import (
	"errors"
	"fmt"
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
