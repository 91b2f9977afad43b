package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/internal/restartmod"
	"github.com/gingen/gingen/internal/testloop"
)

// TestTemplatesAreCurrent fails when a combination's go.mod or go.sum template is not what
// depsgen makes of today's templates and pins, so that a new import or a changed pin cannot
// land without its dependencies (the kubebuilder habit: regenerate in CI, fail on a diff).
// It runs go run ./internal/depsgen -check, which tidies only the combinations whose inputs
// or templates differ from inputs.txt (run); with GINGEN_DEPSGEN_FULL=1 (fullEnv) it adds
// -full and tidies all 18. depsgen runs as a process of its own, built without the race
// detector: make full tests this package under -race, which slows rendering the 72 scratch
// projects in the test's process fivefold (113 s against 21 s, load 9 on 2 cores).
func TestTemplatesAreCurrent(t *testing.T) {
	testloop.Skip(t, "tidies the scratch projects of every combination whose inputs changed")
	args := []string{"run", ".", "-check", "-root", "../.."}
	if os.Getenv(fullEnv) == "1" {
		args = append(args, "-full")
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	t.Logf("go %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
}

// TestRestartSumsMatchTheCheckout is the fast half of TestTemplatesAreCurrent: every
// combination's go.sum holds the hashes of the restart library as this checkout would be
// published, so a change to restart/ cannot land without go run ./internal/depsgen.
func TestRestartSumsMatchTheCheckout(t *testing.T) {
	want, err := restartmod.Sum(restartmod.Dir(), generator.RestartVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Combinations() {
		sum, err := os.ReadFile(filepath.Join("../..", depsDir, c.Key(), "go.sum.tmpl"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, line := range strings.Split(string(sum), "\n") {
			if strings.HasPrefix(line, restartmod.Path+" ") {
				got = append(got, line)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: go.sum has the restart library as\n%s\nthe checkout publishes\n%s\nrun: go run ./internal/depsgen",
				c.Key(), strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestTemplatizeRefusesAToolchainLine(t *testing.T) {
	mod := "module " + placeholder + "\n\ngo 1.26.0\n\ntoolchain go1.27.3\n"
	if _, err := templatize([]byte(mod)); err == nil || !strings.Contains(err.Error(), "toolchain") {
		t.Fatalf("templatize = %v, want a toolchain error", err)
	}
	got, err := templatize([]byte("module " + placeholder + "\n\ngo 1.26.0\n\nrequire x.y/z v1.0.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "module {{.Module}}\n\ngo {{.GoVersion}}\n\nrequire x.y/z v1.0.0" + restartReplaceBlock; string(got) != want {
		t.Fatalf("templatize = %q, want %q", got, want)
	}
}

func TestOptionBlocksKeepEachOptionsLinesApart(t *testing.T) {
	plain := "require (\n\ta v1\n\tc v1\n)\n"
	events := "require (\n\ta v1\n\tb v1\n\tc v1\n)\n"
	tracing := "require (\n\ta v1\n\tb v1\n\tc v1\n\td v1\n)\n"
	both := "require (\n\ta v1\n\tb v1\n\tc v1\n\td v1\n)\n"
	got, err := optionBlocks([4][]byte{[]byte(plain), []byte(events), []byte(tracing), []byte(both)})
	if err != nil {
		t.Fatal(err)
	}
	want := "require (\n\ta v1\n{{if or .Events .Tracing}}\tb v1\n{{end}}\tc v1\n{{if .Tracing}}\td v1\n{{end}})\n"
	if string(got) != want {
		t.Fatalf("optionBlocks =\n%s\nwant\n%s", got, want)
	}
	// An option that changes a version of the plain project is refused, naming the line.
	if _, err := optionBlocks([4][]byte{[]byte(plain), []byte(events), []byte("require (\n\ta v2\n\tc v1\n)\n"), []byte(both)}); err == nil || !strings.Contains(err.Error(), "a project with tracing lacks") {
		t.Fatalf("a changed version: %v, want refused", err)
	}
	// Options whose modules interact (both together need a line neither needs alone) are caught.
	if _, err := optionBlocks([4][]byte{[]byte(plain), []byte(events), []byte(tracing), []byte(both + "\te v1\n")}); err == nil || !strings.Contains(err.Error(), "events=true tracing=true") {
		t.Fatalf("an interaction: %v, want refused", err)
	}
}
