package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

// rollbackCommand is the command a destroy plan's notes give to roll a database back
// before the destroy, without "go run .": the arguments of the built binary.
var rollbackCommand = regexp.MustCompile(`go run \. (migrate down --to [0-9]+)`)

// TestReAddingAResourceWithFewerFieldsServes is the issue's first report: `add resource
// article title:string body:text`, run it, `destroy resource article`, `add resource article
// title:string`, run again: every POST answered 500 (NOT NULL constraint failed:
// articles.body), since AutoMigrate never drops a column and destroy said nothing about
// the table. Now destroy says how to roll the database back first; done so, the re-added
// article serves. A database that was not rolled back is refused at start with one line,
// instead of a server that fails every insert.
func TestReAddingAResourceWithFewerFieldsServes(t *testing.T) {
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
	// run runs the binary with args (none: serve) on the database db.
	run := func(db string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, append([]string{"-config", filepath.Join("conf", "app.ini")}, args...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "MYBLOG_DATABASE_DSN="+db, "MYBLOG_SERVER_HTTPPORT="+strconv.Itoa(closedPort(t)))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	database := filepath.Join("data", "myblog.db")

	serve("v1", `{"title":"Hi","body":"..."}`)
	// A copy of the database as it is now, for a user who does not roll back.
	stale := filepath.Join(work, "stale.db")
	raw, err := os.ReadFile(filepath.Join(work, database))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	destroy, err := generator.PlanDestroyResource(os.DirFS(project), generator.DestroyOptions{Name: "article"})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(destroy.Notes, "\n")
	if m := rollbackCommand.FindStringSubmatch(notes); m == nil {
		t.Errorf("destroy resource article says nothing of the articles table left in the database (notes %q)", notes)
	} else if out, err := run(database, strings.Fields(m[1])...); err != nil {
		t.Fatalf("%s, as destroy says: %v\n%s", m[1], err, out)
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

	// The database that was not rolled back still has articles.body, NOT NULL: the new build
	// refuses it at start, naming the column, rather than answer 500 to every POST.
	out, err := run(stale)
	var exit *exec.ExitError
	want := "table articles has a NOT NULL column body that models.Article does not fill"
	if !errors.As(err, &exit) || !strings.Contains(lastLine(out), want) {
		t.Errorf("serving the database that was not rolled back: %v\n%s\nwant a failure whose last line says %q", err, out, want)
	}
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
		want := "the database schema is at version 4, ahead of this build's newest migration 0: deploy the build that has migration 4, or roll the database back with that build: myblog migrate down --to 0"
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

// TestAddFieldProjectsPassTheirTestsOnEveryDatabase adds the resources, then fields
// of every kind, to a project on each database and runs the project's own tests against a
// real server: the alter migrations go up, down and up again, the migrated schema matches
// the models, and the handlers' tests pass with the new fields.
func TestAddFieldProjectsPassTheirTestsOnEveryDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and tests a project per database")
	}
	for _, db := range []string{generator.DBSQLite, generator.DBPostgres, generator.DBMySQL} {
		t.Run(db, func(t *testing.T) {
			var env []string
			if db != generator.DBSQLite {
				env = requireServer(t, db).projectEnv("MYBLOG", "")
			}
			project := generateProject(t, generator.Options{Name: "myblog", Strategy: restarttest.Fork, DB: db, Port: generator.DefaultPort}, blogResources()...)
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
