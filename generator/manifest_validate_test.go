package generator

import (
	"strings"
	"testing"
)

// recordedManifest is a valid manifest with two resources, as add resource records them.
func recordedManifest() Manifest {
	sum := strings.Repeat("ab", 32)
	article := Resource{Name: "article", Plural: "articles",
		Fields:  []Field{{Name: "title", Type: TypeString}},
		Files:   []GeneratedFile{{Path: "models/article.go", SHA256: sum}},
		Inserts: []Insertion{{Path: "models/models.go", Marker: MarkerModels, Line: "&Article{},"}}}
	comment := Resource{Name: "comment", Plural: "comments",
		Fields: []Field{{Name: "article", Type: TypeReferences}},
		Files:  []GeneratedFile{{Path: "models/comment.go", SHA256: sum}},
		Inserts: []Insertion{{Path: "routers/api/v1/routes.go", Marker: MarkerRoutes,
			Line: `RegisterComments(api.Group("/comments"), db)`}}}
	return manifestWith(article, comment)
}

// renamedManifest is recordedManifest after gingen rename field article title headline and
// gingen rename resource article post, as the two commands record them.
func renamedManifest() Manifest {
	m := recordedManifest()
	sum := strings.Repeat("cd", 32)
	m.Resources[0].Fields[0].Name = "headline"
	m.Resources[0].FieldRenames = []FieldRename{{Field: "title:string", To: "headline", Migration: GeneratedFile{Path: "db/migrations/00003_rename_title_to_headline_in_articles.sql", SHA256: sum}}}
	m.Resources[0].Name, m.Resources[0].Plural = "post", "posts"
	m.Resources[0].ResourceRenames = []ResourceRename{{Name: "article", Plural: "articles", Fields: []string{"headline:string:unique"}, Migration: GeneratedFile{Path: "db/migrations/00004_rename_articles_to_posts.sql", SHA256: sum}}}
	m.Resources[1].Fields[0].Target = "post"
	return m
}

func TestParseManifestValidatesEveryKeyNamingIt(t *testing.T) {
	ok, err := recordedManifest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(ok); err != nil {
		t.Fatalf("a valid manifest: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Manifest)
		want []string // the key, then the problem or the fix
	}{
		{"an unknown strategy", func(m *Manifest) { m.Strategy = "forkk" }, []string{"key strategy:", `"forkk"`, "fork, supervisor, systemd"}},
		{"an unknown database", func(m *Manifest) { m.DB = "oracle" }, []string{"key db:", "sqlite, postgres, mysql"}},
		{"an unknown auth", func(m *Manifest) { m.Auth = "basic" }, []string{"key auth:", "jwt", "remove the key"}},
		{"an invalid module", func(m *Manifest) { m.Module = "my blog" }, []string{"key module:", "go.mod"}},
		{"a standard-library module", func(m *Manifest) { m.Module = "time" }, []string{"key module:", "standard library", "go.mod"}},
		{"an invalid name", func(m *Manifest) { m.Name = "my/blog" }, []string{"key name:", "not a path"}},
		{"port zero", func(m *Manifest) { m.Port = 0 }, []string{"key port:", "1 to 65535"}},
		{"a bad resource name", func(m *Manifest) { m.Resources[0].Name = "Article" }, []string{"key resources[0].name:", "snake_case"}},
		{"a bad plural", func(m *Manifest) { m.Resources[0].Plural = "" }, []string{"key resources[0].plural:", "e.g. articles"}},
		{"a duplicate resource", func(m *Manifest) { m.Resources[1].Name = "article" }, []string{"key resources[1]:", "recorded twice"}},
		{"a bad field type", func(m *Manifest) { m.Resources[0].Fields[0].Type = "varchar" }, []string{"key resources[0].fields[0]:", `unknown field type "varchar"`}},
		{"a reference to a resource recorded after", func(m *Manifest) { m.Resources[0], m.Resources[1] = m.Resources[1], m.Resources[0] }, []string{"key resources[0].fields[0]:", `references resource "article"`}},
		{"a file outside the project", func(m *Manifest) { m.Resources[0].Files[0].Path = "../outside/article.go" }, []string{"key resources[0].files[0].path:", "inside the project"}},
		{"an absolute file", func(m *Manifest) { m.Resources[0].Files[0].Path = "/etc/passwd" }, []string{"key resources[0].files[0].path:", "inside the project"}},
		{"the manifest as a file", func(m *Manifest) { m.Resources[0].Files[0].Path = ManifestName }, []string{"key resources[0].files[0].path:", "manifest itself"}},
		{"a bad digest", func(m *Manifest) { m.Resources[0].Files[0].SHA256 = "abc" }, []string{"key resources[0].files[0].sha256:", "SHA-256"}},
		{"an insert outside the project", func(m *Manifest) { m.Resources[1].Inserts[0].Path = "../x.go" }, []string{"key resources[1].inserts[0].path:", "inside the project"}},
		{"an unknown marker", func(m *Manifest) { m.Resources[1].Inserts[0].Marker = "gingen:other" }, []string{"key resources[1].inserts[0].marker:", "gingen:models or gingen:routes"}},
		{"an empty line", func(m *Manifest) { m.Resources[1].Inserts[0].Line = " " }, []string{"key resources[1].inserts[0].line:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := recordedManifest()
			tc.edit(&m)
			b, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseManifest(b)
			if err == nil {
				t.Fatal("ParseManifest accepted it")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, ManifestName+": ") {
				t.Errorf("message %q is not one line starting with %s: ", msg, ManifestName)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not mention %q", msg, w)
				}
			}
		})
	}
}

