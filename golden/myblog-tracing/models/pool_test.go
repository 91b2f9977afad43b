package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// openFileCount is how many descriptors this process holds (Linux: /proc/self/fd).
func openFileCount() (int, error) {
	fds, err := os.ReadDir("/proc/self/fd")
	return len(fds), err
}

// TestTheDatabaseHoldsNoMoreFilesThanTheConnectionCapKeeps: 64 reading transactions at once,
// beside a writing one: the read pool opens at most readPoolMax connections (the others
// wait), and the descriptors the database holds stay within what the automatic connection
// cap keeps for it (setting's DatabaseFiles), so a flood of clients cannot starve it of files.
func TestTheDatabaseHoldsNoMoreFilesThanTheConnectionCapKeeps(t *testing.T) {
	before, err := openFileCount()
	if err != nil {
		t.Skipf("cannot count this process's open files: %v", err)
	}
	db := openTestFile(t, true)
	if err := db.Create(&note{Text: "a"}).Error; err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	var inside atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 65)
	wg.Go(func() {
		errs <- db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&note{Text: "b"}).Error; err != nil {
				return err
			}
			<-hold
			return nil
		})
	})
	for range 64 {
		wg.Go(func() {
			errs <- Reading(db).Transaction(func(tx *gorm.DB) error {
				var n int64
				if err := tx.Model(&note{}).Count(&n).Error; err != nil {
					return err
				}
				inside.Add(1)
				<-hold
				return nil
			})
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for inside.Load() < readPoolMax && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Long enough for a reader beyond the bound to get in, and for a checkpoint to run.
	time.Sleep(2 * checkpointInterval)
	n := inside.Load()
	during, err := openFileCount()
	close(hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a transaction: %v", err)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if n != readPoolMax {
		t.Errorf("%d reading transactions ran at once, want the read pool's bound %d", n, readPoolMax)
	}
	if kept := setting.Default().DatabaseFiles(); during-before > kept {
		t.Errorf("the database holds %d descriptors, more than the %d the connection cap keeps for it", during-before, kept)
	}
	t.Logf("%d descriptors with the writer and %d readers busy; %d kept", during-before, n, setting.Default().DatabaseFiles())
}

func TestWithoutSingleWriterThePoolIsBoundedToo(t *testing.T) {
	sqlDB, err := openTestFile(t, false).DB()
	if err != nil {
		t.Fatal(err)
	}
	if got := sqlDB.Stats().MaxOpenConnections; got != setting.SQLiteConns {
		t.Errorf("the pool opens up to %d connections, want setting.SQLiteConns (%d)", got, setting.SQLiteConns)
	}
}
