package generator

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
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
	if diff := diffPlans(first, second); diff != "" {
		t.Errorf("two renders differ (-first +second):\n%s", diff)
	}
}

// diffPlans is "" when two plans hold the same files (paths, modes, bytes) in the same
// order, else what differs: a line diff of each file whose text differs. cmp.Diff of the
// []File themselves compares every byte through reflection, most of a test's time under
// -race.
func diffPlans(want, got []File) string {
	var b strings.Builder
	for i := range max(len(want), len(got)) {
		switch {
		case i >= len(want):
			fmt.Fprintf(&b, "+%s: a file the first has not\n", got[i].Path)
		case i >= len(got):
			fmt.Fprintf(&b, "-%s: a file the second has not\n", want[i].Path)
		case want[i].Path != got[i].Path:
			fmt.Fprintf(&b, "file %d: -%s +%s\n", i, want[i].Path, got[i].Path)
		case want[i].Mode != got[i].Mode:
			fmt.Fprintf(&b, "%s: mode -%v +%v\n", want[i].Path, want[i].Mode, got[i].Mode)
		case !bytes.Equal(want[i].Body, got[i].Body):
			fmt.Fprintf(&b, "%s:\n%s", want[i].Path, cmp.Diff(strings.Split(string(want[i].Body), "\n"), strings.Split(string(got[i].Body), "\n")))
		}
	}
	return b.String()
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

func TestDiffPlansNamesWhatDiffers(t *testing.T) {
	a := []File{{Path: "a.go", Body: []byte("package a\n\nvar x = 1\n"), Mode: 0o644}, {Path: "b.go", Body: []byte("b"), Mode: 0o644}}
	if d := diffPlans(a, a); d != "" {
		t.Errorf("diffPlans of a plan and itself = %q, want \"\"", d)
	}
	for name, tc := range map[string]struct {
		got  []File
		want string
	}{
		"text":  {[]File{{Path: "a.go", Body: []byte("package a\n\nvar x = 2\n"), Mode: 0o644}, a[1]}, "var x = 2"},
		"mode":  {[]File{{Path: "a.go", Body: a[0].Body, Mode: 0o755}, a[1]}, "a.go: mode"},
		"path":  {[]File{a[0], {Path: "c.go", Body: []byte("b"), Mode: 0o644}}, "-b.go +c.go"},
		"extra": {append(append([]File{}, a...), File{Path: "d.go"}), "+d.go"},
		"fewer": {a[:1], "-b.go"},
	} {
		if d := diffPlans(a, tc.got); !strings.Contains(d, tc.want) {
			t.Errorf("%s: diffPlans = %q, want it to name %q", name, d, tc.want)
		}
	}
}
