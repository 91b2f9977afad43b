package generator

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

func renameResource(t *testing.T, root string, opts RenameResourceOptions) Plan {
	t.Helper()
	plan, err := PlanRenameResource(os.DirFS(root), opts, templates.FS())
	if err != nil {
		t.Fatalf("plan rename resource %v: %v", opts, err)
	}
	if err := plan.Apply(root); err != nil {
		t.Fatalf("rename resource %v: %v", opts, err)
	}
	return plan
}

// articleAndComment is a project with article (migration 1) and comment, which references it
// (migration 2).
func articleAndComment(t *testing.T, db string) string {
	t.Helper()
	root := newTestProjectOn(t, db)
	addResource(t, root, ResourceOptions{Name: "article", Fields: []string{"title:string:unique", "body:text"}})
	addResource(t, root, ResourceOptions{Name: "comment", Fields: []string{"article:references", "text:text"}})
	return root
}

// TestRenameResourceWritesARenameMigrationPerDatabase renames article (referenced by
// comment) to post, then comment (with a foreign key of its own) to remark: each migration
// renames the table, the indexes and the foreign keys named after it as its database can,
// and its down reverses it; the earlier migrations stay byte for byte, an upgrade renders
// every migration again as it is on disk, and the code, routes and document use the new names.
func TestRenameResourceWritesARenameMigrationPerDatabase(t *testing.T) {
	t.Parallel()
	type parts struct{ up, down string }
	for db, want := range map[string][2]parts{
		DBSQLite: {
			{
				"ALTER TABLE `articles` RENAME TO `posts`;\nDROP INDEX `idx_articles_title`;\nCREATE UNIQUE INDEX `idx_posts_title` ON `posts` (`title`);",
				"ALTER TABLE `posts` RENAME TO `articles`;\nDROP INDEX `idx_posts_title`;\nCREATE UNIQUE INDEX `idx_articles_title` ON `articles` (`title`);",
			},
			{
				"ALTER TABLE `comments` RENAME TO `remarks`;\nDROP INDEX `idx_comments_article_id`;\nCREATE INDEX `idx_remarks_article_id` ON `remarks` (`article_id`);\n" +
					"PRAGMA writable_schema = ON;\nUPDATE sqlite_master SET sql = replace(sql, 'CONSTRAINT `fk_comments_article` ', 'CONSTRAINT `fk_remarks_article` ') WHERE type = 'table' AND name = 'remarks';\nPRAGMA writable_schema = RESET;",
				"ALTER TABLE `remarks` RENAME TO `comments`;\nDROP INDEX `idx_remarks_article_id`;\nCREATE INDEX `idx_comments_article_id` ON `comments` (`article_id`);\n" +
					"PRAGMA writable_schema = ON;\nUPDATE sqlite_master SET sql = replace(sql, 'CONSTRAINT `fk_remarks_article` ', 'CONSTRAINT `fk_comments_article` ') WHERE type = 'table' AND name = 'comments';\nPRAGMA writable_schema = RESET;",
			},
		},
		DBPostgres: {
			{
				`ALTER TABLE "articles" RENAME TO "posts";` + "\n" + `ALTER SEQUENCE "articles_id_seq" RENAME TO "posts_id_seq";` + "\n" + `ALTER INDEX "articles_pkey" RENAME TO "posts_pkey";` + "\n" + `ALTER INDEX "idx_articles_title" RENAME TO "idx_posts_title";`,
				`ALTER TABLE "posts" RENAME TO "articles";` + "\n" + `ALTER SEQUENCE "posts_id_seq" RENAME TO "articles_id_seq";` + "\n" + `ALTER INDEX "posts_pkey" RENAME TO "articles_pkey";` + "\n" + `ALTER INDEX "idx_posts_title" RENAME TO "idx_articles_title";`,
			},
			{
				`ALTER TABLE "comments" RENAME TO "remarks";` + "\n" + `ALTER SEQUENCE "comments_id_seq" RENAME TO "remarks_id_seq";` + "\n" + `ALTER INDEX "comments_pkey" RENAME TO "remarks_pkey";` + "\n" +
					`ALTER INDEX "idx_comments_article_id" RENAME TO "idx_remarks_article_id";` + "\n" + `ALTER TABLE "remarks" RENAME CONSTRAINT "fk_comments_article" TO "fk_remarks_article";`,
				`ALTER TABLE "remarks" RENAME TO "comments";` + "\n" + `ALTER SEQUENCE "remarks_id_seq" RENAME TO "comments_id_seq";` + "\n" + `ALTER INDEX "remarks_pkey" RENAME TO "comments_pkey";` + "\n" +
					`ALTER INDEX "idx_remarks_article_id" RENAME TO "idx_comments_article_id";` + "\n" + `ALTER TABLE "comments" RENAME CONSTRAINT "fk_remarks_article" TO "fk_comments_article";`,
			},
		},
		DBMySQL: {
			{
				"ALTER TABLE `articles` RENAME TO `posts`;\nALTER TABLE `posts` RENAME INDEX `idx_articles_title` TO `idx_posts_title`;",
				"ALTER TABLE `posts` RENAME TO `articles`;\nALTER TABLE `articles` RENAME INDEX `idx_posts_title` TO `idx_articles_title`;",
			},
			{
				"ALTER TABLE `comments` RENAME TO `remarks`;\nALTER TABLE `remarks` RENAME INDEX `idx_comments_article_id` TO `idx_remarks_article_id`;\n" +
					"ALTER TABLE `remarks` DROP FOREIGN KEY `fk_comments_article`;\nALTER TABLE `remarks` ADD CONSTRAINT `fk_remarks_article` FOREIGN KEY (`article_id`) REFERENCES `posts`(`id`);",
				"ALTER TABLE `remarks` RENAME TO `comments`;\nALTER TABLE `comments` RENAME INDEX `idx_remarks_article_id` TO `idx_comments_article_id`;\n" +
					"ALTER TABLE `comments` DROP FOREIGN KEY `fk_remarks_article`;\nALTER TABLE `comments` ADD CONSTRAINT `fk_comments_article` FOREIGN KEY (`article_id`) REFERENCES `posts`(`id`);",
			},
		},
	} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			root := articleAndComment(t, db)
			before := migrations(t, root)
			plan := renameResource(t, root, RenameResourceOptions{Old: "article", New: "post"})
			renameResource(t, root, RenameResourceOptions{Old: "comment", New: "remark"})

			after := migrations(t, root)
			for name, body := range before {
				if after[name] != body {
					t.Errorf("%s changed; a migration that may have run must stay as it is", name)
				}
			}
			for i, name := range []string{"00003_rename_articles_to_posts.sql", "00004_rename_comments_to_remarks.sql"} {
				mig, ok := after[name]
				if !ok {
					t.Fatalf("no %s; migrations: %v", name, keys(after))
				}
				up, down := gooseParts(t, mig)
				if up != want[i].up || down != want[i].down {
					t.Errorf("%s:\nup   %s\ndown %s\nwant\nup   %s\ndown %s", name, up, down, want[i].up, want[i].down)
				}
			}
			if header := readFile(t, root, MigrationsDir+"/00003_rename_articles_to_posts.sql"); !strings.HasPrefix(header, "-- Generated by `gingen rename resource article post`: renames the articles table of models.Article to posts (models.Post)") ||
				!strings.Contains(header, "`gingen rename resource post article` renames it back") {
				t.Errorf("the migration's header does not name the command and its undo:\n%s", header)
			}
			if notes := strings.Join(plan.Notes, "\n"); !strings.Contains(notes, "keeping its rows") || !strings.Contains(notes, "breaking change") || !strings.Contains(notes, "/api/v1/articles moves to /api/v1/posts") {
				t.Errorf("notes %q; want them to say the rows stay, the routes move and clients break", notes)
			}

			// The old files are gone, the new ones there; the registrations changed in place.
			for _, gone := range []string{"models/article.go", "routers/api/v1/article.go", "routers/api/v1/article_test.go", "models/comment.go"} {
				if _, err := os.Stat(root + "/" + gone); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s is still there", gone)
				}
			}
			if model := readFile(t, root, "models/post.go"); !strings.Contains(model, "type Post struct") {
				t.Errorf("models/post.go is not the Post model:\n%s", model)
			}
			remark := readFile(t, root, "models/remark.go")
			if !regexp.MustCompile(`(?m)^\s*ArticleID uint +`+"`"+`gorm:"column:article_id;`).MatchString(remark) || !regexp.MustCompile(`(?m)^\s*Article \*Post +`+"`"+`json:"article,omitempty"`).MatchString(remark) {
				t.Errorf("models/remark.go: the field keeps its name and column (ArticleID, article_id), the relation is a *Post:\n%s", remark)
			}
			if h := readFile(t, root, "routers/api/v1/remark.go"); !strings.Contains(h, `api.GET("/posts/:id/remarks"`) {
				t.Errorf("routers/api/v1/remark.go does not nest the remarks under /posts:\n%s", h)
			}
			models := readFile(t, root, "models/models.go")
			if strings.Contains(models, "&Article{}") || strings.Index(models, "&Post{},") > strings.Index(models, "&Remark{},") || !strings.Contains(models, "&Remark{},") {
				t.Errorf("models/models.go does not register Post then Remark in place of Article and Comment:\n%s", models)
			}
			routes := readFile(t, root, "routers/api/v1/routes.go")
			if !strings.Contains(routes, "RegisterPosts(api, db)") || strings.Contains(routes, "RegisterArticles") {
				t.Errorf("routes.go does not register the posts:\n%s", routes)
			}
			doc := readFile(t, root, OpenAPIPath)
			if !strings.Contains(doc, `"/api/v1/posts"`) || !strings.Contains(doc, `"/api/v1/posts/{id}/remarks"`) || strings.Contains(doc, "/api/v1/articles") || strings.Contains(doc, `"Article"`) {
				t.Error("the OpenAPI document does not serve posts and remarks only")
			}

			m := readManifestFile(t, root)
			post, _ := m.resource("post")
			rem, _ := m.resource("remark")
			if len(post.ResourceRenames) != 1 || post.ResourceRenames[0].Name != "article" || post.Migration != "db/migrations/00001_create_articles.sql" ||
				rem.Fields[0].String() != "article:references:post" || len(rem.ResourceRenames) != 1 || !slices.Equal(rem.ResourceRenames[0].Fields, []string{"article:references:post"}) {
				t.Errorf("gingen.yaml: post %+v, remark %+v", post, rem)
			}

			// An upgrade renders every file, migrations included, as it is on disk.
			up, err := PlanUpgrade(os.DirFS(root), UpgradeOptions{}, templates.FS(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range up.Steps {
				if s.Action != ActionIdentical {
					t.Errorf("upgrade after the renames: %s %s (%s); want everything identical", s.Action, s.Path, s.Note)
				}
			}
			// So does gingen new --force from the manifest: the same project, byte for byte.
			files, _, err := RenderProject(m, templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if f.Path != ManifestName && readFile(t, root, f.Path) != string(f.Body) {
					t.Errorf("%s rendered from gingen.yaml differs from the file the commands wrote", f.Path)
				}
			}

			// The resources are destroyed under their new names, the referencing one first.
			destroyResource(t, root, DestroyOptions{Name: "remark"})
			destroyResource(t, root, DestroyOptions{Name: "post"})
			last := migrations(t, root)
			if drop := last["00006_drop_posts.sql"]; !strings.Contains(drop, "DROP TABLE "+sqlDialect(db).quote("posts")+";") {
				t.Errorf("destroy resource post: 00006_drop_posts.sql\n%s\nwant it to drop posts; migrations %v", drop, keys(last))
			}
			for name, body := range after {
				if last[name] != body {
					t.Errorf("destroy changed %s", name)
				}
			}
		})
	}
}

