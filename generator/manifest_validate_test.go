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
