package generator

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

func renameField(t *testing.T, root string, opts RenameFieldOptions) Plan {
	t.Helper()
	plan, err := PlanRenameField(os.DirFS(root), opts, templates.FS())
	if err != nil {
		t.Fatalf("plan rename field %v: %v", opts, err)
	}
	if err := plan.Apply(root); err != nil {
		t.Fatalf("rename field %v: %v", opts, err)
	}
	return plan
}

// TestRenameFieldWritesARenameMigrationPerDatabase: the migration renames the column and
// its index as each database can (SQLite drops and creates the index), its down reverses
// it; the model, handlers and OpenAPI document say the new name; the earlier migrations are
// untouched, and an upgrade renders them again byte for byte (it would otherwise rewrite a
// migration databases ran with the new name).
func TestRenameFieldWritesARenameMigrationPerDatabase(t *testing.T) {
	for db, want := range map[string]struct{ up, down string }{
		DBSQLite: {
			"ALTER TABLE `articles` RENAME COLUMN `title` TO `headline`;\nDROP INDEX `idx_articles_title`;\nCREATE UNIQUE INDEX `idx_articles_headline` ON `articles` (`headline`);",
			"ALTER TABLE `articles` RENAME COLUMN `headline` TO `title`;\nDROP INDEX `idx_articles_headline`;\nCREATE UNIQUE INDEX `idx_articles_title` ON `articles` (`title`);",
		},
		DBPostgres: {
			`ALTER TABLE "articles" RENAME COLUMN "title" TO "headline";` + "\n" + `ALTER INDEX "idx_articles_title" RENAME TO "idx_articles_headline";`,
			`ALTER TABLE "articles" RENAME COLUMN "headline" TO "title";` + "\n" + `ALTER INDEX "idx_articles_headline" RENAME TO "idx_articles_title";`,
		},
		DBMySQL: {
			"ALTER TABLE `articles` RENAME COLUMN `title` TO `headline`;\nALTER TABLE `articles` RENAME INDEX `idx_articles_title` TO `idx_articles_headline`;",
			"ALTER TABLE `articles` RENAME COLUMN `headline` TO `title`;\nALTER TABLE `articles` RENAME INDEX `idx_articles_headline` TO `idx_articles_title`;",
		},
	} {
		t.Run(db, func(t *testing.T) {
			root := newTestProjectOn(t, db)
			addResource(t, root, ResourceOptions{Name: "article", Fields: []string{"title:string:unique", "body:text"}})
			plan, err := PlanAddField(os.DirFS(root), FieldOptions{Resource: "article", Fields: []string{"rating:int"}}, templates.FS())
			apply(t, root, plan, err)
			before := migrations(t, root)
			plan = renameField(t, root, RenameFieldOptions{Resource: "article", Old: "title", New: "headline"})
			renameField(t, root, RenameFieldOptions{Resource: "article", Old: "rating", New: "stars"})

			after := migrations(t, root)
			for name, body := range before {
				if after[name] != body {
					t.Errorf("%s changed; a migration that may have run must stay as it is", name)
				}
			}
			mig, ok := after["00003_rename_title_to_headline_in_articles.sql"]
			if !ok {
				t.Fatalf("no rename migration; migrations: %v", keys(after))
			}
			up, down := gooseParts(t, mig)
			if up != want.up || down != want.down {
				t.Errorf("rename migration:\nup   %s\ndown %s\nwant\nup   %s\ndown %s", up, down, want.up, want.down)
			}
			if _, ok := after["00004_rename_rating_to_stars_in_articles.sql"]; !ok {
				t.Errorf("no migration for the second rename; migrations: %v", keys(after))
			}
			if notes := strings.Join(plan.Notes, "\n"); !strings.Contains(notes, "keeping its values") || !strings.Contains(notes, "breaking change") {
				t.Errorf("notes %q; want them to say the values stay and clients break", notes)
			}
			model := mustRead(t, root+"/models/article.go")
			if !strings.Contains(string(model), "Headline ") || strings.Contains(string(model), "Title ") || !strings.Contains(string(model), "Stars ") {
				t.Errorf("models/article.go does not say Headline and Stars only:\n%s", model)
			}
			if doc := string(mustRead(t, root+"/"+OpenAPIPath)); !strings.Contains(doc, `"headline": {`) || strings.Contains(doc, `"title": {`) || strings.Contains(doc, `"title",`) {
				t.Error("the OpenAPI document does not name the field headline only")
			}
			m := readManifestFile(t, root)
			res, _ := m.resource("article")
			if len(res.FieldRenames) != 2 || res.FieldChanges[0].Fields[0] != "stars" {
				t.Errorf("gingen.yaml: renames %v, field changes %v; want both renames and the added field under its new name", res.FieldRenames, res.FieldChanges)
			}

			// An upgrade renders every migration again as it is on disk.
			up2, err := PlanUpgrade(os.DirFS(root), UpgradeOptions{}, templates.FS(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range up2.Steps {
				if s.Action != ActionIdentical {
					t.Errorf("upgrade after the renames: %s %s (%s); want everything identical", s.Action, s.Path, s.Note)
				}
			}
			// destroy field knows the added field by its new name, and its drop migration uses it.
			p, err := PlanDestroyField(os.DirFS(root), DestroyFieldOptions{Resource: "article", Names: []string{"stars"}}, templates.FS())
			if err != nil {
				t.Fatalf("destroy field stars after the rename: %v", err)
			}
			for _, w := range p.Writes {
				if strings.Contains(w.Path, "drop_stars") && !strings.Contains(string(w.Body), "stars") {
					t.Errorf("%s does not drop stars:\n%s", w.Path, w.Body)
				}
			}
		})
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRenameFieldRefusesBadInput: each refusal is one input error naming the fix, and
// nothing is written.
func TestRenameFieldRefusesBadInput(t *testing.T) {
	root := newTestProjectOn(t, DBSQLite)
	addResource(t, root, ResourceOptions{Name: "article", Fields: []string{"title:string", "body:text"}})
	addResource(t, root, ResourceOptions{Name: "comment", Fields: []string{"article:references", "text:text"}})
	before := snapshot(t, root)
	for name, tc := range map[string]struct {
		opts RenameFieldOptions
		want string
	}{
		"no such resource":  {RenameFieldOptions{Resource: "post", Old: "title", New: "x"}, `no resource "post" in gingen.yaml`},
		"no such field":     {RenameFieldOptions{Resource: "article", Old: "tittle", New: "x"}, `resource article has no field "tittle"; its fields: title, body, e.g. gingen rename field article title NEW`},
		"the same name":     {RenameFieldOptions{Resource: "article", Old: "title", New: "title"}, "already has that name"},
		"a taken name":      {RenameFieldOptions{Resource: "article", Old: "title", New: "body"}, "body"},
		"a bad name":        {RenameFieldOptions{Resource: "article", Old: "title", New: "Head-Line"}, "snake_case"},
		"a generated name":  {RenameFieldOptions{Resource: "article", Old: "title", New: "id"}, "generated for every resource"},
		"a reference field": {RenameFieldOptions{Resource: "comment", Old: "article", New: "post"}, "is a reference"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := PlanRenameField(os.DirFS(root), tc.opts, templates.FS())
			var input *InputError
			if !errors.As(err, &input) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("PlanRenameField(%v) = %v; want one input error with %q", tc.opts, err, tc.want)
			}
		})
	}
	if after := snapshot(t, root); len(after) != len(before) {
		t.Error("a refused rename changed the project")
	}
}
