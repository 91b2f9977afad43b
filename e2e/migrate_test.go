package e2e

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

// TestReAddingAResourceWithFewerFieldsServes is issue 11's first report: `add resource
// article title:string body:text`, run it, `destroy resource article`, `add resource article
// title:string`, run again: every POST answered 500 (NOT NULL constraint failed:
// articles.body), since AutoMigrate never drops a column and destroy said nothing about the
// table. Issue 19 made destroy go forward: it writes a migration that drops the table, so the
// same database, never rolled back, serves the re-added article after its next start.
func TestReAddingAResourceWithFewerFieldsServes(t *testing.T) {
	t.Parallel() // its own project, binary, port and SQLite file
	if testing.Short() {
		t.Skip("generates, builds and runs a project twice")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	project := generateProject(t, generator.Options{Name: "myblog", Strategy: restarttest.Fork, Port: generator.DefaultPort},
		generator.ResourceOptions{Name: "article", Fields: []string{"title:string", "body:text"}})
	work := t.TempDir() // the binary, conf/app.ini and data/myblog.db, kept from one build to the next
	bin := filepath.Join(work, "myblog")
	serve := func(version string, post string) {
		t.Helper()
		if err := restarttest.Build(ctx, project, bin, version); err != nil {
			t.Fatal(err)
		}
		srv, err := restarttest.Start(ctx, restarttest.ServerConfig{
			Strategy: restarttest.Fork, Binary: bin, ConfigFile: filepath.Join(project, "conf", "app.ini"), WorkDir: work,
			EnvPrefix: "MYBLOG", ShutdownTimeout: 10 * time.Second, ReadyTimeout: 10 * time.Second, Log: logFile(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Kill()
		api := &apiClient{t: t, ctx: ctx, baseURL: srv.BaseURL + "/api/v1", http: &http.Client{Timeout: 10 * time.Second}}
		api.expect(http.StatusCreated, http.MethodPost, "/articles", post)
		// A graceful stop, so that SQLite's WAL is folded into the database file.
		if err := srv.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-srv.Exited():
		case <-ctx.Done():
			t.Fatal("the server did not stop on SIGTERM")
		}
	}

	serve("v1", `{"title":"Hi","body":"..."}`)
	destroy, err := generator.PlanDestroyResource(os.DirFS(project), generator.DestroyOptions{Name: "article"}, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(destroy.Notes, "\n"); !strings.Contains(notes, "drops the articles table") || strings.Contains(notes, "migrate down") {
		t.Errorf("destroy resource article: notes %q, want them to say the articles table is dropped, and no rollback", notes)
	}
	if err := destroy.Apply(project); err != nil {
		t.Fatal(err)
	}
	add, err := generator.PlanAddResource(os.DirFS(project), generator.ResourceOptions{Name: "article", Fields: []string{"title:string"}}, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if err := add.Apply(project); err != nil {
		t.Fatal(err)
	}
	serve("v2", `{"title":"Hi again"}`)
}

// parallelDBTests: the tests that only run generated projects' own tests against the test
// servers call t.Parallel: each project's tests work in a schema of their own (internal/dbtest:
// test_<random>), and parallel tests start only once every serial test of the package has
// ended, so never during the serial tests that stop a server (TestServerDatabasesServeCRUD...,
// TestAProjectWaitsForItsDatabaseWithConnectRetries). They wait mostly on go test, so two at a
// time (go test's -parallel, GOMAXPROCS by default) overlap one's links with the other's runs.

// schemaChange is one of issue 19's repros, run on every database (schemaChange.run): a
// project with resources, a gingen change applied to it, then a test of the project's own
// (generator/testdata/<testdata>/keep_rows_test.go.txt, written into internal/migrate as
// testFile) run by go test over packages against the database, beside the project's tests.
type schemaChange struct {
	resources []generator.ResourceOptions
	// change plans a change of the project (in its folder fsys) for apply.
	change   []func(fsys fs.FS) (generator.Plan, error)
	testdata string
	testFile string
	packages []string
	// check, when set, reads the output of go test -v.
	check func(t *testing.T, out string)
}

// run runs the repro on SQLite, PostgreSQL and MariaDB, in parallel (see parallelDBTests).
func (c schemaChange) run(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("generates and tests a project per database")
	}
	src, err := os.ReadFile(filepath.Join("..", "generator", "testdata", c.testdata, "keep_rows_test.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{generator.DBSQLite, generator.DBPostgres, generator.DBMySQL} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			var env []string
			if db != generator.DBSQLite {
				env = requireServer(t, db).projectEnv("MYBLOG", "")
			}
			project := generateProject(t, generator.Options{Name: "myblog", Strategy: restarttest.Fork, DB: db, Port: generator.DefaultPort}, c.resources...)
			for _, change := range c.change {
				plan, err := change(os.DirFS(project))
				if err != nil {
					t.Fatal(err)
				}
				if err := plan.Apply(project); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(project, "internal", "migrate", c.testFile), src, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := restarttest.GoCmd(t.Context(), project, append([]string{"test", "-count=1", "-v"}, c.packages...)...)
			cmd.Env = append(append(cmd.Env, env...), "CI=true")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go test in %s: %v\n%s", project, err, out)
			}
			if c.check != nil {
				c.check(t, string(out))
			}
		})
	}
}

// TestDestroyingAResourceKeepsTheOtherTablesRowsOnEveryDatabase is issue 19's repro on each
// database: article is migration 1, tag and note come after it, destroy resource article;
// the project's own test (generator/testdata/droptable) fills tags and notes, applies the
// migration that drops articles, and counts their rows.
func TestDestroyingAResourceKeepsTheOtherTablesRowsOnEveryDatabase(t *testing.T) {
	t.Parallel() // see parallelDBTests
	schemaChange{
		resources: []generator.ResourceOptions{
			{Name: "article", Fields: []string{"title:string"}},
			{Name: "tag", Fields: []string{"name:string:unique"}},
			{Name: "note", Fields: []string{"body:text"}},
		},
		change: []func(fs.FS) (generator.Plan, error){func(fsys fs.FS) (generator.Plan, error) {
			return generator.PlanDestroyResource(fsys, generator.DestroyOptions{Name: "article"}, templates.FS())
		}},
		testdata: "droptable",
		testFile: "keep_rows_test.go",
		// The migrate package only: the rest is TestAddFieldProjectsPassTheirTestsOnEveryDatabase's.
		packages: []string{"./internal/migrate"},
	}.run(t)
}

// TestRenamingFieldsKeepsTheRowsOnEveryDatabase: articles and tags get rows, gingen rename
// field renames a unique field and an indexed one, migrate up: the rows keep their values
// under the new names (generator/testdata/renamefield), and the project's own tests (the
// migrated schema is the models', index names included) pass.
func TestRenamingFieldsKeepsTheRowsOnEveryDatabase(t *testing.T) {
	t.Parallel() // see parallelDBTests
	var change []func(fs.FS) (generator.Plan, error)
	for _, o := range []generator.RenameFieldOptions{{Resource: "article", Old: "title", New: "headline"}, {Resource: "tag", Old: "name", New: "label"}} {
		change = append(change, func(fsys fs.FS) (generator.Plan, error) { return generator.PlanRenameField(fsys, o, templates.FS()) })
	}
	schemaChange{
		resources: []generator.ResourceOptions{
			{Name: "article", Fields: []string{"title:string:unique", "body:text"}},
			{Name: "tag", Fields: []string{"name:string:index"}},
		},
		change:   change,
		testdata: "renamefield",
		testFile: "rename_rows_test.go",
		packages: []string{"./internal/migrate", "./models", "./routers/..."},
	}.run(t)
}

// TestRenamingResourcesKeepsTheRowsOnEveryDatabase: articles and the comments that reference
// them get rows, gingen rename resource renames articles (referenced) to posts and comments
// (with a foreign key of its own) to remarks, migrate up: every row is served under the new
// routes, the foreign key still refuses a dangling reference, migrate down gives the rows back
// under the old tables (generator/testdata/renameresource); and the project's own tests (the
// migrated schema is the models', index and foreign key names included) pass.
func TestRenamingResourcesKeepsTheRowsOnEveryDatabase(t *testing.T) {
	t.Parallel() // see parallelDBTests
	var change []func(fs.FS) (generator.Plan, error)
	for _, o := range []generator.RenameResourceOptions{{Old: "article", New: "post"}, {Old: "comment", New: "remark"}} {
		change = append(change, func(fsys fs.FS) (generator.Plan, error) { return generator.PlanRenameResource(fsys, o, templates.FS()) })
	}
	schemaChange{
		resources: []generator.ResourceOptions{
			{Name: "article", Fields: []string{"title:string:unique", "body:text"}},
			{Name: "comment", Fields: []string{"article:references", "text:text"}},
		},
		change:   change,
		testdata: "renameresource",
		testFile: "rename_resource_rows_test.go",
		packages: []string{"./internal/migrate", "./models", "./routers/..."},
		check: func(t *testing.T, out string) {
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "SQLite ") || strings.Contains(line, "--- PASS: TestRenamingResourcesKeepsTheRows") {
					t.Log(strings.TrimSpace(line))
				}
			}
			if !strings.Contains(out, "--- PASS: TestRenamingResourcesKeepsTheRows") || !strings.Contains(out, "--- PASS: TestMigrationsMatchTheModels") {
				t.Errorf("the rows test or the schema test did not run:\n%s", out)
			}
		},
	}.run(t)
}

// TestADatabaseAheadOfTheBuildIsRefusedInEveryStrategy deploys, in each strategy, the
// project with resources (four migrations), which migrates its database at start, then the
// project as gingen new made it (no migration) onto the same database, as a rollback of the
// deploy would: it exits with status 1 and one line naming both versions and the fix, and
// serves nothing.
func TestADatabaseAheadOfTheBuildIsRefusedInEveryStrategy(t *testing.T) {
	eachStrategy(t, func(t *testing.T, ctx context.Context, strategy string) {
		work := t.TempDir()
		srv, err := fixtures.Start(ctx, strategy, "v1", restarttest.ServerConfig{
			WorkDir: work, ShutdownTimeout: 10 * time.Second, ReadyTimeout: 10 * time.Second, Log: logFile(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		// Started means migrated: it reports healthy only after its migrations ran.
		srv.Kill()

		older, err := fixtures.Binary(ctx, filepath.Join(fixtures.Golden, "myblog-"+strategy), "v0")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, older)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "MYBLOG_SERVER_HTTPPORT="+strconv.Itoa(closedPort(t)), "MYBLOG_SERVER_READYTIMEOUT=10s")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		want := "the database schema is at version 4, ahead of this build's newest migration 0: deploy a build that has migration 4 (or a newer one); to undo a change, add a migration that reverses it to that build, never migrate down"
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), want) {
			t.Fatalf("the build without migrations on a database at version 4: %v\n%s\nwant exit status 1 and a line saying %q", err, out, want)
		}
		// The supervisor's master ends with its own line, that the first worker failed, below
		// the worker's.
		if strategy != restarttest.Supervisor && !strings.Contains(lastLine(string(out)), want) {
			t.Errorf("last line %q; want it to be the refusal", lastLine(string(out)))
		}
	})
}

