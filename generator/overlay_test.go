package generator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gingen/gingen/templates"
)

func TestOverlayServesTheUsersFilesOverTheBase(t *testing.T) {
	base := fstest.MapFS{
		"project/base/a.tmpl":     {Data: []byte("base a")},
		"project/base/b.tmpl":     {Data: []byte("base b")},
		"project/fork/c.tmpl":     {Data: []byte("base c")},
		"resource/models/m.tmpl":  {Data: []byte("base m")},
		"resource/routers/r.tmpl": {Data: []byte("base r")},
	}
	over := fstest.MapFS{
		"project/base/b.tmpl":     {Data: []byte("user b")},
		"project/base/new/n.tmpl": {Data: []byte("user n")},
	}
	o := Overlay(base, over)
	// The fs.FS contract: listings, Stat, Open and ReadDir agree.
	if err := fstest.TestFS(o, "project/base/a.tmpl", "project/base/b.tmpl", "project/base/new/n.tmpl", "project/fork/c.tmpl", "resource/models/m.tmpl"); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"project/base/a.tmpl":     "base a",
		"project/base/b.tmpl":     "user b",
		"project/base/new/n.tmpl": "user n",
		"resource/models/m.tmpl":  "base m",
	} {
		got, err := fs.ReadFile(o, p)
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	if _, err := fs.ReadFile(o, "project/base/missing.tmpl"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file in neither tree: %v, want fs.ErrNotExist", err)
	}
	clash := Overlay(base, fstest.MapFS{"project/fork": {Data: []byte("a file where base has a folder")}})
	if _, err := fs.Stat(clash, "project/fork"); err == nil {
		t.Error("a user's file hides a whole template folder without an error")
	}
}

func TestOpenTemplatesRefusesFoldersThatWouldBeSilentlyIgnored(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"a folder with no template", map[string]string{}, "holds no template"},
		{"a file missing .tmpl", map[string]string{"project/base/README.md": "x"}, "is not a template"},
		{"a top-level folder other than project and resource", map[string]string{"templates/project/base/a.tmpl": "x"}, "hold only project/, resource/ and migration/"},
		{"an unknown project tree", map[string]string{"project/forkk/a.tmpl": "x"}, `unknown project tree "forkk"`},
		{"a file directly under project", map[string]string{"project/a.tmpl": "x"}, "project templates go into a tree"},
		{"a file where the embedded templates have a folder", map[string]string{"project/base/models": "x"}, "is not a template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, body := range tc.files {
				writeTestFile(t, filepath.Join(dir, filepath.FromSlash(p)), body)
			}
			_, err := OpenTemplates(templates.FS(), dir)
			var input *InputError
			if !errors.As(err, &input) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenTemplates = %v, want an InputError containing %q", err, tc.want)
			}
		})
	}
	if _, err := OpenTemplates(templates.FS(), filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "gingen templates export") {
		t.Errorf("a missing folder: %v, want the export command as the fix", err)
	}
	if tfs, err := OpenTemplates(templates.FS(), ""); err != nil || tfs != templates.FS() {
		t.Errorf("no folder: %v, want the embedded templates", err)
	}
}

// TestExportedTemplatesRenderTheSameProject: what `templates export` writes, laid back over
// the embedded templates, renders every golden case byte for byte as before.
func TestExportedTemplatesRenderTheSameProject(t *testing.T) {
	t.Parallel()
	files, err := TemplateFiles(templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tpl")
	if _, err := WriteProject(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "resource", "models", "__name__.go.tmpl")); err != nil {
		t.Fatalf("the export lacks the resource templates: %v", err)
	}
	exported, err := OpenTemplates(templates.FS(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range goldenCases() {
		want, err := PlanProject(opts, templates.FS())
		if err != nil {
			t.Fatal(err)
		}
		got, err := PlanProject(opts, exported)
		if err != nil {
			t.Fatal(err)
		}
		if diff := diffPlans(want, got); diff != "" {
			t.Errorf("%s renders differently from the exported templates (-embedded +exported):\n%s", name, diff)
		}
	}
}

func TestRecordTemplatesNamesTheFolderFromTheProject(t *testing.T) {
	opts := goldenCases()["myblog-fork"]
	files, err := PlanProject(opts, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if err := RecordTemplates(files, filepath.Join("work", "myblog"), "tpl"); err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(manifestOf(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if m.Templates != "../../tpl" {
		t.Errorf("templates: %q, want ../../tpl", m.Templates)
	}
	if got, want := m.TemplatesDir(filepath.FromSlash("/srv/work/myblog")), filepath.FromSlash("/srv/tpl"); got != want {
		t.Errorf("TemplatesDir = %q, want %q", got, want)
	}
	if err := RecordTemplates(files, "myblog", "/opt/tpl"); err != nil {
		t.Fatal(err)
	}
	if m, _ := ParseManifest(manifestOf(t, files)); m.Templates != "/opt/tpl" || m.TemplatesDir("/srv/myblog") != "/opt/tpl" {
		t.Errorf("an absolute folder is recorded as %q", m.Templates)
	}
}

func manifestOf(t *testing.T, files []File) []byte {
	t.Helper()
	for _, f := range files {
		if f.Path == ManifestName {
			return f.Body
		}
	}
	t.Fatalf("no %s in the plan", ManifestName)
	return nil
}

func writeTestFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
