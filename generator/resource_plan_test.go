package generator

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

// newTestProject writes a fresh project, as gingen new does, and returns its root.
func newTestProject(t *testing.T) string {
	t.Helper()
	return newTestProjectWith(t, Options{Name: "myblog", Port: DefaultPort})
}

// newTestProjectWith writes a fresh project made with opts, as gingen new does, and returns
// its root.
func newTestProjectWith(t *testing.T, opts Options) string {
	t.Helper()
	opts.Normalize()
	files, err := PlanProject(opts, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "myblog")
	if _, err := WriteProject(root, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return root
}

// snapshot reads every file under root, with its mode, keyed by slash-separated path.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[filepath.ToSlash(rel)+"/"] = info.Mode().String()
			return nil
		}
		body, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = info.Mode().String() + "\n" + string(body)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree reports every difference between two snapshots.
func sameTree(t *testing.T, want, got map[string]string) {
	t.Helper()
	for _, p := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("missing: %s", p)
		case g != want[p]:
			t.Errorf("differs: %s\n--- want\n%s\n--- got\n%s", p, want[p], g)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected: %s", p)
		}
	}
}

func addResource(t *testing.T, root string, opts ResourceOptions) Plan {
	t.Helper()
	plan, err := PlanAddResource(os.DirFS(root), opts, templates.FS())
	if err != nil {
		t.Fatalf("plan add %s: %v", opts.Name, err)
	}
	if err := plan.Apply(root); err != nil {
		t.Fatalf("add %s: %v", opts.Name, err)
	}
	return plan
}

func destroyResource(t *testing.T, root string, opts DestroyOptions) Plan {
	t.Helper()
	plan, err := PlanDestroyResource(os.DirFS(root), opts, templates.FS())
	if err != nil {
		t.Fatalf("plan destroy %s: %v", opts.Name, err)
	}
	if err := plan.Apply(root); err != nil {
		t.Fatalf("destroy %s: %v", opts.Name, err)
	}
	return plan
}

func blogResources() []ResourceOptions {
	return []ResourceOptions{
		{Name: "article", Fields: []string{"title:string", "body:text", "published:bool", "views:int", "published_at:time"}},
		{Name: "tag", Fields: []string{"name:string:unique"}},
		{Name: "comment", Fields: []string{"article:references", "author:string", "body:text"}},
	}
}

func TestAddThenDestroyLeavesTheProjectByteIdentical(t *testing.T) {
	root := newTestProject(t)
	before := snapshot(t, root)
	var afterEach []map[string]string
	for _, r := range blogResources() {
		addResource(t, root, r)
		afterEach = append(afterEach, snapshot(t, root))
	}
	if _, err := os.Stat(filepath.Join(root, "routers", "api", "v1", "comment_test.go")); err != nil {
		t.Fatalf("add did not create the resource's test: %v", err)
	}
	// Destroy in reverse: after each, the tree is what it was before that resource's add.
	for i := len(blogResources()) - 1; i >= 0; i-- {
		destroyResource(t, root, DestroyOptions{Name: blogResources()[i].Name, NeverCommitted: untracked})
		want := before
		if i > 0 {
			want = afterEach[i-1]
		}
		sameTree(t, want, snapshot(t, root))
	}
}