// TestParseManifestValidatesTheRenames: every key of field_renames and resource_renames is
// checked, a missing one too (it decodes as empty), with one line naming the key and the fix.
func TestParseManifestValidatesTheRenames(t *testing.T) {
	ok, err := renamedManifest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(ok); err != nil {
		t.Fatalf("a valid manifest with renames: %v", err)
	}
	const fr, rr = "key resources[0].field_renames[0].", "key resources[0].resource_renames[0]."
	for _, tc := range []struct {
		name string
		edit func(*Manifest)
		want []string
	}{
		{"a field rename without its field", func(m *Manifest) { m.Resources[0].FieldRenames[0].Field = "" }, []string{fr + "field:", "malformed field", "restore the field gingen rename field recorded"}},
		{"a field rename of a bad field", func(m *Manifest) { m.Resources[0].FieldRenames[0].Field = "title:varchar" }, []string{fr + "field:", `unknown field type "varchar"`}},
		{"a field rename without its new name", func(m *Manifest) { m.Resources[0].FieldRenames[0].To = "" }, []string{fr + "to:", "snake_case", "restore the name gingen rename field recorded"}},
		{"a field rename to a bad name", func(m *Manifest) { m.Resources[0].FieldRenames[0].To = "Head Line" }, []string{fr + "to:", `"Head Line"`}},
		{"a field rename without its migration", func(m *Manifest) { m.Resources[0].FieldRenames[0].Migration.Path = "" }, []string{fr + "migration.path:", "inside the project"}},
		{"a field rename's migration outside", func(m *Manifest) { m.Resources[0].FieldRenames[0].Migration.Path = "../x.sql" }, []string{fr + "migration.path:", "inside the project"}},
		{"a field rename's migration without its digest", func(m *Manifest) { m.Resources[0].FieldRenames[0].Migration.SHA256 = "" }, []string{fr + "migration.sha256:", "SHA-256", "gingen rename field recorded"}},
		{"a field rename's bad digest", func(m *Manifest) { m.Resources[0].FieldRenames[0].Migration.SHA256 = "xyz" }, []string{fr + "migration.sha256:", `"xyz"`}},
		{"a resource rename without its name", func(m *Manifest) { m.Resources[0].ResourceRenames[0].Name = "" }, []string{rr + "name:", "resource name is empty", "restore the name gingen rename resource recorded"}},
		{"a resource rename from a bad name", func(m *Manifest) { m.Resources[0].ResourceRenames[0].Name = "Article" }, []string{rr + "name:", "snake_case"}},
		{"a resource rename without its plural", func(m *Manifest) { m.Resources[0].ResourceRenames[0].Plural = "" }, []string{rr + "plural:", "restore the plural gingen rename resource recorded"}},
		{"a resource rename of a bad field", func(m *Manifest) { m.Resources[0].ResourceRenames[0].Fields[0] = "headline" }, []string{rr + "fields[0]:", "malformed field"}},
		{"a resource rename without its migration", func(m *Manifest) { m.Resources[0].ResourceRenames[0].Migration.Path = "" }, []string{rr + "migration.path:", "inside the project"}},
		{"a resource rename's migration as the manifest", func(m *Manifest) { m.Resources[0].ResourceRenames[0].Migration.Path = ManifestName }, []string{rr + "migration.path:", "manifest itself"}},
		{"a resource rename's bad digest", func(m *Manifest) { m.Resources[0].ResourceRenames[0].Migration.SHA256 = "12" }, []string{rr + "migration.sha256:", "gingen rename resource recorded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := renamedManifest()
			tc.edit(&m)
			b, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseManifest(b)
			if err == nil {
				t.Fatal("ParseManifest accepted it")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, ManifestName+": ") {
				t.Errorf("message %q is not one line starting with %s: ", msg, ManifestName)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not mention %q", msg, w)
				}
			}
		})
	}
	// A misspelt key of a rename is unknown, not ignored.
	for _, key := range []string{"field_renames", "resource_renames"} {
		b := strings.Replace(string(ok), "    "+key+":\n      - ", "    "+key+":\n      - migratoin: {}\n        ", 1)
		if b == string(ok) {
			t.Fatalf("no %s list in the manifest:\n%s", key, ok)
		}
		if _, err := ParseManifest([]byte(b)); err == nil || !strings.Contains(err.Error(), "unknown key migratoin") {
			t.Errorf("%s with a misspelt key: %v, want unknown key", key, err)
		}
	}
}

