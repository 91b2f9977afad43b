package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

// writeTree writes files (slash paths to contents) under a new temporary folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestTreeInputsChangeWithWhatTidyReadsOnly(t *testing.T) {
	base := map[string]string{
		"go.mod":        "module example.com/m\n\ngo 1.26.0\n",
		"main.go":       "// Command m.\npackage main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/lib\"\n)\n\nfunc main() { fmt.Println(lib.X) }\n",
		"lib/lib.go":    "//go:build linux\n\npackage lib\n\nimport \"strings\"\n\nvar X = strings.ToUpper(\"x\")\n",
		"lib/x_test.go": "package lib_test\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"README.md":     "# m\n",
	}
	with := func(changes map[string]string, drop ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range changes {
			out[k] = v
		}
		for _, k := range drop {
			delete(out, k)
		}
		return out
	}
	want, err := treeInputs(writeTree(t, base), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		same  bool
	}{
		{"a new import changes it", with(map[string]string{"lib/lib.go": strings.Replace(base["lib/lib.go"], `import "strings"`, "import (\n\t\"strings\"\n\t\"golang.org/x/text/cases\"\n)", 1)}), false},
		{"an import in a test file changes it", with(map[string]string{"lib/x_test.go": strings.Replace(base["lib/x_test.go"], `import "testing"`, `import ("testing"; "github.com/stretchr/testify/assert")`, 1)}), false},
		{"a new file changes it", with(map[string]string{"lib/more.go": "package lib\n"}), false},
		{"a file under testdata changes it", with(map[string]string{"lib/testdata/x.go": "package x\n\nimport \"golang.org/x/tools\"\n"}), false},
		{"a file moved to another folder changes it", with(map[string]string{"lib2/lib.go": base["lib/lib.go"]}, "lib/lib.go"), false},
		{"a changed build constraint changes it", with(map[string]string{"lib/lib.go": strings.Replace(base["lib/lib.go"], "linux", "ignore", 1)}), false},
		{"a changed package clause changes it", with(map[string]string{"lib/x_test.go": strings.Replace(base["lib/x_test.go"], "lib_test", "lib", 1)}), false},
		{"a changed go.mod changes it", with(map[string]string{"go.mod": base["go.mod"] + "\nrequire golang.org/x/text v0.30.0\n"}), false},
		{"a nested module changes it", with(map[string]string{"lib/go.mod": "module example.com/lib\n"}), false},
		{"a header that does not parse counts whole", with(map[string]string{"lib/bad.go": "package lib\n\nimport (\n"}), false},
		{"a changed comment leaves it", with(map[string]string{"main.go": strings.Replace(base["main.go"], "// Command m.", "// Command m prints X.\n// More words.", 1)}), true},
		{"changed code leaves it", with(map[string]string{"lib/lib.go": strings.Replace(base["lib/lib.go"], `ToUpper("x")`, `ToLower("Y") + "z"`, 1)}), true},
		{"a file that is not Go leaves it", with(map[string]string{"README.md": "# m, changed\n", "conf/app.ini": "x = 1\n"}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := treeInputs(writeTree(t, tc.files), "")
			if err != nil {
				t.Fatal(err)
			}
			if same := got == want; same != tc.same {
				t.Errorf("same = %v, want %v:\n%s\nbefore:\n%s", same, tc.same, got, want)
			}
		})
	}
	// A symbolic link to a .go file: the go command reads what it points to.
	linked := writeTree(t, base)
	if err := os.Symlink("../main.go", filepath.Join(linked, "lib", "link.go")); err != nil {
		t.Fatal(err)
	}
	if got, err := treeInputs(linked, ""); err != nil || got == want {
		t.Errorf("a symbolic link added: %v, inputs unchanged = %v", err, got == want)
	}
	// A header that does not parse: any change to the file changes it.
	bad := with(map[string]string{"lib/bad.go": "package lib\n\nimport (\n"})
	a, _ := treeInputs(writeTree(t, bad), "")
	bad["lib/bad.go"] += "// a comment\n"
	if b, _ := treeInputs(writeTree(t, bad), ""); a == b {
		t.Error("a file whose header does not parse: a change to it left the inputs alone")
	}
}