// TestRenameResourceOnlyItsPlural: the same name with another --plural moves the table and
// the routes; the files stay where they are.
func TestRenameResourceOnlyItsPlural(t *testing.T) {
	t.Parallel()
	root := newTestProjectOn(t, DBSQLite)
	addResource(t, root, ResourceOptions{Name: "person", Fields: []string{"name:string"}})
	renameResource(t, root, RenameResourceOptions{Old: "person", New: "person", Plural: "persons"})
	if _, ok := migrations(t, root)["00002_rename_people_to_persons.sql"]; !ok {
		t.Fatalf("no rename migration: %v", keys(migrations(t, root)))
	}
	if routes := readFile(t, root, "routers/api/v1/routes.go"); !strings.Contains(routes, "RegisterPersons(api, db)") || strings.Contains(routes, "RegisterPeople") {
		t.Errorf("routes.go:\n%s", routes)
	}
	if m := readFile(t, root, "db/migrations/00002_rename_people_to_persons.sql"); !strings.Contains(m, "`gingen rename resource person person --plural persons`") {
		t.Errorf("the migration does not name the command with its --plural:\n%s", m)
	}
}

// TestRenameResourceRefusesBadInput: each refusal is one input error naming the fix, and
// nothing is written.
func TestRenameResourceRefusesBadInput(t *testing.T) {
	t.Parallel()
	root := newTestProjectOn(t, DBSQLite)
	addResource(t, root, ResourceOptions{Name: "article", Fields: []string{"title:string", "body:text"}})
	addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
	jwt := filepath.Join(t.TempDir(), "jwtblog")
	{
		opts := Options{Name: "jwtblog", Port: DefaultPort, DB: DBSQLite, Auth: AuthJWT}
		opts.Normalize()
		files, err := PlanProject(opts, templates.FS())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := WriteProject(jwt, files, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		addResource(t, jwt, ResourceOptions{Name: "note", Fields: []string{"author:references:user", "body:text"}})
	}
	edited := newTestProjectOn(t, DBSQLite)
	addResource(t, edited, ResourceOptions{Name: "article", Fields: []string{"title:string"}})
	addResource(t, edited, ResourceOptions{Name: "comment", Fields: []string{"article:references"}})
	editLine(t, edited+"/models/comment.go", "*Article")
	before := map[string]map[string]string{root: snapshot(t, root), jwt: snapshot(t, jwt), edited: snapshot(t, edited)}
	for name, tc := range map[string]struct {
		root string
		opts RenameResourceOptions
		want string
	}{
		"no such resource":           {root, RenameResourceOptions{Old: "post", New: "x"}, `no resource "post" in gingen.yaml; it records article, tag, e.g. gingen rename resource article post`},
		"the same name":              {root, RenameResourceOptions{Old: "article", New: "article"}, "resource article already has that name; give another, e.g. gingen rename resource article article_new"},
		"the same name and plural":   {root, RenameResourceOptions{Old: "article", New: "article", Plural: "articles"}, "already has that name"},
		"a name taken":               {root, RenameResourceOptions{Old: "article", New: "tag"}, `resource "tag" already exists`},
		"a plural taken":             {root, RenameResourceOptions{Old: "article", New: "label", Plural: "tags"}, "would share routes or names with resource \"tag\""},
		"a bad name":                 {root, RenameResourceOptions{Old: "article", New: "Blog-Post"}, "invalid resource name \"Blog-Post\": use a singular snake_case name"},
		"an empty name":              {root, RenameResourceOptions{Old: "article", New: " "}, "resource name is empty"},
		"a plural name":              {root, RenameResourceOptions{Old: "article", New: "posts"}, "looks plural"},
		"a bad plural":               {root, RenameResourceOptions{Old: "article", New: "post", Plural: "Posts!"}, "invalid --plural"},
		"a test file name":           {root, RenameResourceOptions{Old: "article", New: "post_test"}, "ends in _test"},
		"a clash with models.Open":   {root, RenameResourceOptions{Old: "article", New: "open"}, "would declare Open"},
		"the users table":            {jwt, RenameResourceOptions{Old: "user", New: "member"}, "user is the users table of --auth jwt, not a resource"},
		"to the users table":         {jwt, RenameResourceOptions{Old: "note", New: "user"}, "is the users table of --auth jwt"},
		"an edited referencing file": {edited, RenameResourceOptions{Old: "article", New: "post"}, "models/comment.go was edited since gingen generated it for resource comment, and rename resource cannot merge the edits"},
		"a route of the jwt auth":    {jwt, RenameResourceOptions{Old: "note", New: "me", Plural: "me"}, "GET /api/v1/me"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := PlanRenameResource(os.DirFS(tc.root), tc.opts, templates.FS())
			var input *InputError
			if !errors.As(err, &input) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("PlanRenameResource(%+v) = %v; want one input error with %q", tc.opts, err, tc.want)
			}
		})
	}
	for dir, files := range before {
		after := snapshot(t, dir)
		if len(after) != len(files) {
			t.Errorf("a refused rename changed %s", dir)
		}
		for p, body := range files {
			if after[p] != body {
				t.Errorf("a refused rename changed %s", p)
			}
		}
	}
	// --force overwrites the edited file of the referencing resource.
	if _, err := PlanRenameResource(os.DirFS(edited), RenameResourceOptions{Old: "article", New: "post", Force: true}, templates.FS()); err != nil {
		t.Errorf("rename resource --force over an edited file: %v", err)
	}
}

