package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The actions of an outbox event.
const (
	EventCreated = "created"
	EventUpdated = "updated"
	EventDeleted = "deleted"
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
	// SQLite has one writer at a time: ids commit in their order.
	ev := OutboxEvent{Resource: resource, Action: action, ResourceID: id, Payload: string(body)}
	if err := tx.Create(&ev).Error; err != nil {
		return fmt.Errorf("record %s event of %s %d: %w", action, resource, id, err)
	}
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
