package generator

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gingen/gingen/templates"
)

var update = flag.Bool("update", false, "rewrite the trees under golden/ from the templates")

// goldenCases are the projects kept under golden/<name>. Each is a module of its own that CI
// builds and tests.
func goldenCases() map[string]Options {
	cases := map[string]Options{
		"myblog-fork":       {Name: "myblog", Strategy: StrategyFork, DB: DBSQLite, Port: 8000},
		"myblog-supervisor": {Name: "myblog", Strategy: StrategySupervisor, DB: DBSQLite, Port: 8000},
		"myblog-systemd":    {Name: "myblog", Strategy: StrategySystemd, DB: DBSQLite, Port: 8000},
		"shop-hyphen":       {Name: "my-shop", Module: "github.com/acme/my-shop", Strategy: StrategySupervisor, DB: DBSQLite, Port: 9000},
		// myblog-article also gets the resources of goldenResources (resource_golden_test.go).
		"myblog-article": {Name: "myblog", Strategy: StrategyFork, DB: DBSQLite, Port: 8000},
		// The other databases and JWT auth; e2e runs their tests against real servers.
		"myblog-postgres":       {Name: "myblog", Strategy: StrategyFork, DB: DBPostgres, Port: 8000},
		"myblog-mysql-jwt":      {Name: "myblog", Strategy: StrategySystemd, DB: DBMySQL, Auth: AuthJWT, Port: 8000},
		"myblog-supervisor-jwt": {Name: "myblog", Strategy: StrategySupervisor, DB: DBSQLite, Auth: AuthJWT, Port: 8000},
		// myblog-jwt-article: resources referencing the users table of --auth jwt and one
		// resource twice (goldenResources).
		"myblog-jwt-article": {Name: "myblog", Strategy: StrategyFork, DB: DBSQLite, Auth: AuthJWT, Port: 8000},
		// myblog-events: a resource added with --events under the supervisor strategy, which
		// e2e restarts under 100 subscribers (goldenResources).
		"myblog-events": {Name: "myblog", Strategy: StrategySupervisor, DB: DBSQLite, Port: 8000},
		// myblog-tracing: generated with --tracing (pkg/tracing, [tracing], the OpenTelemetry
		// modules), with an article resource (goldenResources).
		"myblog-tracing": {Name: "myblog", Strategy: StrategyFork, DB: DBSQLite, Port: 8000, Tracing: true},
		// myblog-override is rendered with testdata/override laid over the templates
		// (golden_override_test.go).
		"myblog-override": {Name: "myblog", Strategy: StrategyFork, DB: DBSQLite, Port: 8000},
	}
	for name, o := range cases {
		o.Normalize()
		cases[name] = o
	}
	return cases
}

func TestGolden(t *testing.T) {
	for name, opts := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			files, err := planGoldenCase(name, opts)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("..", "golden", name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if _, err := WriteProject(dir, files, WriteOptions{}); err != nil {
					t.Fatal(err)
				}
				return
			}
			compareTree(t, dir, files)
		})
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	t.Parallel()
	opts := goldenCases()["myblog-fork"]
	first, err := PlanProject(opts, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	second, err := PlanProject(opts, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("two renders differ (-first +second):\n%s", diff)
	}
}

// compareTree reports files missing from dir, files in dir the plan does not produce, and
// files whose content differs, each with a line diff.
func compareTree(t *testing.T, dir string, files []File) {
	t.Helper()
	onDisk := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		body, err := os.ReadFile(p)
		onDisk[filepath.ToSlash(rel)] = body
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("golden tree %s is missing; run: go test ./generator -run Golden -update", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		want, ok := onDisk[f.Path]
		delete(onDisk, f.Path)
		switch {
		case !ok:
			t.Errorf("missing from %s: %s (run go test ./generator -run Golden -update)", dir, f.Path)
		case !bytes.Equal(want, f.Body):
			t.Errorf("%s/%s differs from the templates (-golden +rendered):\n%s", dir, f.Path,
				cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(f.Body), "\n")))
		}
	}
	for p := range onDisk {
		t.Errorf("unexpected in %s: %s (not rendered by the templates)", dir, p)
	}
}