// TestRenameResourceHistoryRendersAsWritten: renames chained with the other commands (a
// field added before, a name given up and taken again by a new resource, a rename back)
// leave every migration as it was written: an upgrade changes nothing, and the migrations
// of later commands use the names of their time.
func TestRenameResourceHistoryRendersAsWritten(t *testing.T) {
	t.Parallel()
	root := articleAndComment(t, DBPostgres)
	plan, err := PlanAddField(os.DirFS(root), FieldOptions{Resource: "article", Fields: []string{"rating:int:index"}}, templates.FS())
	apply(t, root, plan, err)
	renameResource(t, root, RenameResourceOptions{Old: "article", New: "post"})                    // 4
	addResource(t, root, ResourceOptions{Name: "article", Fields: []string{"name:string:unique"}}) // 5: the name again
	addResource(t, root, ResourceOptions{Name: "link", Fields: []string{"article:references", "post:references"}})
	renameResource(t, root, RenameResourceOptions{Old: "post", New: "entry", Plural: "entries"}) // 7
	renameResource(t, root, RenameResourceOptions{Old: "entry", New: "post"})                    // 8: back
	renameField(t, root, RenameFieldOptions{Resource: "post", Old: "rating", New: "stars"})      // 9

	got := migrations(t, root)
	for name, want := range map[string][]string{
		"00003_add_rating_to_articles.sql":          {`ALTER TABLE "articles" ADD COLUMN "rating" bigint NOT NULL DEFAULT 0;`, `CREATE INDEX "idx_articles_rating" ON "articles" ("rating");`},
		"00004_rename_articles_to_posts.sql":        {`ALTER INDEX "idx_articles_rating" RENAME TO "idx_posts_rating";`, "`gingen rename resource article post`"},
		"00005_create_articles.sql":                 {`CREATE TABLE "articles" (`, `"name" varchar(255) NOT NULL`},
		"00006_create_links.sql":                    {`REFERENCES "articles"("id")`, `REFERENCES "posts"("id")`, "`gingen add resource link article:references post:references`"},
		"00007_rename_posts_to_entries.sql":         {`ALTER TABLE "posts" RENAME TO "entries";`, "`gingen rename resource post entry`:", "`gingen rename resource entry post` renames it back"},
		"00008_rename_entries_to_posts.sql":         {`ALTER TABLE "entries" RENAME TO "posts";`, `ALTER INDEX "idx_entries_rating" RENAME TO "idx_posts_rating";`},
		"00009_rename_rating_to_stars_in_posts.sql": {`ALTER TABLE "posts" RENAME COLUMN "rating" TO "stars";`},
	} {
		body, ok := got[name]
		if !ok {
			t.Errorf("no %s; migrations %v", name, keys(got))
			continue
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not say %s:\n%s", name, w, body)
			}
		}
	}
	m := readManifestFile(t, root)
	link, _ := m.resource("link")
	if link.Fields[0].String() != "article:references" || link.Fields[1].String() != "post:references" {
		t.Errorf("link's fields %v: want article (the new resource) and post", link.Fields)
	}
	up, err := PlanUpgrade(os.DirFS(root), UpgradeOptions{}, templates.FS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range up.Steps {
		if s.Action != ActionIdentical {
			t.Errorf("upgrade after the renames: %s %s (%s); want everything identical", s.Action, s.Path, s.Note)
		}
	}
}

