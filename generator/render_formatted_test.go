package generator

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"text/template"

	"github.com/gingen/gingen/templates"
)

// projectDataMatrix is every ProjectData a project template can be rendered with, as far as
// gofmt can tell them apart: every strategy, database and auth, with and without tracing,
// events and an ejected restart library, each with names, module paths and ports of the
// lengths that move gofmt's alignment (a name of 1 to 63 characters, so the database user
// cut at 32 and the environment prefix too; module paths that sort before and after every
// other import; ports of 1 to 5 digits).
func projectDataMatrix() []ProjectData {
	type identity struct {
		name, module string
		port         int
	}
	ids := []identity{
		{"a", "", 1},
		{"myblog", "", DefaultPort},
		{"my-blog_2", "github.com/acme/my-blog_2", 80},
		{"Zz", "zzz.example/zz/Zz", 65535},
		{"shop", "0.example/x", 443},
		{"b-b", "a", 9000},
		{"x" + strings.Repeat("-y", 31), "gitlab.example.com/a-very-long-group/sub-group/" + "x" + strings.Repeat("-y", 31), 12345},
	}
	// Every length a name may have, with '-' and '_' (EnvPrefix and DBName rewrite them).
	for n := 1; n <= 63; n++ {
		name := "n" + strings.Repeat("a_b-", n)[:n-1]
		ids = append(ids, identity{name, "", 8000 + n})
	}
	var out []ProjectData
	bools := []bool{false, true}
	for _, strategy := range Strategies() {
		for _, db := range Databases() {
			for _, auth := range Auths() {
				for _, tracing := range bools {
					for _, events := range bools {
						for _, ejected := range bools {
							for i, id := range ids {
								// The names of every length with every combination would
								// be 144 times as many renders for what the identities
								// above already vary: the lengths are tried with the
								// default combination and one of each other value.
								if i >= 7 && (tracing || events || ejected) && (strategy != DefaultStrategy || db != DefaultDB || auth != DefaultAuth) {
									continue
								}
								o := Options{Name: id.name, Module: id.module, Strategy: strategy, DB: db, Auth: auth, Port: id.port, Tracing: tracing}
								o.Normalize()
								d := newProjectData(o)
								d.Events, d.RestartEjected = events, ejected
								if ejected {
									d.RestartReplace = ""
								} else {
									d.RestartReplace = "/home/someone/src/gingen/restart"
								}
								out = append(out, d)
							}
						}
					}
				}
			}
		}
	}
	return out
}

// A Go template of the project trees with actions is not formatted again when the tree
// vouches that it renders gofmt-clean (RendersFormatted): each vouched one must render
// gofmt-clean with every ProjectData of the matrix, and each one it does not vouch for must
// really need gofmt for some of them, or the vouching is stale.
func TestProjectTemplatesRenderGofmtClean(t *testing.T) {
	tfs := templates.FS()
	v, ok := tfs.(rendersFormatted)
	if !ok {
		t.Fatal("templates.FS() does not vouch for its rendered Go templates (no RendersFormatted method)")
	}
	var paths []string
	err := fs.WalkDir(tfs, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go"+templateExt) {
			return err
		}
		src, err := fs.ReadFile(tfs, p)
		if err != nil {
			return err
		}
		if !bytes.Contains(src, []byte("{{")) {
			return nil
		}
		if !strings.HasPrefix(p, "project/") {
			// Resource templates render with fields of any name and type: always formatted.
			if v.RendersFormatted(p) {
				t.Errorf("%s is vouched for, but only project templates can be: resource and migration templates render with fields of any name", p)
			}
			return nil
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no project Go template with an action found: the test checked nothing")
	}
	matrix := projectDataMatrix()
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			if err := checkRendersFormatted(tfs, v, p, matrix); err != nil {
				t.Error(err)
			}
		})
	}
}

