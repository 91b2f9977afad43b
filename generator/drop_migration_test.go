package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

// gooseParts splits a migration into its Up and Down statements.
func gooseParts(t *testing.T, body string) (up, down string) {
	t.Helper()
	_, rest, ok := strings.Cut(body, "-- +goose Up\n")
	if !ok {
		t.Fatalf("no goose Up in\n%s", body)
	}
	up, down, ok = strings.Cut(rest, "\n-- +goose Down\n")
	if !ok {
		t.Fatalf("no goose Down in\n%s", body)
	}
	return strings.TrimSpace(up), strings.TrimSpace(down)
}

// migrations reads the project's migrations, by file name.
func migrations(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for p, body := range snapshot(t, root) {
		if name, ok := strings.CutPrefix(p, MigrationsDir+"/"); ok {
			out[name] = body
		}
	}
	return out
}

// threeResources is issue 19's repro: article as migration 1, two resources after it.
func threeResources(t *testing.T, db string) string {
	t.Helper()
	root := newTestProjectOn(t, db)
	for _, r := range []ResourceOptions{
		{Name: "article", Fields: []string{"title:string"}},
		{Name: "tag", Fields: []string{"name:string:unique"}},
		{Name: "note", Fields: []string{"body:text"}},
	} {
		addResource(t, root, r)
	}
	return root
}

func TestDestroyingAResourceThatMayHaveRunDropsItsTableGoingForward(t *testing.T) {
	t.Parallel()
	for _, db := range []string{DBSQLite, DBPostgres, DBMySQL} {
		t.Run(db, func(t *testing.T) {
			root := threeResources(t, db)
			before := migrations(t, root)
			plan := destroyResource(t, root, DestroyOptions{Name: "article"})

			after := migrations(t, root)
			for name, body := range before {
				if after[name] != body {
					t.Errorf("destroy resource article changed or deleted %s", name)
				}
			}
			drop, ok := after["00004_drop_articles.sql"]
			if !ok || len(after) != len(before)+1 {
				t.Fatalf("migrations after destroy: %d, want the %d before and 00004_drop_articles.sql", len(after), len(before))
			}
			up, down := gooseParts(t, drop)
			if want := "DROP TABLE " + sqlDialect(db).quote("articles") + ";"; up != want {
				t.Errorf("up of the drop migration:\n%s\nwant %s", up, want)
			}
			createUp, _ := gooseParts(t, before["00001_create_articles.sql"])
			if down != createUp {
				t.Errorf("down of the drop migration:\n%s\nwant the create migration's up:\n%s", down, createUp)
			}

			notes := strings.Join(plan.Notes, "\n")
			for _, want := range []string{"db/migrations/00004_drop_articles.sql drops the articles table", "loses what it holds", "00001_create_articles.sql stays"} {
				if !strings.Contains(notes, want) {
					t.Errorf("notes %q do not say %q", notes, want)
				}
			}
			// Nothing printed leads a user to roll back through the later migrations.
			if strings.Contains(notes, "migrate down") {
				t.Errorf("notes %q give a rollback command", notes)
			}
		})
	}
}

func TestDestroyingFieldsThatMayHaveRunDropsTheColumnsGoingForward(t *testing.T) {
	t.Parallel()
	for _, db := range []string{DBSQLite, DBPostgres, DBMySQL} {
		t.Run(db, func(t *testing.T) {
			root := threeResources(t, db)
			plan, err := PlanAddField(os.DirFS(root), FieldOptions{Resource: "tag", Fields: []string{"color:string:unique", "seen_at:time"}}, templates.FS())
			apply(t, root, plan, err)
			addResource(t, root, ResourceOptions{Name: "later", Fields: []string{"name:string"}})
			before := migrations(t, root)

			plan, err = PlanDestroyField(os.DirFS(root), DestroyFieldOptions{Resource: "tag", Names: []string{"color", "seen_at"}}, templates.FS())
			apply(t, root, plan, err)

			after := migrations(t, root)
			for name, body := range before {
				if after[name] != body {
					t.Errorf("destroy field changed or deleted %s", name)
				}
			}
			drop, ok := after["00006_drop_color_seen_at_from_tags.sql"]
			if !ok || len(after) != len(before)+1 {
				t.Fatalf("migrations after destroy field: %v, want those before and 00006_drop_color_seen_at_from_tags.sql", after)
			}
			up, down := gooseParts(t, drop)
			addUp, addDown := gooseParts(t, before["00004_add_color_seen_at_to_tags.sql"])
			if up != addDown || down != addUp {
				t.Errorf("drop migration:\n%s\nwant the add migration's up and down swapped:\n%s", drop, before["00004_add_color_seen_at_to_tags.sql"])
			}
			if notes := strings.Join(plan.Notes, "\n"); !strings.Contains(notes, "drops the columns color, seen_at of the tags table") || strings.Contains(notes, "migrate down") {
				t.Errorf("notes %q, want them to say the columns are dropped, and no rollback command", notes)
			}
			if model := readFile(t, root, "models/tag.go"); strings.Contains(model, "Color") {
				t.Errorf("models/tag.go still has the field:\n%s", model)
			}
		})
	}
}

func TestOnlyTheNewestMigrationThatNeverLeftTheWorkingTreeIsDeleted(t *testing.T) {
	t.Parallel()
	committed := func(string) bool { return false }
	for _, tc := range []struct {
		name    string
		never   func(string) bool
		destroy string
		deleted bool
	}{
		{"not a git work tree: it may have run", nil, "note", false},
		{"committed: it may have run", committed, "note", false},
		{"never committed and the newest", untracked, "note", true},
		{"never committed but older than another", untracked, "article", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := threeResources(t, DBSQLite)
			if tc.destroy == "article" {
				// Without its referrers: a resource with none.
				root = newTestProject(t)
				addResource(t, root, ResourceOptions{Name: "article", Fields: []string{"title:string"}})
				addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
			}
			res, _ := mustManifest(t, root).resource(tc.destroy)
			plan := destroyResource(t, root, DestroyOptions{Name: tc.destroy, NeverCommitted: tc.never})
			_, err := os.Stat(filepath.Join(root, filepath.FromSlash(res.Migration)))
			if gone := os.IsNotExist(err); gone != tc.deleted {
				t.Errorf("%s deleted: %v, want %v (notes %q)", res.Migration, gone, tc.deleted, plan.Notes)
			}
			notes := strings.Join(plan.Notes, "\n")
			if tc.deleted && !strings.Contains(notes, "go run . migrate down --to 2 (it undoes that migration only)") {
				t.Errorf("notes %q, want the rollback of that migration only", notes)
			}
		})
	}
}

// TestTheOtherResourcesKeepTheirRowsWhenTheDropIsApplied runs issue 19's repro in a
// project on SQLite: its own test fills tags and notes, applies the drop migration of
// articles, and counts them.
func TestTheOtherResourcesKeepTheirRowsWhenTheDropIsApplied(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and tests a generated project")
	}
	root := threeResources(t, DBSQLite)
	destroyResource(t, root, DestroyOptions{Name: "article"})
	src, err := os.ReadFile(filepath.Join("testdata", "droptable", "keep_rows_test.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "internal", "migrate", "keep_rows_test.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	goIn(t, root, "test", "-count=1", "./internal/migrate")
}

func mustManifest(t *testing.T, root string) Manifest {
	t.Helper()
	m, err := readManifest(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
