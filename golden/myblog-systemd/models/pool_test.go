package models

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"gorm.io/gorm"

	"myblog/pkg/setting"
)

// note is a table of these tests only.
type note struct {
	ID   uint
	Text string
}

func openTestFile(t *testing.T, singleWriter bool) *gorm.DB {
	t.Helper()
	db, err := Open(context.Background(), setting.Database{Type: "sqlite", DSN: filepath.Join(t.TempDir(), "pool.db"), SingleWriter: singleWriter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Close(db); err != nil {
			t.Error(err)
		}
	})
	if err := db.AutoMigrate(&note{}); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSingleWriterTakesConcurrentWritesWithoutLockErrors(t *testing.T) {
	db := openTestFile(t, true)
	const writers, each = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := db.Create(&note{Text: fmt.Sprintf("%d-%d", w, i)}).Error; err != nil {
					errs <- err
				}
				var n int64
				if err := db.Model(&note{}).Count(&n).Error; err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write or read: %v", err)
	}
	var n int64
	if err := db.Model(&note{}).Count(&n).Error; err != nil || n != writers*each {
		t.Errorf("notes = %d (%v), want %d", n, err, writers*each)
	}
}

func TestReadingTransactionsRunOnTheReadOnlyPool(t *testing.T) {
	db := openTestFile(t, true)
	if err := db.Create(&note{Text: "a"}).Error; err != nil {
		t.Fatal(err)
	}
	var got []note
	err := Reading(db).Transaction(func(tx *gorm.DB) error { return tx.Find(&got).Error })
	if err != nil || len(got) != 1 {
		t.Fatalf("a reading transaction = %v, %v; want the one note", got, err)
	}
	// The read pool is query_only: a write sent there by mistake fails at once.
	err = Reading(db).Transaction(func(tx *gorm.DB) error { return tx.Create(&note{Text: "b"}).Error })
	if err == nil {
		t.Error("a write in a reading transaction succeeded; want the read-only pool to refuse it")
	}
	// A transaction not marked Reading writes.
	if err := db.Transaction(func(tx *gorm.DB) error { return tx.Create(&note{Text: "c"}).Error }); err != nil {
		t.Errorf("a write transaction: %v", err)
	}
}

func TestWithoutSingleWriterOnePoolServesAll(t *testing.T) {
	db := openTestFile(t, false)
	if _, ok := db.Config.Plugins[sidePoolsName]; ok {
		t.Fatal("SingleWriter = false opened a read pool")
	}
	if err := db.Create(&note{Text: "a"}).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := Reading(db).Transaction(func(tx *gorm.DB) error { return tx.Model(&note{}).Count(&n).Error }); err != nil || n != 1 {
		t.Errorf("count = %d, %v; want 1", n, err)
	}
}

func TestAQueuedWriteGivesUpWithItsContext(t *testing.T) {
	db := openTestFile(t, true)
	// Hold the writer connection in a transaction, so that the next write queues.
	tx := db.Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	defer tx.Rollback()
	if err := tx.Create(&note{Text: "held"}).Error; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := db.WithContext(ctx).Create(&note{Text: "queued"}).Error
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a write whose context ended while queued: err = %v, want context.Canceled", err)
	}
}

func TestTheWriterLeavesCheckpointsToTheCheckpointer(t *testing.T) {
	db := openTestFile(t, true)
	var pages int
	if err := db.Raw("PRAGMA wal_autocheckpoint").Scan(&pages).Error; err != nil || pages != 0 {
		t.Errorf("the writer's wal_autocheckpoint = %d, %v; want 0 (the checkpointer does it)", pages, err)
	}
	side, ok := db.Config.Plugins[sidePoolsName].(*sidePools)
	if !ok {
		t.Fatal("no side pools")
	}
	for i := range 50 {
		if err := db.Create(&note{Text: fmt.Sprint(i)}).Error; err != nil {
			t.Fatal(err)
		}
	}
	// A checkpoint through the checkpointer's connection works beside the writer.
	var busy, log, done int
	row := side.checkpoint.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	if err := row.Scan(&busy, &log, &done); err != nil || busy != 0 || done != log {
		t.Errorf("wal_checkpoint = busy %d, %d of %d frames, %v; want all frames copied", busy, done, log, err)
	}
}

func TestCloseTwiceIsHarmless(t *testing.T) {
	db, err := Open(context.Background(), setting.Database{Type: "sqlite", DSN: filepath.Join(t.TempDir(), "twice.db"), SingleWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Close(db); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := Close(db); err != nil {
		t.Errorf("second Close: %v, want nil as database/sql gives", err)
	}
}
