package generator

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

// untracked is DestroyOptions.NeverCommitted of a git work tree where no commit has any
// migration: each is deleted if it is the newest.
func untracked(string) bool { return true }

func TestDestroyRefusesAnEditedFileUnlessForced(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, blogResources()[1])
	handler := filepath.Join(root, "routers", "api", "v1", "tag.go")
	f, err := os.OpenFile(handler, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\n// my change\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)

	_, err = PlanDestroyResource(os.DirFS(root), DestroyOptions{Name: "tag"}, templates.FS())
	wantInputError(t, err, "routers/api/v1/tag.go was edited since gingen generated it", "--force")
	sameTree(t, before, snapshot(t, root))

	// --force deletes it and keeps the user's text as FILE.gingen-old, never lost. Unhappy
	// path first: one there already with other text stops it, nothing written.
	mine := readFile(t, root, "routers/api/v1/tag.go")
	old := handler + OldFileSuffix
	if err := os.WriteFile(old, []byte("an earlier copy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before = snapshot(t, root)
	_, err = PlanDestroyResource(os.DirFS(root), DestroyOptions{Name: "tag", Force: true, NeverCommitted: untracked}, templates.FS())
	wantInputError(t, err, "routers/api/v1/tag.go would keep the text --force deletes in routers/api/v1/tag.go"+OldFileSuffix+", which holds an earlier copy")
	sameTree(t, before, snapshot(t, root))
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}

	plan := destroyResource(t, root, DestroyOptions{Name: "tag", Force: true, NeverCommitted: untracked})
	if len(plan.Deletes) != 5 {
		t.Errorf("deletes = %v, want the five generated files (the migration too)", plan.Deletes)
	}
	if _, err := os.Stat(handler); !os.IsNotExist(err) {
		t.Errorf("forced destroy left %s (%v)", handler, err)
	}
	if got := readFile(t, root, "routers/api/v1/tag.go"+OldFileSuffix); got != mine {
		t.Errorf("tag.go%s = %q, want the user's text", OldFileSuffix, got)
	}
}

func TestDestroyRefusesWhatItCannotUndoExactly(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	for _, r := range blogResources() {
		addResource(t, root, r)
	}
	routes := filepath.Join(root, "routers", "api", "v1", "routes.go")
	src, err := os.ReadFile(routes)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts DestroyOptions
		edit func(t *testing.T)
		want []string
	}{
		{"an unknown resource", DestroyOptions{Name: "post"}, nil, []string{`no resource "post"`, "article, tag, comment"}},
		{"a resource another references", DestroyOptions{Name: "article"}, nil, []string{`referenced by resource "comment"`, "destroy comment first"}},
		{"a deleted generated file", DestroyOptions{Name: "tag"}, func(t *testing.T) {
			if err := os.Remove(filepath.Join(root, "models", "tag.go")); err != nil {
				t.Fatal(err)
			}
		}, []string{"models/tag.go", "is gone", "--force"}},
		{"a registration removed by hand", DestroyOptions{Name: "comment"}, func(t *testing.T) {
			if err := os.WriteFile(routes, []byte(removeLine(t, string(src), `RegisterComments(api, db)`)), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"routers/api/v1/routes.go no longer has the line", "RegisterComments", "--force"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.edit != nil {
				tc.edit(t)
			}
			before := snapshot(t, root)
			_, err := PlanDestroyResource(os.DirFS(root), tc.opts, templates.FS())
			wantInputError(t, err, tc.want...)
			sameTree(t, before, snapshot(t, root))
		})
	}

	// --force goes past what is already gone and removes the rest.
	destroyResource(t, root, DestroyOptions{Name: "comment", Force: true})
	destroyResource(t, root, DestroyOptions{Name: "tag", Force: true})
	got, err := os.ReadFile(routes)
	if err != nil {
		t.Fatal(err)
	}
	want := removeLine(t, removeLine(t, string(src), `RegisterComments(api, db)`), `RegisterTags(api, db)`)
	if string(got) != want {
		t.Errorf("routes.go after forced destroys:\n%s\nwant:\n%s", got, want)
	}
	for _, p := range []string{"routers/api/v1/tag.go", "routers/api/v1/comment.go", "models/comment.go"} {
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("%s still exists after a forced destroy", p)
		}
	}
}

// removeLine returns src without its one line whose text, trimmed, is line.
func removeLine(t *testing.T, src, line string) string {
	t.Helper()
	lines := strings.SplitAfter(src, "\n")
	kept := slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.TrimSpace(l) == line })
	if len(kept) != len(lines)-1 {
		t.Fatalf("%q is on %d lines of the file, want 1", line, len(lines)-len(kept))
	}
	return strings.Join(kept, "")
}

func TestCommitDeletesAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"a.txt": "a\n", "b.txt": "b\n", "blocker": "file\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, dir)
	// The deletion of a missing file fails after a.txt was rewritten and b.txt moved aside.
	err := commit(dir, []File{{Path: "a.txt", Body: []byte("new\n"), Mode: 0o644}}, []string{"b.txt", "missing.txt"})
	if err == nil {
		t.Fatal("commit succeeded, want an error")
	}
	sameTree(t, before, snapshot(t, dir))

	if err := commit(dir, []File{{Path: "a.txt", Body: []byte("new\n"), Mode: 0o644}}, []string{"b.txt"}); err != nil {
		t.Fatal(err)
	}
	if got := listTree(t, dir); len(got) != 3 || got[1] != "a.txt" || got[2] != "blocker" {
		t.Errorf("tree = %v, want a.txt and blocker only, no temporary files", got)
	}
}

// TestDestroyForceSettlesAConflictingProjectFile: destroying the last resource with events
// takes the websocket module out of go.mod; a go.mod edited on that very line is refused,
// and --force gives go.mod the template's text and keeps the user's as go.mod.gingen-old.
func TestDestroyForceSettlesAConflictingProjectFile(t *testing.T) {
	root := newTestProject(t)
	addResource(t, root, ResourceOptions{Name: "note", Fields: []string{"title:string"}, Events: true})
	gomod := filepath.Join(root, "go.mod")
	editFile(t, gomod, "github.com/coder/websocket v1.8.15", "github.com/coder/websocket v1.8.99")
	mine := readFile(t, root, "go.mod")
	before := snapshot(t, root)
	_, err := PlanDestroyResource(os.DirFS(root), DestroyOptions{Name: "note", NeverCommitted: untracked}, templates.FS())
	wantInputError(t, err, "go.mod was edited since gingen wrote it and the edits conflict")
	sameTree(t, before, snapshot(t, root))

	plan := destroyResource(t, root, DestroyOptions{Name: "note", Force: true, NeverCommitted: untracked})
	if got := readFile(t, root, "go.mod"+OldFileSuffix); got != mine {
		t.Errorf("go.mod%s = %q, want the user's text", OldFileSuffix, got)
	}
	if got := readFile(t, root, "go.mod"); strings.Contains(got, "coder/websocket") {
		t.Errorf("go.mod after destroy --force still requires the websocket module:\n%s", got)
	}
	if s := stepOf(t, plan.Steps, "go.mod"); s.Action != ActionForce {
		t.Errorf("go.mod step = %v, want force", s)
	}
}
