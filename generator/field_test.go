package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

// newTestProjectOn is newTestProject on another database.
func newTestProjectOn(t *testing.T, db string) string {
	t.Helper()
	return newTestProjectWith(t, Options{Name: "myblog", Port: DefaultPort, DB: db})
}

func apply(t *testing.T, root string, plan Plan, err error) Plan {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(root); err != nil {
		t.Fatal(err)
	}
	return plan
}

func readFile(t *testing.T, root, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAddFieldThenDestroyFieldLeavesTheProjectByteIdentical(t *testing.T) {
	t.Parallel()
	for _, db := range []string{DBSQLite, DBPostgres, DBMySQL} {
		t.Run(db, func(t *testing.T) {
			root := newTestProjectOn(t, db)
			for _, r := range blogResources() {
				addResource(t, root, r)
			}
			before := snapshot(t, root)
			project := os.DirFS(root)
			plan, err := PlanAddField(project, FieldOptions{Resource: "article", Fields: []string{"subtitle:string:optional", "rating:int:index", "due:time:required"}}, templates.FS())
			apply(t, root, plan, err)
			mig := "db/migrations/00004_add_subtitle_rating_due_to_articles.sql"
			if _, ok := snapshot(t, root)[mig]; !ok {
				t.Fatalf("add field wrote no %s", mig)
			}
			if model := readFile(t, root, "models/article.go"); !strings.Contains(model, "Rating") || !strings.Contains(model, "Due ") {
				t.Errorf("models/article.go lacks the new fields:\n%s", model)
			}
			plan, err = PlanAddField(os.DirFS(root), FieldOptions{Resource: "tag", Fields: []string{"color:string:unique"}}, templates.FS())
			apply(t, root, plan, err)
			if len(plan.Notes) != 1 || !strings.Contains(plan.Notes[0], "color is unique, and every row already in tags gets ''") {
				t.Errorf("notes = %q, want one that a unique column added to rows fails", plan.Notes)
			}

			// Newest first: a migration never committed is deleted only while it is the newest.
			plan, err = PlanDestroyField(os.DirFS(root), DestroyFieldOptions{Resource: "tag", Names: []string{"color"}, NeverCommitted: untracked}, templates.FS())
			apply(t, root, plan, err)
			plan, err = PlanDestroyField(os.DirFS(root), DestroyFieldOptions{Resource: "article", Names: []string{"due", "subtitle", "rating"}, NeverCommitted: untracked}, templates.FS())
			apply(t, root, plan, err)
			sameTree(t, before, snapshot(t, root))
		})
	}
}

// editLine appends " // mine" to the first line of the file at path that contains sub: an
// edit of a line a change of the resource rewrites, which no merge can keep.
func editLine(t *testing.T, path, sub string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	for i, l := range lines {
		if strings.Contains(l, sub) {
			lines[i] = strings.TrimSuffix(l, "\n") + " // mine\n"
			if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("%s has no line with %q", path, sub)
}

// TestAddFieldMergesIntoAnEditedFile: an edit away from the lines add field changes is kept,
// the new field merged around it (the base is the resource's render before the change).
func TestAddFieldMergesIntoAnEditedFile(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
	f := filepath.Join(root, "routers", "api", "v1", "tag_test.go")
	if err := os.WriteFile(f, []byte(readFile(t, root, "routers/api/v1/tag_test.go")+"\n// mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanAddField(os.DirFS(root), FieldOptions{Resource: "tag", Fields: []string{"color:string"}}, templates.FS())
	apply(t, root, plan, err)
	if s := stepOf(t, plan.Steps, "routers/api/v1/tag_test.go"); s.Action != ActionMerge {
		t.Errorf("step = %v, want merge", s)
	}
	got := readFile(t, root, "routers/api/v1/tag_test.go")
	if !strings.Contains(got, "\n// mine\n") || !strings.Contains(got, "color") {
		t.Errorf("tag_test.go after add field lacks the user's line or the new field:\n%s", got)
	}
	if _, err := os.Stat(f + OldFileSuffix); !os.IsNotExist(err) {
		t.Errorf("a clean merge left %s%s (%v)", f, OldFileSuffix, err)
	}
	// The record is the render's digest, not the merged text's: the file still counts as
	// edited, and a later change merges again rather than overwrite it.
	plan, err = PlanDestroyField(os.DirFS(root), DestroyFieldOptions{Resource: "tag", Names: []string{"color"}, NeverCommitted: untracked}, templates.FS())
	apply(t, root, plan, err)
	if got := readFile(t, root, "routers/api/v1/tag_test.go"); !strings.Contains(got, "\n// mine\n") || strings.Contains(got, "color") {
		t.Errorf("tag_test.go after destroy field lacks the user's line or keeps the field:\n%s", got)
	}
}

func TestAddFieldRefusesAConflictingEditAndWritesNothing(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
	f := filepath.Join(root, "models", "tag.go")
	editLine(t, f, "\tName ")
	before := snapshot(t, root)
	_, err := PlanAddField(os.DirFS(root), FieldOptions{Resource: "tag", Fields: []string{"color:string"}}, templates.FS())
	wantInputError(t, err, "models/tag.go was edited since gingen generated it", "cannot merge", "--force")
	sameTree(t, before, snapshot(t, root))

	// --force: the template's text wins and the user's is kept as FILE.gingen-old, never
	// lost. Unhappy path first: one there already with other text stops it, nothing written.
	mine := readFile(t, root, "models/tag.go")
	old := f + OldFileSuffix
	if err := os.WriteFile(old, []byte("an earlier copy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before = snapshot(t, root)
	_, err = PlanAddField(os.DirFS(root), FieldOptions{Resource: "tag", Fields: []string{"color:string"}, Force: true}, templates.FS())
	wantInputError(t, err, "models/tag.go would keep the text --force overwrites in models/tag.go"+OldFileSuffix+", which holds an earlier copy")
	sameTree(t, before, snapshot(t, root))
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}

	plan, err := PlanAddField(os.DirFS(root), FieldOptions{Resource: "tag", Fields: []string{"color:string"}, Force: true}, templates.FS())
	apply(t, root, plan, err)
	if strings.Contains(readFile(t, root, "models/tag.go"), "// mine") {
		t.Error("add field --force kept the edited file")
	}
	if got := readFile(t, root, "models/tag.go"+OldFileSuffix); got != mine {
		t.Errorf("tag.go%s = %q, want the user's text", OldFileSuffix, got)
	}
	if s := stepOf(t, plan.Steps, "models/tag.go"); s.Action != ActionForce || !strings.Contains(s.Note, "tag.go"+OldFileSuffix) {
		t.Errorf("step = %v, want force naming the kept text", s)
	}
}

func TestCreateMigrationsMirrorTheModelsPerDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		db   string
		want []string
	}{
		{DBSQLite, []string{
			"CREATE TABLE `comments` (\n  `id` integer PRIMARY KEY AUTOINCREMENT,",
			"  `article_id` integer NOT NULL,",
			"  CONSTRAINT `fk_comments_article` FOREIGN KEY (`article_id`) REFERENCES `articles`(`id`)\n);",
			"CREATE INDEX `idx_comments_article_id` ON `comments` (`article_id`);",
			"-- +goose Down\nDROP TABLE `comments`;",
		}},
		{DBPostgres, []string{
			`CREATE TABLE "comments" (` + "\n" + `  "id" bigserial,`,
			`  "author" varchar(255) NOT NULL,`,
			`  PRIMARY KEY ("id"),`,
			`CREATE INDEX "idx_comments_article_id" ON "comments" ("article_id");`,
			"-- +goose Down\n" + `DROP TABLE "comments";`,
		}},
		{DBMySQL, []string{
			"  `id` bigint unsigned AUTO_INCREMENT,",
			"  `article_id` bigint unsigned NOT NULL,",
			"  `created_at` datetime(3) NULL,",
			"  INDEX `idx_comments_article_id` (`article_id`),",
			") DEFAULT CHARSET=utf8mb4;",
		}},
	} {
		t.Run(tc.db, func(t *testing.T) {
			root := newTestProjectOn(t, tc.db)
			for _, r := range blogResources() {
				addResource(t, root, r)
			}
			sql := readFile(t, root, "db/migrations/00003_create_comments.sql")
			for _, w := range tc.want {
				if !strings.Contains(sql, w) {
					t.Errorf("the comments migration lacks %q:\n%s", w, sql)
				}
			}
		})
	}
}

func TestMigrationsAreNumberedAfterTheNewest(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
	// A migration of the user's own, numbered by hand.
	if err := os.WriteFile(filepath.Join(root, "db", "migrations", "00007_seed.sql"), []byte("-- +goose Up\n-- +goose Down\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := addResource(t, root, ResourceOptions{Name: "note", Fields: []string{"body:text"}})
	if plan.Writes[0].Path != "db/migrations/00008_create_notes.sql" {
		t.Errorf("the next migration is %s, want version 8, after the newest", plan.Writes[0].Path)
	}
	// Never committed, but older than the user's migration: a database may have run both.
	destroyResource(t, root, DestroyOptions{Name: "tag", NeverCommitted: untracked})
	for _, p := range []string{"00001_create_tags.sql", "00009_drop_tags.sql"} {
		if _, err := os.Stat(filepath.Join(root, "db", "migrations", p)); err != nil {
			t.Errorf("after destroy resource tag: %v, want the create migration kept and a drop migration after the newest", err)
		}
	}
}
