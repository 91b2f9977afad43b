// Package migrate applies the SQL migrations of package db to the database, with goose:
// pending ones at every start, before the process reports ready, and by hand with the
// `migrate` subcommand. A database that is ahead of the binary (it ran migrations this build
// does not have) is refused.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"gorm.io/gorm"

	"myblog/db"
	"myblog/models"
)

// versionTable is the table where goose records the migrations a database has run.
const versionTable = goose.DefaultTablename

// AheadError says that the database ran migrations this build does not have: a newer build
// migrated it, and this one was deployed or rolled back onto it.
type AheadError struct {
	Database int64 // the database's newest version
	Code     int64 // this build's newest migration
}

func (e *AheadError) Error() string {
	// No rollback advice: migrate down through the newer migrations would drop what they
	// created, with its rows, in tables the operator never named. Schema changes go forward.
	return fmt.Sprintf("the database schema is at version %d, ahead of this build's newest migration %d: deploy a build that has migration %d (or a newer one); to undo a change, add a migration that reverses it to that build, never migrate down", e.Database, e.Code, e.Database)
}

// Migrator runs the embedded migrations against one database.
type Migrator struct {
	sqlDB *sql.DB
	gdb   *gorm.DB
	// provider is nil while the project has no migration yet: goose refuses an empty set.
	provider *goose.Provider
	logger   *slog.Logger
}

// New returns a Migrator for the database behind gdb.
func New(ctx context.Context, gdb *gorm.DB, logger *slog.Logger) (*Migrator, error) {
	if logger == nil {
		logger = slog.Default()
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	fsys, err := db.Migrations()
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	m := &Migrator{sqlDB: sqlDB, gdb: gdb, logger: logger}
	opts, err := providerOptions(ctx, sqlDB)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	m.provider, err = goose.NewProvider(dialect, sqlDB, fsys, opts...)
	if errors.Is(err, goose.ErrNoMigrations) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return m, nil
}

// Latest returns the newest migration this build has; 0 when it has none.
func (m *Migrator) Latest() int64 {
	if m.provider == nil {
		return 0
	}
	sources := m.provider.ListSources()
	return sources[len(sources)-1].Version
}

// Version returns the newest migration the database has run; 0 when it ran none.
func (m *Migrator) Version(ctx context.Context) (int64, error) {
	if m.provider != nil {
		v, err := m.provider.GetDBVersion(ctx)
		if err != nil {
			return 0, fmt.Errorf("migrate: read the database's version: %w", err)
		}
		return v, nil
	}
	// Without a migration goose has no provider: read its table, if a build made it.
	if !m.gdb.WithContext(ctx).Migrator().HasTable(versionTable) {
		return 0, nil
	}
	var v sql.NullInt64
	if err := m.gdb.WithContext(ctx).Table(versionTable).Select("MAX(version_id)").Where("is_applied = ?", true).Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("migrate: read the database's version: %w", err)
	}
	return v.Int64, nil
}

// ensureVersionTable makes goose's table, as goose does before its first migration, so that
// a database this build started on records version 0, and a build with fewer migrations
// than the database has can tell.
func (m *Migrator) ensureVersionTable(ctx context.Context) error {
	if m.gdb.WithContext(ctx).Migrator().HasTable(versionTable) {
		return nil
	}
	store, err := database.NewStore(dialect, versionTable)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	tx, err := m.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: create %s: %w", versionTable, err)
	}
	err = store.CreateVersionTable(ctx, tx)
	if err == nil {
		err = store.Insert(ctx, tx, database.InsertRequest{Version: 0})
	}
	if err == nil {
		err = tx.Commit()
	} else {
		err = errors.Join(err, tx.Rollback())
	}
	// Another process starting at the same time may have made it.
	if err != nil && !m.gdb.WithContext(ctx).Migrator().HasTable(versionTable) {
		return fmt.Errorf("migrate: create %s: %w", versionTable, err)
	}
	return nil
}

// CheckNotAhead returns an *AheadError when the database ran a migration newer than this
// build's newest.
func (m *Migrator) CheckNotAhead(ctx context.Context) error {
	v, err := m.Version(ctx)
	if err != nil {
		return err
	}
	if latest := m.Latest(); v > latest {
		return &AheadError{Database: v, Code: latest}
	}
	return nil
}

// Up applies every pending migration, in version order, each in a transaction where the
// database allows it, and logs each; it refuses a database that is ahead of this build.
// Processes starting at once (a restart) do not both migrate: see providerOptions.
func (m *Migrator) Up(ctx context.Context) error {
	if err := m.CheckNotAhead(ctx); err != nil {
		return err
	}
	if m.provider == nil {
		return m.ensureVersionTable(ctx)
	}
	results, err := upOnce(ctx, m.provider)
	m.log(ctx, results)
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down rolls back the newest migration the database ran, or, with to >= 0, every migration
// newer than version to.
func (m *Migrator) Down(ctx context.Context, to int64) error {
	if err := m.CheckNotAhead(ctx); err != nil {
		return err
	}
	if m.provider == nil {
		return nil
	}
	var results []*goose.MigrationResult
	var err error
	if to < 0 {
		var r *goose.MigrationResult
		r, err = m.provider.Down(ctx)
		if r != nil {
			results = append(results, r)
		}
		if errors.Is(err, goose.ErrNoNextVersion) {
			err = nil
		}
	} else {
		results, err = m.provider.DownTo(ctx, to)
	}
	m.log(ctx, results)
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Migration is one migration of this build and whether the database has run it.
type Migration struct {
	Version int64
	Name    string
	Applied bool
}

// Status lists this build's migrations, oldest first.
func (m *Migrator) Status(ctx context.Context) ([]Migration, error) {
	if m.provider == nil {
		return nil, nil
	}
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]Migration, 0, len(st))
	for _, s := range st {
		out = append(out, Migration{Version: s.Source.Version, Name: path.Base(s.Source.Path), Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

func (m *Migrator) log(ctx context.Context, results []*goose.MigrationResult) {
	for _, r := range results {
		if r.Error != nil {
			continue
		}
		m.logger.InfoContext(ctx, "migration "+r.Direction, "version", r.Source.Version, "file", path.Base(r.Source.Path), "took", r.Duration)
	}
}

// Up opens a Migrator on gdb, applies the pending migrations and checks that the tables
// fit the models (CheckModels): what a serving process does at start, before it reports
// ready.
func Up(ctx context.Context, gdb *gorm.DB, logger *slog.Logger) error {
	m, err := New(ctx, gdb, logger)
	if err != nil {
		return err
	}
	if err := m.Up(ctx); err != nil {
		return err
	}
	return CheckModels(ctx, gdb, models.All())
}
