package main

import (
	"strings"
	"testing"

	"github.com/gingen/gingen/internal/testloop"
)

// TestTemplatesAreCurrent fails when a combination's go.mod or go.sum template is not what
// depsgen makes of today's templates and pins, so that a new import or a changed pin cannot
// land without its dependencies (the kubebuilder habit: regenerate in CI, fail on a diff).
func TestTemplatesAreCurrent(t *testing.T) {
	testloop.Skip(t, "tidies 18 scratch projects")
	if err := run("../..", true); err != nil {
		t.Fatal(err)
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
	if want := "module {{.Module}}\n\ngo {{.GoVersion}}\n\nrequire x.y/z v1.0.0\n"; string(got) != want {
		t.Fatalf("templatize = %q, want %q", got, want)
	}
}