// TestAddFieldProjectsPassTheirTestsOnEveryDatabase adds the resources (and one with
// events), then fields of every kind, to a project on each database and runs the project's
// own tests against a real server: the alter migrations go up, down and up again, the
// migrated schema matches the models, the handlers' tests pass with the new fields, and the
// outbox keeps its order under concurrent writers.
func TestAddFieldProjectsPassTheirTestsOnEveryDatabase(t *testing.T) {
	t.Parallel() // see parallelDBTests
	if testing.Short() {
		t.Skip("generates and tests a project per database")
	}
	for _, db := range []string{generator.DBSQLite, generator.DBPostgres, generator.DBMySQL} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			var env []string
			if db != generator.DBSQLite {
				env = requireServer(t, db).projectEnv("MYBLOG", "")
			}
			// With a resource added with --events: the project's own tests then run the
			// outbox's ordering (models/outbox_test.go: concurrent writers, a reader that must
			// see every id in order, none skipped) and the event streams against the server.
			resources := append(blogResources(), generator.ResourceOptions{Name: "notice", Fields: []string{"title:string", "level:int"}, Events: true})
			project := generateProject(t, generator.Options{Name: "myblog", Strategy: restarttest.Fork, DB: db, Port: generator.DefaultPort}, resources...)
			for _, f := range []generator.FieldOptions{
				{Resource: "article", Fields: []string{"subtitle:string:optional", "rating:int:index", "score:float", "due:time:required", "seen_at:time"}},
				{Resource: "tag", Fields: []string{"color:string:unique", "note:text", "hidden:bool", "weight:uint:required", "big:int64"}},
			} {
				plan, err := generator.PlanAddField(os.DirFS(project), f, templates.FS())
				if err != nil {
					t.Fatal(err)
				}
				if err := plan.Apply(project); err != nil {
					t.Fatal(err)
				}
			}
			goTest(t, project, env)
		})
	}
}
