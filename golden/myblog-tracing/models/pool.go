package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"

	"myblog/pkg/setting"
)

// SQLite lets one connection write at a time. Connections that want to write at once do not
// queue: each polls the lock, sleeping longer and longer (busy_timeout), so that under
// concurrent writes a few of them wait hundreds of milliseconds although the lock was free
// most of that time. With [database] SingleWriter, db's own pool has one connection and
// takes every write and every transaction not marked Reading, and writes queue for it in the
// process, first come first served (writeQueue); a pool of read-only connections (query_only,
// no write lock taken at BEGIN) takes the queries, which WAL lets run beside the writer; and
// a connection of its own copies the WAL back into the database file in the background
// (checkpoints), which the writer would otherwise do in the middle of a request every 1000
// pages, holding up every write queued behind it.

// sidePoolsName names the plugin holding the read pool and the checkpointer.
const sidePoolsName = "models:sqlite-side-pools"

// checkpointInterval is how often the checkpointer copies the WAL into the database file.
const checkpointInterval = 500 * time.Millisecond

// sidePools are the connections beside the writer, kept as a gorm plugin so that Close finds
// and closes them.
type sidePools struct {
	reader     *sql.DB
	checkpoint *sql.DB
	stop       context.CancelFunc
	done       chan struct{}
	// close runs once: Close may be called again, as sql.DB.Close may.
	close func() error
}

func (*sidePools) Name() string              { return sidePoolsName }
func (*sidePools) Initialize(*gorm.DB) error { return nil }

// Close stops the checkpointer, runs a last checkpoint and closes the connections; calls
// after the first return the first one's result.
func (p *sidePools) Close() error { return p.close() }

func (p *sidePools) closeOnce() error {
	p.stop()
	<-p.done
	_, err := p.checkpoint.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	if err != nil {
		err = fmt.Errorf("last checkpoint: %w", err)
	}
	return errors.Join(err, p.reader.Close(), p.checkpoint.Close())
}

// checkpoints runs a passive checkpoint every checkpointInterval until ctx ends. A passive
// checkpoint waits for nobody: it copies what it can and leaves the rest for the next one.
func (p *sidePools) checkpoints(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := p.checkpoint.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "sqlite checkpoint failed; the next one retries", "error", err)
		}
	}
}

// useSingleWriter turns db, just opened on cfg's file, into a single writer connection with
// a read pool beside it.
func useSingleWriter(db *gorm.DB, cfg setting.Database) error {
	writer, err := db.DB()
	if err != nil {
		return fmt.Errorf("single writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	// One statement is atomic by itself: a create, update or delete of one row needs no
	// BEGIN and COMMIT around it, which would hold the writer three times as long. Explicit
	// transactions (db.Transaction) still begin IMMEDIATE.
	db.SkipDefaultTransaction = true
	// The read pool: transactions begin deferred (they take no write lock), and a write
	// sent to it by mistake fails at once instead of waiting for the lock.
	reader, err := sql.Open(sqlite.DriverName, cfg.DSN+dsnSeparator(cfg.DSN)+sqliteReadPragmas)
	if err != nil {
		return fmt.Errorf("open read pool: %w", err)
	}
	// Bounded, so that the descriptors the connection cap keeps for the database
	// (setting.SQLiteConns) are enough under any load: queries beyond it wait for a reader.
	reader.SetMaxOpenConns(readPoolMax)
	reader.SetMaxIdleConns(readPoolIdle)
	checkpoint, err := sql.Open(sqlite.DriverName, cfg.DSN+dsnSeparator(cfg.DSN)+"_pragma=busy_timeout(5000)")
	if err != nil {
		return errors.Join(fmt.Errorf("open checkpointer: %w", err), reader.Close())
	}
	checkpoint.SetMaxOpenConns(1)
	ctx, stop := context.WithCancel(context.Background())
	side := &sidePools{reader: reader, checkpoint: checkpoint, stop: stop, done: make(chan struct{})}
	side.close = sync.OnceValue(side.closeOnce)
	go side.checkpoints(ctx)
	if err := db.Use(side); err != nil {
		return errors.Join(fmt.Errorf("read pool: %w", err), side.Close())
	}
	resolver := dbresolver.Register(dbresolver.Config{
		Replicas: []gorm.Dialector{&sqlite.Dialector{DriverName: sqlite.DriverName, Conn: reader}},
	})
	if err := db.Use(resolver); err != nil {
		return fmt.Errorf("single writer: %w", err)
	}
	if err := registerWriteQueue(db); err != nil {
		return fmt.Errorf("single writer: %w", err)
	}
	return nil
}

// writeQueue lines up the writes (create, update, delete) outside transactions, first come
// first served, before they take the writer connection: database/sql hands a freed connection
// to a random waiter, which under load leaves a few writes waiting many turns. A channel's
// senders are served in order. At most one queued write waits for the connection at a time.
//
// Inside a transaction, write through its tx, never through db: the transaction holds the
// only writer connection until it ends.
type writeQueue chan struct{}

// writeQueued marks a statement that holds the queue's turn.
const writeQueued = "models:write-queued"

func registerWriteQueue(db *gorm.DB) error {
	q := make(writeQueue, 1)
	// The turn covers the statement alone (SkipDefaultTransaction: no BEGIN before it), not
	// the hooks and associations around it.
	cb := db.Callback()
	errs := []error{
		cb.Create().Before("gorm:create").Register("models:write_queue_enter", q.enter),
		cb.Create().After("gorm:create").Register("models:write_queue_leave", q.leave),
		cb.Update().Before("gorm:update").Register("models:write_queue_enter", q.enter),
		cb.Update().After("gorm:update").Register("models:write_queue_leave", q.leave),
		cb.Delete().Before("gorm:delete").Register("models:write_queue_enter", q.enter),
		cb.Delete().After("gorm:delete").Register("models:write_queue_leave", q.leave),
	}
	return errors.Join(errs...)
}

// enter waits for the statement's turn, unless it runs in a transaction (which holds the
// connection already) or its context ends first.
func (q writeQueue) enter(db *gorm.DB) {
	if _, inTx := db.Statement.ConnPool.(gorm.TxCommitter); inTx {
		return
	}
	ctx := db.Statement.Context
	select {
	case q <- struct{}{}:
		db.Statement.Settings.Store(writeQueued, true)
	case <-ctx.Done():
		_ = db.AddError(fmt.Errorf("wait to write: %w", context.Cause(ctx)))
	}
}

// leave gives the turn to the next write, if the statement held it.
func (q writeQueue) leave(db *gorm.DB) {
	if _, held := db.Statement.Settings.LoadAndDelete(writeQueued); held {
		<-q
	}
}

// readPoolMax is how many read connections may be open at once: what setting.SQLiteConns
// leaves beside the writer and the checkpointer. readPoolIdle of them stay open between
// bursts.
const (
	readPoolMax  = setting.SQLiteConns - 2
	readPoolIdle = 8
)

// sqliteReadPragmas are the read pool's: those of the writer (sqlitePragmas) without
// _txlock=immediate, and query_only.
const sqliteReadPragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=query_only(1)"

// Reading marks db's next transaction as read-only: with SingleWriter, it runs on the read
// pool instead of queueing for the writer. Every query outside a transaction goes there by
// itself.
func Reading(db *gorm.DB) *gorm.DB {
	if _, ok := db.Config.Plugins[sidePoolsName]; !ok {
		return db
	}
	return db.Clauses(dbresolver.Read)
}
