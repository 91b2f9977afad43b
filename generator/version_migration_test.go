package generator

import (
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

// A resource added before gingen versioned rows keeps its create migration as it was (a
// database may have run it) and gets the version column from a migration of its own,
// numbered after every other, written once: rendering the project again keeps it as it is.
func TestAResourceAddedBeforeVersioningGetsItsVersionColumnFromAMigrationOfItsOwn(t *testing.T) {
	for _, db := range []string{DBSQLite, DBPostgres, DBMySQL} {
		t.Run(db, func(t *testing.T) {
			files, err := PlanProject(Options{Name: "myblog", Module: "myblog", Strategy: StrategyFork, DB: db, Auth: AuthNone, Port: 8000}, templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []ResourceOptions{
				{Name: "article", Fields: []string{"title:string", "views:int"}},
				{Name: "tag", Fields: []string{"name:string:unique"}},
			} {
				plan, err := PlanAddResource(memFS(files), r, templates.FS())
				if err != nil {
					t.Fatal(err)
				}
				files = applyInMemory(files, plan)
			}
			m := parsedManifest(t, files)
			created := map[string][]byte{}
			for i, r := range m.Resources {
				if !r.Versioned || r.VersionMigration != "" {
					t.Fatalf("resource %s added now: versioned %v, version_migration %q; want its create migration to version it", r.Name, r.Versioned, r.VersionMigration)
				}
				created[r.Migration] = fileBody(t, files, r.Migration)
				if !strings.Contains(string(created[r.Migration]), "version") {
					t.Errorf("%s has no version column:\n%s", r.Migration, created[r.Migration])
				}
				// As an earlier gingen recorded it, with the table it created then.
				m.Resources[i].Versioned = false
				old, err := createMigration(templates.FS(), m, m.Resources[i], r.Migration, false)
				if err != nil {
					t.Fatal(err)
				}
				created[r.Migration] = old.Body
			}

			rendered, next, err := RenderProject(m, templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"article": "db/migrations/00003_add_version_to_articles.sql", "tag": "db/migrations/00004_add_version_to_tags.sql"}
			for _, r := range next.Resources {
				if r.VersionMigration != want[r.Name] || r.Versioned {
					t.Errorf("resource %s: version_migration %q, versioned %v; want %q, false", r.Name, r.VersionMigration, r.Versioned, want[r.Name])
				}
				if got := fileBody(t, rendered, r.Migration); string(got) != string(created[r.Migration]) {
					t.Errorf("%s was rewritten:\n%s\nwant\n%s", r.Migration, got, created[r.Migration])
				}
				body := string(fileBody(t, rendered, r.VersionMigration))
				column := sqlDialect(db).versionColumn()
				if !strings.Contains(body, "ADD COLUMN "+column+";") || !strings.Contains(body, "DROP COLUMN") {
					t.Errorf("%s does not add %s and drop it on down:\n%s", r.VersionMigration, column, body)
				}
				recorded := false
				for _, g := range r.Files {
					recorded = recorded || g.Path == r.VersionMigration
				}
				if !recorded {
					t.Errorf("resource %s does not record %s among its files", r.Name, r.VersionMigration)
				}
			}

			again, _, err := RenderProject(next, templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			if len(again) != len(rendered) {
				t.Errorf("a second render has %d files, the first %d: the version migrations must be written once", len(again), len(rendered))
			}
			for _, r := range next.Resources {
				if string(fileBody(t, again, r.VersionMigration)) != string(fileBody(t, rendered, r.VersionMigration)) {
					t.Errorf("%s differs between two renders", r.VersionMigration)
				}
			}

			// The commands that write a resource's files again never touch its migrations:
			// the version migration stays, on disk and among the resource's files.
			for name, plan := range map[string]func() (Plan, error){
				"add field": func() (Plan, error) {
					return PlanAddField(memFS(rendered), FieldOptions{Resource: "article", Fields: []string{"rating:int"}}, templates.FS())
				},
				"rename field": func() (Plan, error) {
					return PlanRenameField(memFS(rendered), RenameFieldOptions{Resource: "article", Old: "views", New: "hits"}, templates.FS())
				},
				"rename resource": func() (Plan, error) {
					return PlanRenameResource(memFS(rendered), RenameResourceOptions{Old: "article", New: "post"}, templates.FS())
				},
			} {
				p, err := plan()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for _, d := range p.Deletes {
					if d == want["article"] {
						t.Errorf("%s deletes %s", name, d)
					}
				}
				after := parsedManifest(t, applyInMemory(rendered, p))
				kept := false
				for _, r := range after.Resources {
					for _, g := range r.Files {
						kept = kept || g.Path == want["article"]
					}
				}
				if !kept {
					t.Errorf("after %s, gingen.yaml no longer records %s", name, want["article"])
				}
			}
		})
	}
}

func parsedManifest(t *testing.T, files []File) Manifest {
	t.Helper()
	m, err := ParseManifest(fileBody(t, files, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fileBody(t *testing.T, files []File, p string) []byte {
	t.Helper()
	for _, f := range files {
		if f.Path == p {
			return f.Body
		}
	}
	t.Fatalf("no %s among the files", p)
	return nil
}
