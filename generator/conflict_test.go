package generator

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

func readManifestFile(t *testing.T, dir string) Manifest {
	t.Helper()
	m, err := ParseManifest(mustRead(t, filepath.Join(dir, ManifestName)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// conflictedProject generates myblog-fork, edits the first line of main.go and upgrades it
// onto changedTemplates, whose change of that line conflicts with the edit: main.go keeps the
// user's text, main.go.gingen-new gets the template's. It returns the folder, the user's text
// and the side file's.
func conflictedProject(t *testing.T) (dir string, mine, side []byte) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "myblog")
	files, err := PlanProject(goldenCases()["myblog-fork"], templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteProject(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	editFile(t, filepath.Join(dir, "main.go"), "// Command myblog serves", "// Command myblog (edited) serves")
	mine = mustRead(t, filepath.Join(dir, "main.go"))
	plan := upgrade(t, dir, UpgradeOptions{BaseTemplates: templates.FS()}, changedTemplates(t))
	if got := stepsByPath(plan.Steps)["main.go"]; got != ActionConflict {
		t.Fatalf("main.go: %s, want conflict", got)
	}
	return dir, mine, mustRead(t, filepath.Join(dir, "main.go"+SideFileSuffix))
}

// TestUpgradeRemembersAnOpenConflict: gingen.yaml records the conflict an upgrade left; a
// later upgrade writes a lost side file again (it used to say "keep main.go (edited; the
// template did not change)" while the project did not build), leaves a present one alone,
// and drops the record once the user merged.
func TestUpgradeRemembersAnOpenConflict(t *testing.T) {
	dir, mine, side := conflictedProject(t)
	want := []Conflict{{Path: "main.go", SHA256: digest(mine), Side: "main.go" + SideFileSuffix}}
	if got := readManifestFile(t, dir).Conflicts; !slices.Equal(got, want) {
		t.Fatalf("gingen.yaml records conflicts %v; want %v", got, want)
	}

	// The side file lost: the next upgrade (these templates are now the recorded ones) writes
	// it again, byte for byte, and keeps the record.
	if err := os.Remove(filepath.Join(dir, "main.go"+SideFileSuffix)); err != nil {
		t.Fatal(err)
	}
	plan := upgrade(t, dir, UpgradeOptions{}, changedTemplates(t))
	if plan.Base != BaseCurrent {
		t.Errorf("base = %q, want these templates", plan.Base)
	}
	step := stepOf(t, plan.Steps, "main.go")
	if step.Action != ActionConflict || !strings.Contains(step.Note, "was gone: written again") {
		t.Errorf("main.go after its side file was lost: %s (%s); want conflict, the side file written again", step.Action, step.Note)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "main.go"+SideFileSuffix)); err != nil || !bytes.Equal(got, side) {
		t.Errorf("main.go%s not written again as the first upgrade wrote it: %v", SideFileSuffix, err)
	}
	if got := mustRead(t, filepath.Join(dir, "main.go")); !bytes.Equal(got, mine) {
		t.Error("main.go changed; the user's text must stay until they merge")
	}
	if got := readManifestFile(t, dir).Conflicts; !slices.Equal(got, want) {
		t.Errorf("after the side file came back, gingen.yaml records %v; want %v", got, want)
	}

	// With the side file there, an upgrade writes nothing: the conflict is reported again.
	plan, err := PlanUpgrade(os.DirFS(dir), UpgradeOptions{}, changedTemplates(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Writes) != 0 || stepOf(t, plan.Steps, "main.go").Action != ActionConflict {
		t.Errorf("an upgrade with the conflict open and its side file present writes %d files, main.go %s; want none, conflict", len(plan.Writes), stepOf(t, plan.Steps, "main.go").Action)
	}

	// The user merges (their first line into the template's text) and deletes the side file:
	// resolved, the record goes, and the file is theirs.
	merged := bytes.Replace(side, []byte("// Command myblog serves"), []byte("// Command myblog (edited) serves"), 1)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), merged, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "main.go"+SideFileSuffix)); err != nil {
		t.Fatal(err)
	}
	plan = upgrade(t, dir, UpgradeOptions{}, changedTemplates(t))
	if got := stepOf(t, plan.Steps, "main.go").Action; got != ActionKeep {
		t.Errorf("main.go after the merge: %s, want keep", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go"+SideFileSuffix)); err == nil {
		t.Error("the side file came back after the merge")
	}
	if got := readManifestFile(t, dir).Conflicts; len(got) != 0 {
		t.Errorf("after the merge, gingen.yaml still records %v", got)
	}
	if got := mustRead(t, filepath.Join(dir, "main.go")); !bytes.Equal(got, merged) {
		t.Error("the merged main.go was changed")
	}
}

// TestUpgradeForceSettlesAnOpenConflict: --force on a recorded conflict gives the file the
// template's text, keeps the user's in FILE.gingen-old and drops the record.
func TestUpgradeForceSettlesAnOpenConflict(t *testing.T) {
	dir, mine, side := conflictedProject(t)
	// Unhappy path first: a main.go.gingen-old with other text (an earlier --force's) is
	// never overwritten: the upgrade stops, nothing written.
	old := filepath.Join(dir, "main.go"+OldFileSuffix)
	if err := os.WriteFile(old, []byte("an earlier copy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	_, err := PlanUpgrade(os.DirFS(dir), UpgradeOptions{Force: true}, changedTemplates(t), nil)
	wantInputError(t, err, "main.go would keep the text --force overwrites in main.go"+OldFileSuffix+", which holds an earlier copy")
	sameTree(t, before, snapshot(t, dir))
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}

	plan := upgrade(t, dir, UpgradeOptions{Force: true}, changedTemplates(t))
	if got := stepOf(t, plan.Steps, "main.go").Action; got != ActionForce {
		t.Errorf("main.go with --force: %s, want force", got)
	}
	if got := mustRead(t, filepath.Join(dir, "main.go")); !bytes.Equal(got, side) {
		t.Error("main.go with --force is not the template's text")
	}
	if got := mustRead(t, filepath.Join(dir, "main.go"+OldFileSuffix)); !bytes.Equal(got, mine) {
		t.Errorf("main.go%s is not the user's text", OldFileSuffix)
	}
	if got := readManifestFile(t, dir).Conflicts; len(got) != 0 {
		t.Errorf("after --force, gingen.yaml still records %v", got)
	}
}

func stepOf(t *testing.T, steps []Step, p string) Step {
	t.Helper()
	for _, s := range steps {
		if s.Path == p {
			return s
		}
	}
	t.Fatalf("no step for %s", p)
	return Step{}
}
