package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"hash/crc64"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

const dialect = goose.DialectPostgres

// providerOptions takes goose's session lock, a PostgreSQL advisory lock, around every
// migration run, so that of two processes starting at once (the old and the new generation
// of a restart, or two hosts) one migrates and the other waits, then finds nothing pending.
// The lock is named after the database and schema migrated, so that tests migrating schemas
// of their own side by side do not wait for each other.
func providerOptions(ctx context.Context, sqlDB *sql.DB) ([]goose.ProviderOption, error) {
	var where string
	if err := sqlDB.QueryRowContext(ctx, "SELECT current_database() || '.' || current_schema()").Scan(&where); err != nil {
		return nil, fmt.Errorf("name the migration lock: %w", err)
	}
	id := int64(crc64.Checksum([]byte("goose:"+where), crc64.MakeTable(crc64.ECMA)) >> 1)
	// Try every second for 5 minutes: a long migration of another process holds the lock.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return []goose.ProviderOption{goose.WithSessionLocker(locker)}, nil
}

// upOnce applies the pending migrations under the session lock.
func upOnce(ctx context.Context, p *goose.Provider) ([]*goose.MigrationResult, error) {
	return p.Up(ctx)
}
