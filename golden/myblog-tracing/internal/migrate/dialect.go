package migrate

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pressly/goose/v3"
)

const dialect = goose.DialectSQLite3

// sqliteUpAttempts bounds how often Up starts over when it loses a race: SQLite has no lock
// goose can take, but every migration is a transaction that takes the file's write lock, so
// of two processes migrating at once one applies a migration and the other fails on it and
// rolls it back; on its next attempt the migration is recorded and skipped.
const (
	sqliteUpAttempts = 10
	sqliteUpBackoff  = 100 * time.Millisecond
)

// providerOptions: none for SQLite (see sqliteUpAttempts).
func providerOptions(context.Context, *sql.DB) ([]goose.ProviderOption, error) {
	return nil, nil
}

// upOnce applies the pending migrations, starting over when another process applied some
// of them at the same time; a migration that fails by itself fails every attempt.
func upOnce(ctx context.Context, p *goose.Provider) ([]*goose.MigrationResult, error) {
	var all []*goose.MigrationResult
	for attempt := 1; ; attempt++ {
		results, err := p.Up(ctx)
		all = append(all, results...)
		if err == nil || attempt == sqliteUpAttempts {
			return all, err
		}
		select {
		case <-ctx.Done():
			return all, errors.Join(err, context.Cause(ctx))
		case <-time.After(sqliteUpBackoff):
		}
	}
}