// checkRendersFormatted renders the template p with every distinct output the matrix gives
// and says where what it finds differs from what tfs vouches for.
func checkRendersFormatted(tfs fs.FS, v rendersFormatted, p string, matrix []ProjectData) error {
	src, err := fs.ReadFile(tfs, p)
	if err != nil {
		return err
	}
	tmpl, err := template.New(path.Base(p)).Option("missingkey=error").Funcs(templateFuncs()).Parse(string(src))
	if err != nil {
		return fmt.Errorf("parse %s: %w", p, err)
	}
	seen := map[string]bool{}
	unclean := ""
	for _, d := range matrix {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, d); err != nil {
			return fmt.Errorf("execute %s with %s: %w", p, describeData(d), err)
		}
		if seen[buf.String()] {
			continue
		}
		seen[buf.String()] = true
		formatted, err := format.Source(buf.Bytes())
		if err != nil {
			return fmt.Errorf("%s renders invalid Go with %s: %w", p, describeData(d), err)
		}
		if !bytes.Equal(formatted, buf.Bytes()) {
			unclean = describeData(d)
			break
		}
	}
	switch vouched := v.RendersFormatted(p); {
	case vouched && unclean != "":
		return fmt.Errorf("%s is vouched for but does not render gofmt-clean with %s: fix its white space (gofmt's output of that project shows how), then go test ./generator -run Golden -update", p, unclean)
	case !vouched && unclean == "":
		return fmt.Errorf("%s renders gofmt-clean with all %d distinct outputs of the matrix: vouch for it", p, len(seen))
	}
	return nil
}

// The check fails a vouched template whose white space is gofmt's for some projects only
// (here a struct field aligned for the projects without auth), and one that renders clean
// but is not vouched for; it passes the same template once its white space is right for
// every project.
func TestCheckRendersFormattedCatchesAlignmentThatDependsOnTheProject(t *testing.T) {
	const misaligned = "package p\n\ntype Deps struct {\n{{- if eq .Auth \"jwt\"}}\n\tLoginThrottles int\n{{- end}}\n\tVersion string\n}\n"
	const aligned = "package p\n\ntype Deps struct {\n{{- if eq .Auth \"jwt\"}}\n\tLoginThrottles int\n\tVersion        string\n{{- else}}\n\tVersion string\n{{- end}}\n}\n"
	files := fstest.MapFS{
		"project/bad.go.tmpl":  {Data: []byte(misaligned)},
		"project/good.go.tmpl": {Data: []byte(aligned)},
	}
	matrix := projectDataMatrix()
	for _, tc := range []struct {
		name, file string
		v          rendersFormatted
		want       string
	}{
		{"vouched for, unclean with auth", "project/bad.go.tmpl", vouching{files}, "does not render gofmt-clean with name"},
		{"not vouched for, unclean: formatted, as it must be", "project/bad.go.tmpl", vouchesForNothing{}, ""},
		{"vouched for, clean with every project", "project/good.go.tmpl", vouching{files}, ""},
		{"not vouched for, clean with every project", "project/good.go.tmpl", vouchesForNothing{}, "vouch for it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkRendersFormatted(files, tc.v, tc.file, matrix)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("check failed: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("check returned %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// vouchesForNothing is a tree that vouches for none of its rendered templates.
type vouchesForNothing struct{}

func (vouchesForNothing) RendersFormatted(string) bool { return false }

func describeData(d ProjectData) string {
	return fmt.Sprintf("name %q, module %q, port %d, %s/%s/%s, tracing %t, events %t, ejected %t",
		d.Name, d.Module, d.Port, d.Strategy, d.DB, d.Auth, d.Tracing, d.Events, d.RestartEjected)
}

// The matrix holds every combination of the options a project template can branch on.
func TestProjectDataMatrixCoversEveryCombination(t *testing.T) {
	got := map[string]bool{}
	for _, d := range projectDataMatrix() {
		got[fmt.Sprintf("%s/%s/%s/%t/%t/%t", d.Strategy, d.DB, d.Auth, d.Tracing, d.Events, d.RestartEjected)] = true
	}
	want := len(Strategies()) * len(Databases()) * len(Auths()) * 2 * 2 * 2
	if len(got) != want {
		t.Errorf("the matrix has %d combinations, want %d", len(got), want)
	}
	lengths := map[int]bool{}
	for _, d := range projectDataMatrix() {
		lengths[len(d.Name)] = true
	}
	var all []int
	for n := 1; n <= 63; n++ {
		all = append(all, n)
	}
	if got := slices.Sorted(maps.Keys(lengths)); !slices.Equal(got, all) {
		t.Errorf("the matrix's names have the lengths %v, want every length from 1 to 63", got)
	}
}
