package rollbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
)

// Golden is the golden tree the replicas are built from: a PostgreSQL project (fork
// strategy), to which Prepare adds the article resource of golden/myblog-article and a
// notice resource with events.
const Golden = restarttest.PostgresGolden

// The resource with events Prepare adds: its subscribers follow it through the roll.
const (
	EventsPlural = "notices"
	eventsName   = "notice"
)

// Prepare copies golden/myblog-postgres into dir/project, adds the article resource and the
// notice resource with --events (its outbox on the replicas' shared database) the way
// `gingen add resource` does, and builds it twice, stamped with the two versions.
func Prepare(ctx context.Context, goldenRoot, dir, fromVersion, toVersion string) (project, from, to string, err error) {
	project = filepath.Join(dir, "project")
	if err := os.RemoveAll(project); err != nil {
		return "", "", "", err
	}
	if err := restarttest.Compose(filepath.Join(goldenRoot, Golden), "", project); err != nil {
		return "", "", "", err
	}
	if err := restarttest.AddResources(project,
		generator.ResourceOptions{Name: "article", Fields: []string{"title:string", "body:text"}},
		generator.ResourceOptions{Name: eventsName, Fields: []string{"title:string"}, Events: true},
	); err != nil {
		return "", "", "", err
	}
	from = filepath.Join(dir, "myblog-"+fromVersion)
	to = filepath.Join(dir, "myblog-"+toVersion)
	for bin, v := range map[string]string{from: fromVersion, to: toVersion} {
		if err := restarttest.Build(ctx, project, bin, v); err != nil {
			return "", "", "", err
		}
	}
	return project, from, to, nil
}

// Database is a PostgreSQL server the replicas share.
type Database struct {
	Host, Port, User, Password string
}

// Env returns the settings variables that point a project (prefix) at database name.
func (d Database) Env(prefix, name string) []string {
	return []string{
		prefix + "_DATABASE_HOST=" + d.Host,
		prefix + "_DATABASE_PORT=" + d.Port,
		prefix + "_DATABASE_USER=" + d.User,
		prefix + "_DATABASE_PASSWORD=" + d.Password,
		prefix + "_DATABASE_NAME=" + name,
		prefix + "_DATABASE_SSLMODE=disable",
	}
}

// SQL runs statements with psql, connected to the database admin (the server's own).
func (d Database) SQL(ctx context.Context, psql, admin, statements string) error {
	cmd := exec.CommandContext(ctx, psql, "-h", d.Host, "-p", d.Port, "-U", d.User, "-d", admin,
		"-v", "ON_ERROR_STOP=1", "-qc", statements)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+d.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("psql %q: %w\n%s", statements, err, out)
	}
	return nil
}

// DSN is the key=value connection string of database name, for a program that takes one
// (perfbench's hand-written baseline).
func (d Database) DSN(name string) string {
	return fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=disable", d.Host, d.Port, d.User, d.Password, name)
}