// TestRenameResourceMovesItsOutboxEvents: renaming a resource added with --events moves its
// outbox rows to the new plural, so the stream under the new name replays them and clients
// resume with the ids they have; the down moves them back, and an upgrade renders the
// migration again as written.
func TestRenameResourceMovesItsOutboxEvents(t *testing.T) {
	t.Parallel()
	for _, db := range Databases() {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			root := newTestProjectOn(t, db)
			addResource(t, root, ResourceOptions{Name: "note", Fields: []string{"title:string"}, Events: true})
			addResource(t, root, ResourceOptions{Name: "page", Fields: []string{"title:string"}})
			renameResource(t, root, RenameResourceOptions{Old: "note", New: "memo"})
			renameResource(t, root, RenameResourceOptions{Old: "page", New: "leaf"})
			q := sqlDialect(db).quote
			after := migrations(t, root)
			var withEvents, without string
			for name, body := range after {
				switch {
				case strings.Contains(name, "_rename_notes_to_memos"):
					withEvents = body
				case strings.Contains(name, "_rename_pages_to_leaves"):
					without = body
				}
			}
			up, down := gooseParts(t, withEvents)
			wantUp := "UPDATE " + q("outbox_events") + " SET " + q("resource") + " = 'memos' WHERE " + q("resource") + " = 'notes';"
			wantDown := "UPDATE " + q("outbox_events") + " SET " + q("resource") + " = 'notes' WHERE " + q("resource") + " = 'memos';"
			if !strings.HasSuffix(up, wantUp) || !strings.HasSuffix(down, wantDown) {
				t.Errorf("rename of notes (with events):\nup   %s\ndown %s\nwant them to end with\n%s\n%s", up, down, wantUp, wantDown)
			}
			if strings.Contains(without, "outbox_events") {
				t.Errorf("rename of pages (no events) touches the outbox:\n%s", without)
			}
			plan, err := PlanUpgrade(os.DirFS(root), UpgradeOptions{}, templates.FS(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range plan.Steps {
				if s.Action != ActionIdentical {
					t.Errorf("upgrade after the renames: %s %s (%s); want everything identical", s.Action, s.Path, s.Note)
				}
			}
		})
	}
}
