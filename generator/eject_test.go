package generator

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/gingen/gingen/internal/restartmod"
	"github.com/gingen/gingen/internal/testloop"
	"github.com/gingen/gingen/templates"
)

// TestRestartRequiresAreTheLibrarys keeps restartRequires in step with restart/go.mod.
func TestRestartRequiresAreTheLibrarys(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(restartmod.Dir(), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range f.Require {
		if !r.Indirect {
			got = append(got, r.Mod.Path)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, restartRequires()) {
		t.Errorf("restart/go.mod requires %v, restartRequires lists %v", got, restartRequires())
	}
}

// TestEjectRestart ejects the restart library of a project with a resource: the library's
// files land in internal/restart, main.go imports them, go.mod and go.sum no longer name the
// library, gingen.yaml records it, a later upgrade keeps it so and leaves the copy alone, and
// the project builds, vets, is tidy and passes the copied tests with no module proxy at all
// (that part in the full loop only).
func TestEjectRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "myblog")
	files, err := PlanProject(goldenCases()["myblog-supervisor"], templates.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteProject(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	lib := os.DirFS(restartmod.Dir())
	plan := upgrade(t, dir, UpgradeOptions{EjectRestart: lib}, templates.FS())
	steps := stepsByPath(plan.Steps)
	if steps["internal/restart/run.go"] != ActionCreate || steps["main.go"] != ActionUpdate || steps["go.mod"] != ActionUpdate {
		t.Errorf("eject steps: internal/restart/run.go %s, main.go %s, go.mod %s; want create, update, update",
			steps["internal/restart/run.go"], steps["main.go"], steps["go.mod"])
	}
	read := func(p string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if main := read("main.go"); !bytes.Contains(main, []byte(`"myblog/internal/restart"`)) || bytes.Contains(main, []byte(RestartModule)) {
		t.Errorf("main.go does not import the ejected copy:\n%s", main)
	}
	for _, p := range []string{"go.mod", "go.sum"} {
		if b := read(p); bytes.Contains(b, []byte(RestartModule)) {
			t.Errorf("%s still names %s", p, RestartModule)
		}
	}
	if !bytes.Contains(read("go.mod"), []byte("\tgithub.com/cloudflare/tableflip v1.2.3\n")) {
		t.Errorf("go.mod does not require tableflip directly:\n%s", read("go.mod"))
	}
	m, err := ParseManifest(read(ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if !m.RestartEjected() || slices.ContainsFunc(m.Files, func(f GeneratedFile) bool { return strings.HasPrefix(f.Path, EjectDir+"/") }) {
		t.Errorf("gingen.yaml: ejected %v; it must record the ejection and none of the copied files", m.Ejected)
	}

	// The copy is the user's: an edit survives an upgrade, which changes nothing else.
	editFile(t, filepath.Join(dir, "internal/restart/run.go"), "package restart\n", "package restart\n\n// Edited.\n")
	plan = upgrade(t, dir, UpgradeOptions{}, templates.FS())
	for _, s := range plan.Steps {
		if s.Action != ActionIdentical {
			t.Errorf("upgrade after eject: %s", s)
		}
	}
	if _, err := PlanUpgrade(os.DirFS(dir), UpgradeOptions{EjectRestart: lib}, templates.FS(), nil); err == nil || !strings.Contains(err.Error(), "already ejected") {
		t.Errorf("a second eject: %v, want already ejected", err)
	}

	testloop.Skip(t, "builds the ejected project")
	// The machine's module proxy, without the tests' own file-based one that serves gingen's
	// restart library: the project needs nothing of gingen's modules any more. (Not
	// GOPROXY=off: go mod tidy needs the modules of its dependencies' tests, which a cold
	// module cache does not hold.)
	upstream, err := restartmod.Upstream()
	if err != nil {
		t.Fatal(err)
	}
	// Else as every go command on a project (restartmod.ProjectEnv: cgo off; the build tags and
	// -trimpath): its dependencies are then the ones the golden trees' builds compiled, not a
	// variant of every package of its own (1008 s of a cold CI run's generator tests).
	env, err := restartmod.ProjectEnv(RestartVersion, "-mod=readonly -tags="+BuildTags)
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "GOPROXY="+upstream, "GOWORK=off")
	// The copy's tests all compile; the quick ones run (the library's own CI runs them all).
	for _, args := range [][]string{{"mod", "tidy", "-diff"}, {"build", "./..."}, {"vet", "./..."}, {"test", "-count=1", "-run", "^TestDelayDrain", "./internal/restart"}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in the ejected project: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
