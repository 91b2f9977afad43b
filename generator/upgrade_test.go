package generator

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gingen/gingen/internal/restartmod"
	"github.com/gingen/gingen/internal/testloop"
	"github.com/gingen/gingen/templates"
)

// copyTree copies the folder src into a new temporary folder and returns it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// editFile replaces old by new in the file, which must contain old.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func upgrade(t *testing.T, dir string, opts UpgradeOptions, tfs fs.FS) UpgradePlan {
	t.Helper()
	plan, err := PlanUpgrade(os.DirFS(dir), opts, tfs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(dir); err != nil {
		t.Fatal(err)
	}
	return plan
}

func stepsByPath(steps []Step) map[string]Action {
	out := map[string]Action{}
	for _, s := range steps {
		out[s.Path] = s.Action
	}
	return out
}

// goIn runs the go command in dir, failing the test on an error. go build, vet and test get
// the build tags of the generated Makefile (BuildTags): what the project ships is what is
// tested, and with -trimpath (below) its packages are those the e2e module compiles for the
// golden trees.
func goIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	if len(args) > 0 && slices.Contains([]string{"build", "vet", "test"}, args[0]) {
		args = append([]string{args[0], "-tags", BuildTags}, args[1:]...)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	// As the e2e module builds projects (-trimpath, cgo off), so that their packages and the
	// dependencies compile once per machine for both (see restartmod.TrimpathGOFLAGS).
	env, err := restartmod.ProjectEnv(RestartVersion, "-mod=mod")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(env, "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// TestUpgradeAProjectOfTheFirstRelease upgrades golden/myblog-article as the first release
// (8081e1f) generated it, with two hand edits: the edits survive, gingen.yaml records every
// file, a second upgrade changes nothing, and the project builds and passes its tests.
func TestUpgradeAProjectOfTheFirstRelease(t *testing.T) {
	t.Parallel() // in the full loop, its project builds beside the other's
	dir := copyTree(t, filepath.Join("testdata", "release-8081e1f", "myblog-article"))
	editFile(t, filepath.Join(dir, "main.go"), "func main() {", "// main is edited by hand.\nfunc main() {")
	editFile(t, filepath.Join(dir, "routers/api/v1/article.go"), "package v1\n", "package v1\n\n// Hand-written note kept across upgrades.\n")

	if err := os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("my own file\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	plan := upgrade(t, dir, UpgradeOptions{}, templates.FS())
	if plan.Base != BaseRelease {
		t.Errorf("base = %q, want the first release's templates", plan.Base)
	}
	// Every hand edit survives: merged into the file, or (when the templates changed the same
	// lines since) kept in the file with the new text beside it. The conflicts are resolved
	// here by taking the new text, as a user may, for the build below.
	for path, edit := range map[string]string{"main.go": "// main is edited by hand.", "routers/api/v1/article.go": "// Hand-written note kept across upgrades."} {
		if b, _ := os.ReadFile(filepath.Join(dir, path)); !bytes.Contains(b, []byte(edit)) {
			t.Errorf("%s lost the hand edit %q", path, edit)
		}
	}
	for _, s := range plan.Steps {
		switch s.Action {
		case ActionConflict:
			t.Logf("%s: the templates changed the lines edited by hand since 8081e1f: %s", s.Path, s.Note)
			if err := os.Rename(filepath.Join(dir, s.Path+SideFileSuffix), filepath.Join(dir, s.Path)); err != nil {
				t.Fatal(err)
			}
		case ActionMerge:
			t.Logf("%s: hand edit merged", s.Path)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "NOTES.md")); string(b) != "my own file\n" {
		t.Errorf("NOTES.md, the user's own file, was touched: %q", b)
	}
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Generated == nil || m.Generated.Templates == "" || len(m.Files) < 20 || len(m.Resources) != 4 {
		t.Fatalf("manifest after upgrade: generated %v, %d files, %d resources; want all recorded", m.Generated, len(m.Files), len(m.Resources))
	}
	for _, f := range m.Files {
		body, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatalf("%s is recorded but missing: %v", f.Path, err)
		}
		if f.Path != "main.go" && stepsByPath(plan.Steps)[f.Path] != ActionMerge && digest(body) != f.SHA256 {
			t.Errorf("%s: recorded SHA-256 is not the file's", f.Path)
		}
	}

	conflicts := 0
	for _, s := range plan.Steps {
		if s.Action == ActionConflict {
			conflicts++
		}
	}
	if len(m.Conflicts) != conflicts {
		t.Errorf("gingen.yaml records %d open conflicts (%v); want the %d of the upgrade", len(m.Conflicts), m.Conflicts, conflicts)
	}
	// The second upgrade sees the conflicts resolved (the files changed) and drops their
	// records, which is all it writes; the third has nothing to do.
	again := upgrade(t, dir, UpgradeOptions{}, templates.FS())
	if again.Base != BaseCurrent {
		t.Errorf("second upgrade: base = %q, want these templates", again.Base)
	}
	for _, s := range again.Steps {
		resolved := s.Action == ActionUpdate && s.Path == ManifestName && conflicts > 0
		if s.Action != ActionIdentical && s.Action != ActionKeep && !resolved {
			t.Errorf("second upgrade: %s %s, want nothing to do", s.Action, s.Path)
		}
	}
	if m := readManifestFile(t, dir); len(m.Conflicts) != 0 {
		t.Errorf("after the merges were resolved, gingen.yaml still records conflicts %v", m.Conflicts)
	}
	for _, s := range upgrade(t, dir, UpgradeOptions{}, templates.FS()).Steps {
		if s.Action != ActionIdentical && s.Action != ActionKeep {
			t.Errorf("third upgrade: %s %s, want nothing to do", s.Action, s.Path)
		}
	}
	testloop.Skip(t, "builds the upgraded project")
	goIn(t, dir, "build", "./...")
	goIn(t, dir, "vet", "./...")
	goIn(t, dir, "test", "-count=1", "./...")
}

// changedTemplates lays changes over the embedded templates: main.go gains a comment at its
// top, go.mod's template is changed at its first line, and the fork strategy's pid file
// helper is gone.
func changedTemplates(t *testing.T) fs.FS {
	t.Helper()
	tfs := templates.FS()
	mainTmpl, err := fs.ReadFile(tfs, "project/base/main.go.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	over := fstest.MapFS{
		"project/base/main.go.tmpl": {Data: append([]byte("// Upgraded by a newer gingen.\n\n"), mainTmpl...)},
	}
	return Overlay(tfs, over)
}

// TestUpgradeMergesEditsAndWritesSideFilesOnConflicts upgrades a project onto changed
// templates: an unchanged file is updated, an edit away from the template's change is merged,
// an edit at the same place keeps the user's file and writes FILE.gingen-new.
func TestUpgradeMergesEditsAndWritesSideFilesOnConflicts(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "myblog")
	files, err := PlanProject(goldenCases()["myblog-fork"], templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteProject(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	other := copyTree(t, dir)
	top := copyTree(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "..", "myblog-manifest-orig"), mustRead(t, filepath.Join(dir, ManifestName)), 0o644); err != nil {
		t.Fatal(err)
	}
	// An edit far from the top of main.go: merged.
	editFile(t, filepath.Join(dir, "main.go"), "func main() {", "// Edited by hand.\nfunc main() {")
	// The project was generated by templates.FS(), which this gingen is not (the changed
	// templates are): they are given as the base, as --base-templates gives them.
	given := UpgradeOptions{BaseTemplates: templates.FS()}
	plan := upgrade(t, dir, given, changedTemplates(t))
	if plan.Base != BaseGiven {
		t.Errorf("base = %q, want the templates given", plan.Base)
	}
	if got := stepsByPath(plan.Steps)["main.go"]; got != ActionMerge {
		t.Fatalf("main.go: %s, want merge", got)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "main.go"))
	if !bytes.HasPrefix(b, []byte("// Upgraded by a newer gingen.\n")) || !bytes.Contains(b, []byte("// Edited by hand.\nfunc main() {")) {
		t.Errorf("merged main.go lacks one of the two changes:\n%s", b)
	}

	// An edit of the very first line: the template's change conflicts with it.
	editFile(t, filepath.Join(other, "main.go"), "// Command myblog serves", "// Command myblog (edited) serves")
	before, _ := os.ReadFile(filepath.Join(other, "main.go"))
	plan = upgrade(t, other, given, changedTemplates(t))
	if got := stepsByPath(plan.Steps)["main.go"]; got != ActionConflict {
		t.Fatalf("main.go: %s, want conflict", got)
	}
	after, _ := os.ReadFile(filepath.Join(other, "main.go"))
	if !bytes.Equal(before, after) {
		t.Error("main.go changed although its merge conflicts; the user's file must be kept")
	}
	side, err := os.ReadFile(filepath.Join(other, "main.go"+SideFileSuffix))
	if err != nil || !bytes.HasPrefix(side, []byte("// Upgraded by a newer gingen.\n")) {
		t.Errorf("main.go%s = %.60q, %v; want the new render", SideFileSuffix, side, err)
	}
	if got := stepsByPath(plan.Steps)["README.md"]; got != ActionIdentical {
		t.Errorf("README.md: %s, want identical", got)
	}

	// A line the user inserted where the template inserts its own (the top of main.go):
	// diff3's conflict, a side file. An upgrade's changes are another release's, of any kind:
	// they are not set beside the user's lines, as a command's own lines are (merge3's beside).
	editFile(t, filepath.Join(top, "main.go"), "// Command myblog serves", "// My header.\n// Command myblog serves")
	plan = upgrade(t, top, given, changedTemplates(t))
	if got := stepsByPath(plan.Steps)["main.go"]; got != ActionConflict {
		t.Errorf("main.go with a line inserted where the template inserts: %s, want conflict", got)
	}

	// --force settles the same conflict the other way: the template's text in the file, the
	// user's beside it.
	forced := copyTree(t, other)
	if err := os.Remove(filepath.Join(forced, "main.go"+SideFileSuffix)); err != nil {
		t.Fatal(err)
	}
	// The project records the changed templates now; it was generated by templates.FS().
	force := UpgradeOptions{BaseTemplates: templates.FS(), Force: true}
	if err := os.WriteFile(filepath.Join(forced, ManifestName), mustRead(t, filepath.Join(dir, "..", "myblog-manifest-orig")), 0o644); err != nil {
		t.Fatal(err)
	}
	plan = upgrade(t, forced, force, changedTemplates(t))
	if got := stepsByPath(plan.Steps)["main.go"]; got != ActionForce {
		t.Fatalf("main.go with --force: %s, want force", got)
	}
	if got := mustRead(t, filepath.Join(forced, "main.go")); !bytes.HasPrefix(got, []byte("// Upgraded by a newer gingen.\n")) {
		t.Error("main.go with --force is not the template's text")
	}
	if got := mustRead(t, filepath.Join(forced, "main.go"+OldFileSuffix)); !bytes.Equal(got, before) {
		t.Errorf("main.go%s is not the user's text", OldFileSuffix)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUpgradeSwitchesStrategy switches a fork project with a resource to systemd, then to
// supervisor: each strategy's files come, main.go passes the new strategy to restart.Run, the
// resource stays registered, an edited file of the strategy left behind is kept, and the
// project is exactly what gingen new --strategy supervisor plus the resource renders.
func TestUpgradeSwitchesStrategy(t *testing.T) {
	t.Parallel() // in the full loop, its project builds beside the other's
	dir := filepath.Join(t.TempDir(), "myblog")
	files, err := PlanProject(goldenCases()["myblog-fork"], templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteProject(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	add, err := PlanAddResource(os.DirFS(dir), ResourceOptions{Name: "article", Fields: []string{"title:string"}}, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if err := add.Apply(dir); err != nil {
		t.Fatal(err)
	}

	plan := upgrade(t, dir, UpgradeOptions{Strategy: StrategySystemd}, templates.FS())
	steps := stepsByPath(plan.Steps)
	if steps["deploy/myblog.socket"] != ActionCreate || steps["main.go"] != ActionUpdate {
		t.Errorf("fork -> systemd steps: deploy/myblog.socket %s, main.go %s; want create, update", steps["deploy/myblog.socket"], steps["main.go"])
	}
	if b, err := os.ReadFile(filepath.Join(dir, "main.go")); err != nil || !bytes.Contains(b, []byte("restart.Run(ctx, restart.Systemd,")) {
		t.Errorf("main.go after the switch to systemd does not run restart.Systemd (%v)", err)
	}
	editFile(t, filepath.Join(dir, "deploy/myblog.socket"), "[Socket]\n", "[Socket]\n# Edited.\n")

	plan = upgrade(t, dir, UpgradeOptions{Strategy: StrategySupervisor}, templates.FS())
	steps = stepsByPath(plan.Steps)
	if steps["deploy/supervisord.conf"] != ActionCreate || steps["deploy/myblog.socket"] != ActionKeep {
		t.Errorf("systemd -> supervisor steps: deploy/supervisord.conf %s, deploy/myblog.socket %s; want create, keep",
			steps["deploy/supervisord.conf"], steps["deploy/myblog.socket"])
	}
	// The edited socket unit is the user's now; without it, the tree is the supervisor render.
	if err := os.Remove(filepath.Join(dir, "deploy/myblog.socket")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Strategy != StrategySupervisor || len(m.Resources) != 1 {
		t.Fatalf("manifest: strategy %s, %d resources; want supervisor and the article", m.Strategy, len(m.Resources))
	}
	want, _, err := RenderProject(m, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	compareTree(t, dir, want)
	testloop.Skip(t, "builds the switched project")
	goIn(t, dir, "build", "./...")
	goIn(t, dir, "vet", "./...")
}

func TestMerge3(t *testing.T) {
	for _, tc := range []struct {
		name, base, ours, theirs, want string
		conflict                       bool
		// diff3: the conflict of a merge without beside (upgrade's), where it differs.
		diff3 bool
	}{
		{"only ours changed", "a\nb\nc\n", "a\nB\nc\n", "a\nb\nc\n", "a\nB\nc\n", false, false},
		{"only theirs changed", "a\nb\nc\n", "a\nb\nc\n", "a\nb\nC\n", "a\nb\nC\n", false, false},
		{"both, apart", "a\nb\nc\nd\ne\n", "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "A\nb\nc\nd\nE\n", false, false},
		{"both alike", "a\nb\n", "a\nX\n", "a\nX\n", "a\nX\n", false, false},
		{"inserts at both ends", "a\nb\n", "0\na\nb\n", "a\nb\nz\n", "0\na\nb\nz\n", false, false},
		{"a deletion and an edit apart", "a\nb\nc\nd\n", "b\nc\nd\n", "a\nb\nc\nD\n", "b\nc\nD\n", false, false},
		{"the same line changed two ways", "a\nb\nc\n", "a\nX\nc\n", "a\nY\nc\n", "", true, false},
		{"insertions at the same place: ours first", "a\nM\n", "a\nX\nM\n", "a\nY\nM\n", "a\nX\nY\nM\n", false, true},
		{"the same insertion at the same place, with more", "a\nM\nz\n", "a\nX\nM\nZ\n", "a\nX\nM\nz\n", "a\nX\nM\nZ\n", false, false},
		{"insertions at the same place with a line in common", "a\nM\n", "a\nX\nM\n", "a\nX\nY\nM\n", "", true, false},
		{"an insertion beside a deleted line", "a\nR\nM\n", "a\nX\nR\nM\n", "a\nM\n", "a\nX\nM\n", false, true},
		{"an insertion below a deleted line", "a\nR\nM\n", "a\nM\n", "a\nR\nY\nM\n", "a\nY\nM\n", false, true},
		{"a changed line beside an insertion", "a\nb\nM\n", "a\nB\nM\n", "a\nb\nY\nM\n", "", true, false},
		{"an insertion beside a changed line", "a\nb\nM\n", "a\nX\nb\nM\n", "a\nB\nM\n", "", true, false},
		{"a line changed and deleted", "a\nR\nM\n", "a\nR2\nM\n", "a\nM\n", "", true, false},
		{"a changed line beside a deletion", "a\nb\nc\nd\n", "a\nB\nc\nd\n", "a\nb\nd\n", "", true, false},
		{"no final newline", "a\nb\nc", "A\nb\nc", "a\nb\nC", "A\nb\nC", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, conflict := merge3([]byte(tc.base), []byte(tc.ours), []byte(tc.theirs), true)
			if conflict != tc.conflict || (!conflict && string(got) != tc.want) {
				t.Errorf("merge3 beside = %q, conflict %v; want %q, conflict %v", got, conflict, tc.want, tc.conflict)
			}
			got, conflict = merge3([]byte(tc.base), []byte(tc.ours), []byte(tc.theirs), false)
			if want := tc.conflict || tc.diff3; conflict != want || (!conflict && string(got) != tc.want) {
				t.Errorf("merge3 = %q, conflict %v; want %q, conflict %v", got, conflict, tc.want, want)
			}
		})
	}
}

// TestUpgradeWithoutTheBaseWritesSideFiles: when gingen has not the templates that generated
// the project, an unchanged file (its recorded SHA-256) is still updated, and an edited one
// gets a side file rather than a guess.
func TestUpgradeWithoutTheBaseWritesSideFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "myblog")
	files, err := PlanProject(goldenCases()["myblog-fork"], changedTemplates(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteProject(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	editFile(t, filepath.Join(dir, "main.go"), "func main() {", "// Edited by hand.\nfunc main() {")
	editFile(t, filepath.Join(dir, "README.md"), "# myblog", "# myblog, edited")
	plan := upgrade(t, dir, UpgradeOptions{}, templates.FS())
	steps := stepsByPath(plan.Steps)
	if plan.Base != BaseDigests || steps["main.go"] != ActionConflict || steps["README.md"] != ActionConflict {
		t.Fatalf("base %q, main.go %s, README.md %s; want recorded digests only, conflict, conflict", plan.Base, steps["main.go"], steps["README.md"])
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "main.go")); !bytes.HasPrefix(b, []byte("// Upgraded by a newer gingen.")) || !bytes.Contains(b, []byte("// Edited by hand.")) {
		t.Errorf("main.go was not kept as the user left it:\n%.200s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "main.go"+SideFileSuffix)); bytes.HasPrefix(b, []byte("// Upgraded by a newer gingen.")) {
		t.Errorf("main.go%s is not the new render", SideFileSuffix)
	}
}

// TestAddAndDestroyKeepTheRecordedDigestsTrue: the files add and destroy edit at the markers
// keep a recorded SHA-256 that is their content, unless the user had edited them before.
func TestAddAndDestroyKeepTheRecordedDigestsTrue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "myblog")
	files, err := PlanProject(goldenCases()["myblog-fork"], templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteProject(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	recorded := func() Manifest {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseManifest(b)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	matches := func(p string) bool {
		t.Helper()
		sum, _ := recorded().recordedDigest(p)
		body, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return digest(body) == sum
	}
	editFile(t, filepath.Join(dir, "routers/api/v1/routes.go"), "package v1\n", "package v1\n\n// Edited.\n")
	add, err := PlanAddResource(os.DirFS(dir), ResourceOptions{Name: "article", Fields: []string{"title:string"}}, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if err := add.Apply(dir); err != nil {
		t.Fatal(err)
	}
	if !matches("models/models.go") {
		t.Error("after add: models/models.go's recorded SHA-256 is not its content")
	}
	if matches("routers/api/v1/routes.go") {
		t.Error("after add: routes.go, edited by hand before, has its new content recorded; the edit would look generated")
	}
	destroy, err := PlanDestroyResource(os.DirFS(dir), DestroyOptions{Name: "article"}, templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if err := destroy.Apply(dir); err != nil {
		t.Fatal(err)
	}
	if !matches("models/models.go") {
		t.Error("after destroy: models/models.go's recorded SHA-256 is not its content")
	}
}

func TestManifestRefusesBadFileRecords(t *testing.T) {
	good := "schema: 1\nname: myblog\nmodule: myblog\nstrategy: fork\ndb: sqlite\nport: 8000\n"
	for name, tc := range map[string]struct{ yaml, want string }{
		"a path outside":                   {good + "files:\n  - path: ../x.go\n    sha256: " + strings.Repeat("a", 64) + "\n", "key files[0].path"},
		"a bad digest":                     {good + "files:\n  - path: main.go\n    sha256: nope\n", "key files[0].sha256"},
		"a bad templates digest":           {good + "generated:\n  gingen: v1\n  templates_sha256: xyz\n", "key generated.templates_sha256"},
		"a conflict's side file elsewhere": {good + "conflicts:\n  - path: main.go\n    sha256: " + strings.Repeat("a", 64) + "\n    side: ../main.go\n", "key conflicts[0].side"},
		"a conflict outside":               {good + "conflicts:\n  - path: ../x.go\n    sha256: " + strings.Repeat("a", 64) + "\n    side: ../x.go.gingen-new\n", "key conflicts[0].path"},
		"a conflict's bad digest":          {good + "conflicts:\n  - path: main.go\n    sha256: nope\n    side: main.go.gingen-new\n", "key conflicts[0].sha256"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseManifest([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseManifest = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	if _, err := ParseManifest([]byte(good + "files:\n  - path: main.go\n    sha256: " + strings.Repeat("a", 64) + "\n")); err != nil {
		t.Errorf("a good manifest: %v", err)
	}
}

// TestUpgradeNeverRewritesAMigration upgrades golden/myblog-article onto templates that write
// create migrations otherwise: the migrations on disk, which databases may have run, stay
// byte for byte; the new text goes to side files beside them, which goose does not read.
func TestUpgradeNeverRewritesAMigration(t *testing.T) {
	dir := copyTree(t, filepath.Join("..", "golden", "myblog-article"))
	tfs := templates.FS()
	create, err := fs.ReadFile(tfs, "migration/create.sql.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	changed := Overlay(tfs, fstest.MapFS{
		"migration/create.sql.tmpl": {Data: append([]byte("-- Changed by a newer gingen.\n"), create...)},
	})
	migrations, err := filepath.Glob(filepath.Join(dir, MigrationsDir, "*.sql"))
	if err != nil || len(migrations) == 0 {
		t.Fatalf("no migrations in %s (%v)", dir, err)
	}
	before := map[string][]byte{}
	for _, m := range migrations {
		before[m] = mustRead(t, m)
	}
	plan := upgrade(t, dir, UpgradeOptions{BaseTemplates: tfs}, changed)
	steps := stepsByPath(plan.Steps)
	for _, m := range migrations {
		rel := filepath.ToSlash(strings.TrimPrefix(m, dir+string(filepath.Separator)))
		if got := steps[rel]; got != ActionKeep {
			t.Errorf("%s: %s, want keep", rel, got)
		}
		if !bytes.Equal(mustRead(t, m), before[m]) {
			t.Errorf("%s was rewritten; a migration a database may have run must stay as it is", rel)
		}
		side := mustRead(t, m+SideFileSuffix)
		if !bytes.HasPrefix(side, []byte("-- Changed by a newer gingen.\n")) {
			t.Errorf("%s%s = %.60q, want the new templates' text", rel, SideFileSuffix, side)
		}
	}
}

// TestUpgradeNumbersANewTemplateMigrationAfterTheProjectsOwn: a migration the templates add
// to a table of theirs (db/migrations/NAME.sql, without a version) reaches an existing
// project through upgrade, numbered after every migration the project has, its resources'
// and the user's own; the number is recorded, so a second upgrade changes nothing.
func TestUpgradeNumbersANewTemplateMigrationAfterTheProjectsOwn(t *testing.T) {
	dir := copyTree(t, filepath.Join("..", "golden", "myblog-jwt-article"))
	mine := filepath.Join(dir, MigrationsDir, "00009_mine.sql")
	if err := os.WriteFile(mine, []byte("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tfs := templates.FS()
	changed := Overlay(tfs, fstest.MapFS{
		"project/auth/jwt/db/migrations/add_user_email.sql.tmpl": {Data: []byte("-- +goose Up\nALTER TABLE users ADD email text;\n-- +goose Down\nALTER TABLE users DROP email;\n")},
	})
	plan := upgrade(t, dir, UpgradeOptions{BaseTemplates: tfs}, changed)
	steps := stepsByPath(plan.Steps)
	const want = MigrationsDir + "/00010_add_user_email.sql"
	if got := steps[want]; got != ActionCreate {
		t.Fatalf("%s: %q, want create; steps %v", want, got, steps)
	}
	if got := steps[MigrationsDir+"/00002_normalize_usernames.sql"]; got != ActionIdentical {
		t.Errorf("the migration gingen new numbered 00002: %q, want identical", got)
	}
	if !bytes.Contains(mustRead(t, filepath.Join(dir, ManifestName)), []byte("path: "+want)) {
		t.Errorf("%s does not record %s", ManifestName, want)
	}
	// A resource added since takes the next number; the template's migration keeps its own.
	if err := os.WriteFile(filepath.Join(dir, MigrationsDir, "00011_create_tags.sql"), []byte("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := upgrade(t, dir, UpgradeOptions{}, changed)
	for _, s := range again.Steps {
		if s.Action != ActionIdentical && s.Action != ActionKeep {
			t.Errorf("a second upgrade: %s %s (%s), want nothing to do", s.Action, s.Path, s.Note)
		}
	}
}
