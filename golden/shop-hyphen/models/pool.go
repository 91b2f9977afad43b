package models

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"

	"github.com/acme/my-shop/pkg/setting"
)

// SQLite lets one connection write at a time. Connections that want to write at once do not
// queue: each polls the lock, sleeping longer and longer (busy_timeout), so that under
// concurrent writes a few of them wait hundreds of milliseconds although the lock was free
// most of that time. With [database] SingleWriter, db's own pool has one connection and
// takes every write and every transaction not marked Reading, and waiters queue in
// database/sql, first come first served; a pool of read-only connections (query_only, no
// write lock taken at BEGIN) takes the queries, which WAL lets run beside the writer.

// readPoolName names the plugin holding the read pool.
const readPoolName = "models:sqlite-read-pool"

// readPool is the pool of read-only connections, kept as a gorm plugin so that Close finds
// and closes it.
type readPool struct{ db *sql.DB }

func (readPool) Name() string              { return readPoolName }
func (readPool) Initialize(*gorm.DB) error { return nil }
func (p readPool) Close() error            { return p.db.Close() }

// useSingleWriter turns db, just opened on cfg's file, into a single writer connection with
// a read pool beside it.
func useSingleWriter(db *gorm.DB, cfg setting.Database) error {
	writer, err := db.DB()
	if err != nil {
		return fmt.Errorf("single writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	// The read pool: transactions begin deferred (they take no write lock), and a write
	// sent to it by mistake fails at once instead of waiting for the lock.
	reader, err := sql.Open(sqlite.DriverName, cfg.DSN+dsnSeparator(cfg.DSN)+sqliteReadPragmas)
	if err != nil {
		return fmt.Errorf("open read pool: %w", err)
	}
	reader.SetMaxIdleConns(readPoolIdle)
	if err := db.Use(readPool{db: reader}); err != nil {
		return errors.Join(fmt.Errorf("read pool: %w", err), reader.Close())
	}
	resolver := dbresolver.Register(dbresolver.Config{
		Replicas: []gorm.Dialector{&sqlite.Dialector{DriverName: sqlite.DriverName, Conn: reader}},
	})
	if err := db.Use(resolver); err != nil {
		return fmt.Errorf("single writer: %w", err)
	}
	return nil
}

// readPoolIdle is how many idle read connections stay open between bursts.
const readPoolIdle = 8

// sqliteReadPragmas are the read pool's: those of the writer (sqlitePragmas) without
// _txlock=immediate, and query_only.
const sqliteReadPragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=query_only(1)"

// Reading marks db's next transaction as read-only: with SingleWriter, it runs on the read
// pool instead of queueing for the writer. Every query outside a transaction goes there by
// itself.
func Reading(db *gorm.DB) *gorm.DB {
	if _, ok := db.Config.Plugins[readPoolName]; !ok {
		return db
	}
	return db.Clauses(dbresolver.Read)
}