// overlayProject returns the checkout's project with a template replaced.
func overlayProject(t *testing.T, edit map[string]func(string) string) *project {
	t.Helper()
	over := fstest.MapFS{}
	for name, f := range edit {
		b, err := fs.ReadFile(templates.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		over[name] = &fstest.MapFile{Data: []byte(f(string(b)))}
	}
	p, err := newProject("../..", generator.Overlay(templates.FS(), over))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeysFollowTemplatesAndPins renders a combination's projects (no tidy) and checks what
// changes their keys: a new import in a template, a changed pin; not a comment or code, nor
// the checkout's place. Each case keys only the variants it needs: rendering is the slow part,
// and make full runs this under -race.
func TestKeysFollowTemplatesAndPins(t *testing.T) {
	c := Combination{Strategy: "fork", DB: "sqlite", Auth: "jwt"}
	p := overlayProject(t, nil)
	keys := func(t *testing.T, p *project, variants ...int) map[int]string {
		t.Helper()
		k := make([]string, len(variants))
		errs := make([]error, len(variants))
		parallel(len(variants), func(i int) { k[i], errs[i] = p.variantKey(c, variants[i]) })
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		got := map[int]string{}
		for i, v := range variants {
			got[v] = k[i]
		}
		return got
	}
	want := keys(t, p, 0, 1, 2, 3)
	expect := func(t *testing.T, got map[int]string, changed ...int) {
		t.Helper()
		for v, k := range got {
			if isChanged, wantChanged := k != want[v], slices.Contains(changed, v); isChanged != wantChanged {
				t.Errorf("%s project: key changed = %v, want %v", variantNames()[v], isChanged, wantChanged)
			}
		}
	}

	t.Run("a comment or code changed in a template leaves them", func(t *testing.T) {
		expect(t, keys(t, overlayProject(t, map[string]func(string) string{
			"project/base/main.go.tmpl": func(s string) string {
				return strings.Replace(s, "package main\n", "package main\n\n// depsgen test: a comment.\n", 1) + "\n// The end.\nconst depsgenTest = 1\n"
			},
		}), 0, 3))
	})
	t.Run("a new import in a project template changes them", func(t *testing.T) {
		expect(t, keys(t, overlayProject(t, map[string]func(string) string{
			"project/base/main.go.tmpl": func(s string) string { return strings.Replace(s, "import (\n", "import (\n\t\"net/netip\"\n", 1) },
		}), 0, 2), 0, 2)
	})
	t.Run("a new import in a resource template changes those of the projects with resources", func(t *testing.T) {
		expect(t, keys(t, overlayProject(t, map[string]func(string) string{
			"resource/models/__name__.go.tmpl": func(s string) string {
				return strings.Replace(s, `import "time"`, "import (\n\t\"net/netip\"\n\t\"time\"\n)", 1)
			},
		}), 0, 1, 2), 0, 1)
	})
	t.Run("a changed pin changes them", func(t *testing.T) {
		q := *p
		q.pins = append([]string(nil), p.pins...)
		f := strings.Fields(q.pins[0])
		q.pins[0] = f[0] + " " + f[1] + "-changed"
		expect(t, keys(t, &q, 2), 2)
	})
	t.Run("the checkout's place leaves them", func(t *testing.T) {
		q := *p
		q.restartDir = filepath.Join(t.TempDir(), "elsewhere", "restart")
		expect(t, keys(t, &q, 0))
	})
}

// TestKeysFollowRestartGoAndDepsgen: what every key starts with (inputs) follows the restart
// library's imports, not its comments; the go command's version; depsgen's own sources.
func TestKeysFollowRestartGoAndDepsgen(t *testing.T) {
	in, err := readInputs("../..", "../../restart")
	if err != nil {
		t.Fatal(err)
	}
	if in.goVersion == "" || !strings.HasPrefix(in.goVersion, "go") {
		t.Fatalf("go version %q", in.goVersion)
	}
	want := in.key("project", "resources")
	if in.key("project", "") == want || in.key("project2", "resources") == want {
		t.Error("the key leaves the project's inputs out")
	}

	restart := t.TempDir()
	if err := os.CopyFS(restart, os.DirFS("../../restart")); err != nil {
		t.Fatal(err)
	}
	keyWith := func(t *testing.T, edit func(in *inputs)) string {
		t.Helper()
		q := in
		var err error
		if q.restart, err = treeInputs(restart, ""); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(&q)
		}
		return q.key("project", "resources")
	}
	if got := keyWith(t, nil); got != want {
		t.Fatal("a copy of the restart library elsewhere: the key changed")
	}
	doc := filepath.Join(restart, "doc.go")
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, append([]byte("// A comment more.\n"), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := keyWith(t, nil); got != want {
		t.Error("a comment in the restart library changed the key")
	}
	if got := keyWith(t, func(in *inputs) { in.goVersion += "-next" }); got == want {
		t.Error("another go command left the key alone")
	}
	if got := keyWith(t, func(in *inputs) { in.depsgen = strings.Repeat("0", 64) }); got == want {
		t.Error("other depsgen sources left the key alone")
	}
	if err := os.WriteFile(filepath.Join(restart, "extra.go"), []byte("package restart\n\nimport _ \"golang.org/x/sync/errgroup\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := keyWith(t, nil); got == want {
		t.Error("a new import in the restart library left the key alone")
	}
	if err := os.Remove(filepath.Join(restart, "extra.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restart, "go.mod"), []byte("module github.com/gingen/gingen/restart\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := keyWith(t, nil); got == want {
		t.Error("another go.mod of the restart library left the key alone")
	}
}
