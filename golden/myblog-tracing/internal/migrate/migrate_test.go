package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"myblog/internal/dbtest"
	"myblog/internal/migrate"
	"myblog/models"
	"myblog/pkg/setting"
)

// open connects to the database cfg describes, closed when the test ends.
func open(t *testing.T, cfg setting.Database) *gorm.DB {
	t.Helper()
	db, err := models.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := models.Close(db); err != nil {
			t.Error(err)
		}
	})
	return db
}

func newMigrator(t *testing.T, db *gorm.DB) *migrate.Migrator {
	t.Helper()
	m, err := migrate.New(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func version(t *testing.T, m *migrate.Migrator) int64 {
	t.Helper()
	v, err := m.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestUpAppliesEveryMigrationAndDownUndoesThem(t *testing.T) {
	ctx := context.Background()
	m := newMigrator(t, open(t, dbtest.Settings(t)))
	if err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if v := version(t, m); v != m.Latest() {
		t.Fatalf("after up the database is at version %d, want the newest migration, %d", v, m.Latest())
	}
	if err := m.Up(ctx); err != nil {
		t.Fatalf("a second up, with nothing pending: %v", err)
	}
	// Every down part runs, newest first, and leaves the database as it was.
	if err := m.Down(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if v := version(t, m); v != 0 {
		t.Fatalf("after down --to 0 the database is at version %d, want 0", v)
	}
	status, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		if s.Applied {
			t.Errorf("migration %d (%s) is still applied after down --to 0", s.Version, s.Name)
		}
	}
	// And the up parts run again on the rolled-back database.
	if err := m.Up(ctx); err != nil {
		t.Fatalf("up after down: %v", err)
	}
	if v := version(t, m); v != m.Latest() {
		t.Fatalf("after up, down and up the database is at version %d, want %d", v, m.Latest())
	}
}

func TestADatabaseAheadOfTheBuildIsRefused(t *testing.T) {
	ctx := context.Background()
	db := open(t, dbtest.Settings(t))
	m := newMigrator(t, db)
	if err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	// Up made goose's table even without a migration; record one this build does not have,
	// as a newer build would.
	ahead := m.Latest() + 1
	if err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", ahead, true).Error; err != nil {
		t.Fatal(err)
	}
	err := migrate.Up(ctx, db, nil)
	var aheadErr *migrate.AheadError
	if !errors.As(err, &aheadErr) || aheadErr.Database != ahead || aheadErr.Code != m.Latest() {
		t.Fatalf("Up on a database at version %d = %v; want an AheadError naming versions %d and %d", ahead, err, ahead, m.Latest())
	}
	want := fmt.Sprintf("the database schema is at version %d, ahead of this build's newest migration %d", ahead, m.Latest())
	if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, fmt.Sprintf("deploy a build that has migration %d", ahead)) || strings.Contains(msg, "--to") || strings.Contains(msg, "\n") {
		t.Errorf("the refusal reads %q; want one line with %q, forward-only advice and no migrate down --to", msg, want)
	}
}

func TestProcessesStartingAtOnceMigrateOnce(t *testing.T) {
	cfg := dbtest.Settings(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		db := open(t, cfg)
		wg.Go(func() { errs[i] = migrate.Up(context.Background(), db, nil) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent starts: %v", err)
	}
	m := newMigrator(t, open(t, cfg))
	if v := version(t, m); v != m.Latest() {
		t.Fatalf("after concurrent starts the database is at version %d, want %d", v, m.Latest())
	}
}

func TestCommandRunsUpDownAndStatus(t *testing.T) {
	ctx := context.Background()
	cfg := dbtest.Settings(t)
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := migrate.Command(ctx, cfg, args, &out, nil)
		return out.String(), err
	}
	m := newMigrator(t, open(t, cfg))
	out, err := run("up")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("database version %d, newest migration %d", m.Latest(), m.Latest()); !strings.Contains(out, want) {
		t.Errorf("migrate up printed %q; want %q", out, want)
	}
	if out, err = run("down", "--to", "0"); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("database version 0, newest migration %d", m.Latest()); !strings.Contains(out, want) {
		t.Errorf("migrate down --to 0 printed %q; want %q", out, want)
	}
	if status, err := m.Status(ctx); err != nil || len(status) > 0 && !strings.Contains(out, "pending  "+status[0].Name) {
		t.Errorf("migrate down --to 0 printed %q; want every migration pending (%v)", out, err)
	}
	for _, bad := range [][]string{nil, {"sideways"}, {"up", "extra"}, {"status", "--to", "1"}, {"down", "--to", "-5"}} {
		if _, err := run(bad...); err == nil {
			t.Errorf("migrate %q succeeded; want a usage error", bad)
		}
	}
}
