package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

// editModels replaces the first old in the project's models.go with new and returns its
// text.
func editModels(t *testing.T, root, old, new string) string {
	t.Helper()
	editFile(t, filepath.Join(root, filepath.FromSlash(modelsGo)), old, new)
	return readFile(t, root, modelsGo)
}

const modelsGo = "models/models.go"

// TestAddRefusesAnEditThatConflictsWithTheRegistration: the line just above the marker
// changed, the registration line cannot be merged beside it: add resource refuses in one line
// naming the file and the fix, writing nothing; with --force the template's text wins and
// the user's is kept in FILE.gingen-old.
func TestAddRefusesAnEditThatConflictsWithTheRegistration(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	mine := editModels(t, root, "\treturn []any{\n", "\treturn []any{ // my models, registered below\n")
	before := snapshot(t, root)
	_, err := PlanAddResource(os.DirFS(root), blogResources()[1], templates.FS())
	wantInputError(t, err, "add resource tag: "+modelsGo+" was edited since gingen wrote it and the edits conflict", "--force", modelsGo+OldFileSuffix)
	sameTree(t, before, snapshot(t, root))

	forced := blogResources()[1]
	forced.Force = true
	addResource(t, root, forced)
	fresh := newTestProject(t)
	addResource(t, fresh, blogResources()[1])
	if got, want := readFile(t, root, modelsGo), readFile(t, fresh, modelsGo); got != want {
		t.Errorf("models.go after add --force:\n%s\nwant the template's:\n%s", got, want)
	}
	if got := readFile(t, root, modelsGo+OldFileSuffix); got != mine {
		t.Errorf("models.go%s = %q, want the user's text", OldFileSuffix, got)
	}
}

// TestAnEditAwayFromTheMarkerIsMerged: add, rename and destroy resource merge the
// registration line into an edited models.go, keeping the edit.
func TestAnEditAwayFromTheMarkerIsMerged(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	mine := editModels(t, root, "package models\n", "package models\n\n// My note, far from the marker.\n")
	addResource(t, root, blogResources()[0])
	added := strings.Replace(mine, "\t\t// gingen:models\n", "\t\t&Article{},\n\t\t// gingen:models\n", 1)
	if got := readFile(t, root, modelsGo); got != added {
		t.Errorf("models.go after add:\n%s\nwant the edit kept and the article registered:\n%s", got, added)
	}
	plan, err := PlanRenameResource(os.DirFS(root), RenameResourceOptions{Old: "article", New: "post"}, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(root); err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(added, "&Article{},", "&Post{},", 1)
	if got := readFile(t, root, modelsGo); got != renamed {
		t.Errorf("models.go after rename:\n%s\nwant the edit kept and the post registered:\n%s", got, renamed)
	}
	destroyResource(t, root, DestroyOptions{Name: "post", NeverCommitted: untracked})
	if got := readFile(t, root, modelsGo); got != mine {
		t.Errorf("models.go after destroy:\n%s\nwant the user's version back:\n%s", got, mine)
	}
}

// TestAddMergesIntoAnEarlierTemplatesFile: a models.go an earlier release wrote (other lines
// far from the marker, its digest recorded) still gets the resource registered, its text
// kept: the base of the merge is the render before the change, whatever wrote the file.
func TestAddMergesIntoAnEarlierTemplatesFile(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	older := editModels(t, root, "package models\n", "package models // as an earlier release wrote it\n")
	m := readManifestFile(t, root)
	for i := range m.Files {
		if m.Files[i].Path == modelsGo {
			m.Files[i].SHA256 = digest([]byte(older))
		}
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, ManifestName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	addResource(t, root, blogResources()[1])
	want := strings.Replace(older, "\t\t// gingen:models\n", "\t\t&Tag{},\n\t\t// gingen:models\n", 1)
	if got := readFile(t, root, modelsGo); got != want {
		t.Errorf("models.go after add:\n%s\nwant the earlier text kept and the tag registered:\n%s", got, want)
	}
}

// TestAnEditedRegistrationFileStaysAMergeBase: after add resource merges the registration
// into an edited models.go, gingen.yaml records the render of the change for it (the render
// before was its record), so that an upgrade with the same templates has a trusted base and
// neither conflicts nor writes a side file for it.
func TestAnEditedRegistrationFileStaysAMergeBase(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	editModels(t, root, "package models\n", "package models\n\n// My note, far from the marker.\n")
	addResource(t, root, blogResources()[0])
	up, err := PlanUpgrade(os.DirFS(root), UpgradeOptions{}, templates.FS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range up.Steps {
		if s.Path == modelsGo && s.Action != ActionKeep && s.Action != ActionIdentical {
			t.Errorf("upgrade with the same templates: %s %s (%s); want it kept", s.Action, s.Path, s.Note)
		}
	}
	for _, w := range up.Writes {
		if strings.HasPrefix(w.Path, modelsGo) {
			t.Errorf("upgrade with the same templates writes %s", w.Path)
		}
	}
}