func TestAddKeepsUserEditsAroundTheMarkers(t *testing.T) {
	root := newTestProject(t)
	routes := filepath.Join(root, "routers", "api", "v1", "routes.go")
	src, err := os.ReadFile(routes)
	if err != nil {
		t.Fatal(err)
	}
	custom := "\tapi.GET(\"/hello\", func(c *gin.Context) { c.String(200, \"hi\") }) // my route\n"
	edited := strings.Replace(string(src), "\t// gingen:routes\n", custom+"\t// gingen:routes\n\t// my note below the marker\n", 1)
	if edited == string(src) {
		t.Fatal("routes.go has no marker line to edit around")
	}
	if err := os.WriteFile(routes, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	addResource(t, root, blogResources()[0])
	got, err := os.ReadFile(routes)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(edited, "\t// gingen:routes\n", "\tRegisterArticles(api, db)\n\t// gingen:routes\n", 1)
	if string(got) != want {
		t.Errorf("routes.go after add:\n%s\nwant the custom route and note kept:\n%s", got, want)
	}

	destroyResource(t, root, DestroyOptions{Name: "article"})
	if got, _ := os.ReadFile(routes); string(got) != edited {
		t.Errorf("routes.go after destroy:\n%s\nwant the user's version back:\n%s", got, edited)
	}
}

func TestAddRefusesBadInputAndWritesNothing(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, blogResources()[0])
	mine := "package v1\n\n// RegisterPosts is the user's own.\nfunc RegisterPosts() {}\n"
	if err := os.WriteFile(filepath.Join(root, "routers", "api", "v1", "mine.go"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	for _, tc := range []struct {
		name string
		opts ResourceOptions
		want []string
	}{
		{"an existing resource", blogResources()[0], []string{`resource "article" already exists`}},
		{"an unknown type", ResourceOptions{Name: "tag", Fields: []string{"name:varchar"}}, []string{`unknown field type "varchar"`}},
		{"a bad name", ResourceOptions{Name: "Tag"}, []string{`invalid resource name "Tag"`}},
		{"a malformed field", ResourceOptions{Name: "tag", Fields: []string{"name"}}, []string{`malformed field "name"`}},
		{"a name whose files exist", ResourceOptions{Name: "response"}, []string{"routers/api/v1/response.go already exists", "pick another resource name"}},
		{"a name whose type the package declares", ResourceOptions{Name: "open"}, []string{"would declare Open in models/open.go", "models/models.go already declares"}},
		{"a name whose functions the user declared", ResourceOptions{Name: "post"}, []string{"would declare RegisterPosts in routers/api/v1/post.go", "routers/api/v1/mine.go already declares"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PlanAddResource(os.DirFS(root), tc.opts, templates.FS())
			wantInputError(t, err, tc.want...)
			sameTree(t, before, snapshot(t, root))
		})
	}
}

func TestAddNamesTheFileWhoseMarkerIsGone(t *testing.T) {
	root := newTestProject(t)
	models := filepath.Join(root, "models", "models.go")
	src, err := os.ReadFile(models)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(models, bytes.Replace(src, []byte("// gingen:models"), []byte("// (removed)"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	_, err = PlanAddResource(os.DirFS(root), blogResources()[0], templates.FS())
	wantInputError(t, err, "models/models.go has no `// gingen:models` marker", "inside the []any{...} list that func All returns")
	sameTree(t, before, snapshot(t, root))
}

// A resource registered by hand away from the marker is not registered a second time (gin
// panics at start on a route registered twice): add stops, naming the line; registered right
// above the marker, where add puts it, the line is taken as it is.
func TestAddRefusesARegistrationWrittenAwayFromTheMarker(t *testing.T) {
	root := newTestProject(t)
	routes := filepath.Join(root, "routers", "api", "v1", "routes.go")
	src, err := os.ReadFile(routes)
	if err != nil {
		t.Fatal(err)
	}
	// Far from the marker, so that the merge would take both lines without a conflict.
	away := append(slices.Clone(src), "\n// registerMine is called by hand.\nfunc registerMine(api *gin.RouterGroup, db *gorm.DB) {\n\tRegisterArticles(api, db)\n}\n"...)
	if err := os.WriteFile(routes, away, 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	_, err = PlanAddResource(os.DirFS(root), blogResources()[0], templates.FS())
	wantInputError(t, err, "routers/api/v1/routes.go already has the line `RegisterArticles(api, db)`", "away from the `// gingen:routes` marker", "registered twice", "delete your line")
	sameTree(t, before, snapshot(t, root))

	above := bytes.Replace(src, []byte("\t// gingen:routes\n"), []byte("\tRegisterArticles(api, db)\n\t// gingen:routes\n"), 1)
	if err := os.WriteFile(routes, above, 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanAddResource(os.DirFS(root), blogResources()[0], templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range plan.Writes {
		if w.Path == "routers/api/v1/routes.go" {
			t.Errorf("routes.go rewritten though it registers the resource where add would:\n%s", w.Body)
		}
	}
}

func TestAddWorksTheSameInEveryStrategy(t *testing.T) {
	for _, strategy := range Strategies() {
		t.Run(strategy, func(t *testing.T) {
			opts := Options{Name: "myblog", Strategy: strategy, Port: DefaultPort}
			opts.Normalize()
			files, err := PlanProject(opts, templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			plan, err := PlanAddResource(memFS(files), blogResources()[0], templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, s := range plan.Steps {
				paths = append(paths, string(s.Action)+" "+s.Path)
			}
			want := []string{
				"create db/migrations/00001_create_articles.sql", "create models/article.go", "create routers/api/v1/article.go", "create routers/api/v1/article_test.go",
				"create routers/api/v1/article_write_test.go", "insert models/models.go", "insert routers/api/v1/routes.go", "update gingen.yaml",
				"update " + OpenAPIPath,
			}
			if !slices.Equal(paths, want) {
				t.Errorf("steps = %v, want %v", paths, want)
			}
		})
	}
}

func TestAddRecordsTheResourceInTheManifest(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "person", Fields: []string{"name:string:unique", "age:int"}})
	b, err := os.ReadFile(filepath.Join(root, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Resources) != 1 {
		t.Fatalf("resources = %+v, want one", m.Resources)
	}
	r := m.Resources[0]
	if r.Name != "person" || r.Plural != "people" || len(r.Fields) != 2 || !r.Fields[0].Has(ModUnique) {
		t.Errorf("recorded %+v, want person/people with its two fields", r)
	}
	for _, g := range r.Files {
		body, err := os.ReadFile(filepath.Join(root, g.Path))
		if err != nil || digest(body) != g.SHA256 {
			t.Errorf("%s: recorded digest %s does not match the file (%v)", g.Path, g.SHA256, err)
		}
	}
	if len(r.Inserts) != 2 || r.Inserts[1].Line != `RegisterPeople(api, db)` {
		t.Errorf("inserts = %+v", r.Inserts)
	}
}

func TestFindProjectRootLooksUpward(t *testing.T) {
	root := newTestProject(t)
	got, err := FindProjectRoot(filepath.Join(root, "routers", "api", "v1"))
	if err != nil || got != root {
		t.Errorf("FindProjectRoot(subfolder) = %q, %v; want %q", got, err, root)
	}
	_, err = FindProjectRoot(filepath.Dir(root))
	wantInputError(t, err, "is not inside a gingen project", "gingen new")
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Errorf("err = %T, want *InputError", err)
	}
}

// TestTwoPlansFromOneStateCannotBothApply plans two adds from the same project, as two gingen
// commands started together would: the first applies; the second, planned from a gingen.yaml
// that no longer is, is refused and writes nothing, instead of undoing the first (its
// gingen.yaml and markers would no longer record the first resource).
func TestTwoPlansFromOneStateCannotBothApply(t *testing.T) {
	root := newTestProject(t)
	opened, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	sum := opened.Sum
	plan := func(name string) Plan {
		p, err := PlanAddResource(os.DirFS(root), ResourceOptions{Name: name, Fields: []string{"title:string"}}, templates.FS())
		if err != nil {
			t.Fatalf("plan add %s: %v", name, err)
		}
		p.ManifestSum = sum
		return p
	}
	first, second := plan("article"), plan("tag")
	if err := first.Apply(root); err != nil {
		t.Fatalf("first add: %v", err)
	}
	after := snapshot(t, root)
	if err := second.Apply(root); !errors.Is(err, ErrProjectChanged) {
		t.Fatalf("second add planned from the old state: %v, want ErrProjectChanged", err)
	}
	sameTree(t, after, snapshot(t, root))
	// Planned again from the project as it is now, it applies.
	if opened, err = Open(root); err != nil {
		t.Fatal(err)
	}
	sum = opened.Sum
	if err := plan("tag").Apply(root); err != nil {
		t.Fatalf("add planned anew: %v", err)
	}
	m, err := readManifest(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Resources) != 2 {
		t.Errorf("gingen.yaml records %d resources, want article and tag", len(m.Resources))
	}
}

// TestAddResourceMergesAnEditedOpenAPIDocument: the OpenAPI document goes through the one
// apply policy like any generated file: an edit away from the lines the change rewrites is
// kept, and stays mergeable (its record is the render's digest); an edit that conflicts stops
// the command, nothing written.
func TestAddResourceMergesAnEditedOpenAPIDocument(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "tag", Fields: []string{"name:string"}})
	doc := filepath.Join(root, filepath.FromSlash(OpenAPIPath))
	editFile(t, doc, `"title": "myblog"`, `"title": "My blog"`)
	for _, name := range []string{"note", "label"} {
		plan := addResource(t, root, ResourceOptions{Name: name, Fields: []string{"title:string"}})
		if s := stepOf(t, plan.Steps, OpenAPIPath); s.Action != ActionMerge {
			t.Errorf("add resource %s: %s step = %v, want merge", name, OpenAPIPath, s)
		}
		got := readFile(t, root, OpenAPIPath)
		if !strings.Contains(got, `"title": "My blog"`) || !strings.Contains(got, "/api/v1/"+Plural(name)) {
			t.Errorf("after add resource %s the document lacks the user's title or the new paths", name)
		}
	}

	if err := os.WriteFile(doc, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	_, err := PlanAddResource(os.DirFS(root), ResourceOptions{Name: "color", Fields: []string{"name:string"}}, templates.FS())
	wantInputError(t, err, OpenAPIPath+" was edited since gingen generated it, and the edits conflict")
	sameTree(t, before, snapshot(t, root))
}
