package models

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// The actions of an outbox event.
const (
	EventCreated = "created"
	EventUpdated = "updated"
	EventDeleted = "deleted"
	// EventPruned marks where a resource's kept events start: PruneEvents deleted the events
	// before it, and turned the newest it deleted into this marker. It is never sent.
	EventPruned = "pruned"
)

// OutboxEvent is one change of a resource added with --events, written in the transaction of
// the change (RecordEvent): the event exists exactly when the change does, and its id orders
// it among every other event of every process, which is what a client resumes by.
type OutboxEvent struct {
	ID         uint64    `gorm:"primaryKey" json:"id"`
	Resource   string    `gorm:"size:64;not null;index" json:"resource"`
	Action     string    `gorm:"size:16;not null" json:"action"`
	ResourceID uint      `gorm:"not null" json:"resource_id"`
	Payload    string    `gorm:"type:text;not null" json:"-"`
	CreatedAt  time.Time `json:"created_at"`
}

// TableName is outbox_events: a resource named event keeps its own events table.
func (OutboxEvent) TableName() string { return "outbox_events" }

// RecordEvent writes the event of a change of the resource (its plural, as in its routes)
// with this id to tx, the transaction of the change; payload is marshalled to JSON (the
// record as written; for a deletion, its id).
func RecordEvent(tx *gorm.DB, resource, action string, id uint, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("record %s event of %s %d: %w", action, resource, id, err)
	}
	if err := lockOutbox(tx); err != nil {
		return fmt.Errorf("record %s event of %s %d: %w", action, resource, id, err)
	}
	ev := OutboxEvent{Resource: resource, Action: action, ResourceID: id, Payload: string(body)}
	if err := tx.Create(&ev).Error; err != nil {
		return fmt.Errorf("record %s event of %s %d: %w", action, resource, id, err)
	}
	return nil
}

// lockOutbox makes tx the one transaction writing the outbox until it commits: writers of
// events (RecordEvent) and the pruner (PruneEvents) take turns.
func lockOutbox(tx *gorm.DB) error {
	// SQLite has one writer at a time: ids commit in their order.
	_ = tx
	return nil
}

// LastEventID is the id of the resource's newest event; 0 when it has none.
func LastEventID(ctx context.Context, db *gorm.DB, resource string) (uint64, error) {
	var last *uint64
	err := db.WithContext(ctx).Model(&OutboxEvent{}).Where("resource = ?", resource).Select("MAX(id)").Scan(&last).Error
	if err != nil {
		return 0, fmt.Errorf("read the newest %s event: %w", resource, err)
	}
	if last == nil {
		return 0, nil
	}
	return *last, nil
}

// EventsAfter returns up to limit events of the resource with an id above after, in id order.
func EventsAfter(ctx context.Context, db *gorm.DB, resource string, after uint64, limit int) ([]OutboxEvent, error) {
	var out []OutboxEvent
	err := db.WithContext(ctx).Where("resource = ? AND id > ?", resource, after).Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read %s events after %d: %w", resource, after, err)
	}
	return out, nil
}

// PruneEvents deletes, for every resource, the events recorded before cutoff, and turns the
// newest of them into the resource's EventPruned marker: a reader after an id below the
// marker has missed deleted events (EventHorizon), one at or after it has missed none. It
// runs in one transaction with the outbox locked as writers lock it, so a reader sees the
// deletion and the marker together, and returns how many events it deleted. Any number of
// processes may prune at once: each marker is at or after the one before.
func PruneEvents(ctx context.Context, db *gorm.DB, cutoff time.Time) (int64, error) {
	var deleted int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockOutbox(tx); err != nil {
			return err
		}
		var horizons []struct {
			Resource string
			Horizon  uint64
		}
		if err := tx.Model(&OutboxEvent{}).Select("resource, MAX(id) AS horizon").Where("created_at < ?", cutoff.UTC()).
			Group("resource").Scan(&horizons).Error; err != nil {
			return fmt.Errorf("read the events before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		for _, h := range horizons {
			res := tx.Where("resource = ? AND id < ?", h.Resource, h.Horizon).Delete(&OutboxEvent{})
			if res.Error != nil {
				return fmt.Errorf("delete the %s events before %d: %w", h.Resource, h.Horizon, res.Error)
			}
			deleted += res.RowsAffected
			if err := tx.Model(&OutboxEvent{}).Where("id = ?", h.Horizon).
				Updates(map[string]any{"action": EventPruned, "payload": "{}"}).Error; err != nil {
				return fmt.Errorf("mark the %s events pruned before %d: %w", h.Resource, h.Horizon, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune the outbox: %w", err)
	}
	return deleted, nil
}

// EventHorizon is the id of the resource's EventPruned marker: the events before it were
// deleted, so a client resuming after an id below it cannot be given every event since. 0
// when none was ever pruned.
func EventHorizon(ctx context.Context, db *gorm.DB, resource string) (uint64, error) {
	var horizon *uint64
	err := db.WithContext(ctx).Model(&OutboxEvent{}).Where("resource = ? AND action = ?", resource, EventPruned).
		Select("MAX(id)").Scan(&horizon).Error
	if err != nil {
		return 0, fmt.Errorf("read where the %s events start: %w", resource, err)
	}
	if horizon == nil {
		return 0, nil
	}
	return *horizon, nil
}

// DefaultPruneEvery is how often an EventPruner prunes.
const DefaultPruneEvery = time.Hour

// EventPruner deletes the outbox's events older than its retention (PruneEvents), once when
// it starts and then every DefaultPruneEvery, until Stop. Every serving process runs one:
// pruning is safe to run at once from several.
type EventPruner struct {
	stop context.CancelFunc
	done chan struct{}
}

// StartEventPruner starts pruning db's outbox of events older than retention, every every;
// retention 0 keeps every event and starts nothing.
func StartEventPruner(db *gorm.DB, retention, every time.Duration, logger *slog.Logger) *EventPruner {
	ctx, cancel := context.WithCancel(context.Background())
	p := &EventPruner{stop: cancel, done: make(chan struct{})}
	if retention <= 0 {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			n, err := PruneEvents(ctx, db, time.Now().Add(-retention))
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				// The next tick tries again; the database may be down meanwhile.
				logger.Warn("outbox events not pruned", slog.Any("error", err))
			case n > 0:
				logger.Info("outbox events pruned", slog.Int64("deleted", n), slog.Duration("retention", retention))
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// Stop ends the pruning, cancelling a prune under way (its transaction rolls back), and
// returns once it has ended.
func (p *EventPruner) Stop() {
	p.stop()
	<-p.done
}
