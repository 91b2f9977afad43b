package generator

import (
	"os"
	"path/filepath"
	"slices"
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

// TestAddTakesAResourceFileIdenticalToItsRender: a file of the resource already on disk
// with the text gingen renders there is not the user's: add resource goes on, printing it
// identical (one with other text is refused: TestAddRefusesBadInputAndWritesNothing).
func TestAddTakesAResourceFileIdenticalToItsRender(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	addResource(t, root, blogResources()[1])
	model := readFile(t, root, "models/tag.go")
	destroyResource(t, root, DestroyOptions{Name: "tag", NeverCommitted: untracked})
	if err := os.WriteFile(filepath.Join(root, "models", "tag.go"), []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := addResource(t, root, blogResources()[1])
	if !slices.ContainsFunc(plan.Steps, func(s Step) bool { return s.Action == ActionIdentical && s.Path == "models/tag.go" }) {
		t.Errorf("steps = %v, want models/tag.go identical", plan.Steps)
	}
	if got := readFile(t, root, "models/tag.go"); got != model {
		t.Errorf("models/tag.go = %q, want it as it was", got)
	}
}

// TestRenameResourceRefusesAChangedRegistration: rename resource changes the registration
// lines where add put them; a file or line gone stops it, naming the file and the fix.
func TestRenameResourceRefusesAChangedRegistration(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	addResource(t, root, blogResources()[0])
	routes := filepath.Join(root, "routers", "api", "v1", "routes.go")
	src := readFile(t, root, "routers/api/v1/routes.go")
	if err := os.WriteFile(routes, []byte(removeLine(t, src, "RegisterArticles(api, db)")), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	opts := RenameResourceOptions{Old: "article", New: "post"}
	_, err := PlanRenameResource(os.DirFS(root), opts, templates.FS())
	wantInputError(t, err, `routers/api/v1/routes.go no longer has the line "RegisterArticles(api, db)"`, "put it back above the `// gingen:routes` marker")
	sameTree(t, before, snapshot(t, root))
	if err := os.Remove(routes); err != nil {
		t.Fatal(err)
	}
	_, err = PlanRenameResource(os.DirFS(root), opts, templates.FS())
	wantInputError(t, err, "routers/api/v1/routes.go, where resource article is registered, is gone", "restore it")
}

// TestAddLeavesTheMigrationsOfAnEarlierReleaseToUpgrade: a resource added before gingen wrote
// migrations has none recorded; the render numbers one for it after every other, so adding
// a resource moves it, but add resource writes none of it (gingen upgrade does).
func TestAddLeavesTheMigrationsOfAnEarlierReleaseToUpgrade(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	addResource(t, root, blogResources()[1])
	m := readManifestFile(t, root)
	tag := &m.Resources[0]
	for _, p := range []string{tag.Migration} {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	tag.Files = slices.DeleteFunc(tag.Files, func(g GeneratedFile) bool { return g.Path == tag.Migration })
	tag.Migration, tag.Versioned = "", false
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, ManifestName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	plan := addResource(t, root, blogResources()[0])
	var created []string
	for _, w := range plan.Writes {
		if strings.HasPrefix(w.Path, MigrationsDir+"/") {
			created = append(created, w.Path)
		}
	}
	if want := []string{MigrationsDir + "/00001_create_articles.sql"}; !slices.Equal(created, want) {
		t.Errorf("migrations written = %v, want %v", created, want)
	}
}

// TestDestroyForceGoesPastAGoneRegistrationFile: destroy --force leaves a registration file
// the user deleted deleted (it does not write the template's again) and destroys the rest.
func TestDestroyForceGoesPastAGoneRegistrationFile(t *testing.T) {
	t.Parallel()
	root := newTestProject(t)
	addResource(t, root, blogResources()[1])
	routes := filepath.Join(root, "routers", "api", "v1", "routes.go")
	if err := os.Remove(routes); err != nil {
		t.Fatal(err)
	}
	_, err := PlanDestroyResource(os.DirFS(root), DestroyOptions{Name: "tag"}, templates.FS())
	wantInputError(t, err, "routers/api/v1/routes.go, where resource tag was registered, is gone", "--force")
	destroyResource(t, root, DestroyOptions{Name: "tag", Force: true, NeverCommitted: untracked})
	if _, err := os.Stat(routes); !os.IsNotExist(err) {
		t.Errorf("destroy --force wrote the gone %s again (%v)", routes, err)
	}
	if strings.Contains(readFile(t, root, modelsGo), "&Tag{}") {
		t.Error("destroy --force left the tag registered in models.go")
	}
}