func TestParseManifestAcceptsReferencesToATarget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		auth    string
		field   Field
		wantErr string
	}{
		{"a target recorded before", AuthNone, Field{Name: "reply_to", Type: TypeReferences, Target: "article"}, ""},
		{"the users table of a jwt project", AuthJWT, Field{Name: "author", Type: TypeReferences, Target: "user"}, ""},
		{"the users table without jwt", AuthNone, Field{Name: "author", Type: TypeReferences, Target: "user"}, `references resource "user"`},
		{"a target never recorded", AuthJWT, Field{Name: "author", Type: TypeReferences, Target: "writer"}, `references resource "writer"`},
		{"the owner in a jwt project", AuthJWT, Field{Name: "owner", Type: TypeReferences, Target: "user", Modifiers: []string{ModOwner}}, ""},
		{"the owner without jwt", AuthNone, Field{Name: "owner", Type: TypeReferences, Target: "user", Modifiers: []string{ModOwner}}, "only projects made with --auth jwt"},
		{"an owner that is not a user", AuthJWT, Field{Name: "article", Type: TypeReferences, Modifiers: []string{ModOwner}}, "only a reference to the users table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := recordedManifest()
			m.Auth = tc.auth
			m.Resources[1].Fields = []Field{tc.field}
			b, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseManifest(b)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ParseManifest: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("ParseManifest = %v, want an error mentioning %s", err, tc.wantErr)
			}
		})
	}
}

func TestParseManifestRefusesASecondOwner(t *testing.T) {
	m := recordedManifest()
	m.Auth = AuthJWT
	owner := func(name string) Field {
		return Field{Name: name, Type: TypeReferences, Target: "user", Modifiers: []string{ModOwner}}
	}
	m.Resources[1].Fields = []Field{owner("owner"), owner("editor")}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(b); err == nil || !strings.Contains(err.Error(), "resources[1].fields[1]") || !strings.Contains(err.Error(), "a row has one owner") {
		t.Errorf("ParseManifest = %v, want the second owner refused by its key", err)
	}
}

func TestParseManifestRefusesUnknownKeysAndWrongTypesOnOneLine(t *testing.T) {
	ok, err := recordedManifest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{"a misspelt key", "\nstrategy: fork\n", "\nstrategy: fork\nstrategyy: systemd\n", []string{"gingen.yaml: line ", "unknown key strategyy", "fix its spelling"}},
		{"an unknown key in a resource", "    plural: articles\n", "    plural: articles\n    plurall: x\n", []string{"unknown key plurall"}},
		{"a port that is not a number", "\nport: 8000\n", "\nport: abc\n", []string{"gingen.yaml: line ", "`abc`"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := strings.Replace(string(ok), tc.from, tc.to, 1)
			if b == string(ok) {
				t.Fatalf("%q is not in the manifest:\n%s", tc.from, ok)
			}
			_, err := ParseManifest([]byte(b))
			if err == nil {
				t.Fatal("ParseManifest accepted it")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message spans lines: %q", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not mention %q", err, w)
				}
			}
		})
	}
}
