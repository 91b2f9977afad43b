package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

const dialect = goose.DialectMySQL

// providerOptions takes goose's table lock (a row of the goose_lock table, leased and kept
// alive while a run lasts) around every migration run, so that of two processes starting at
// once (the old and the new generation of a restart, or two hosts) one migrates and the
// other waits, then finds nothing pending. MySQL cannot roll DDL back: without the lock, two
// runs could each half-apply a migration.
func providerOptions(context.Context, *sql.DB) ([]goose.ProviderOption, error) {
	// Try every second for 5 minutes: a long migration of another process holds the lock.
	locker, err := lock.NewMySQLTableLocker(lock.WithTableLockTimeout(time.Second, 300))
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return []goose.ProviderOption{goose.WithLocker(locker)}, nil
}

// upOnce applies the pending migrations under the table lock.
func upOnce(ctx context.Context, p *goose.Provider) ([]*goose.MigrationResult, error) {
	return p.Up(ctx)
}
