package restarttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/internal/restartmod"
)

// rootModule is the first line of the go.mod at the root of a gingen checkout.
const rootModule = "module github.com/gingen/gingen\n"

// CheckoutRoot is the root of the gingen checkout that holds the current folder: the nearest
// folder upward whose go.mod is gingen's. The e2e tests (run in e2e/), the harness's own
// tests and the bench commands find golden/, docs/ and .ci/ through it, from wherever they
// run inside the checkout.
func CheckoutRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(mod, []byte(rootModule)) {
			return dir, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("looking for the gingen checkout: %w", err)
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("%s is not inside a gingen checkout (no go.mod of github.com/gingen/gingen above it)", wd)
		}
	}
}

// GoCmd is the go command with args, run in dir, a golden or generated project. Every test
// and benchmark that runs go on such a project goes through GoCmd or GoEnv, so that what the
// projects need from the environment is set in one place.
func GoCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = GoEnv(dir)
	return cmd
}

// GoEnv is the environment of a go command (or of a script that runs one, such as a
// Dockerfile's RUN lines) on the project in dir: this process's environment, with the
// checkout's restart library published at the version projects require (restartmod.Env: a
// file-based module proxy of its own, checked against the project's go.sum), and -trimpath
// added to GOFLAGS (TrimpathGOFLAGS). It panics when the library cannot be published: no
// project could build.
func GoEnv(dir string) []string {
	_ = dir
	env, err := restartmod.Env(generator.RestartVersion)
	if err != nil {
		panic(fmt.Sprintf("publish the checkout's restart library for the go command: %v", err))
	}
	return append(append(os.Environ(), env...), TrimpathGOFLAGS(os.Getenv("GOFLAGS")))
}

// TrimpathGOFLAGS returns GOFLAGS=flags with -trimpath and -buildvcs=false added where
// missing: how every test builds, vets and tests a generated project. Without -trimpath, a
// compiled package's cache key holds its folder, so the same package of two projects (the
// golden trees, the projects the tests generate in temporary folders) compiled twice, and
// every test binary with it: with it, a package the same in both, with the same
// dependencies, compiles once per machine. Measured on two golden trees that differ in their
// strategy (fork, then supervisor; go build, vet and test -count=1): the second took 26
// CPU-seconds with -trimpath against 105 without. The release builds (Dockerfile,
// realsystemd's fixtures) and CI's lint of the golden trees use -trimpath too, so the
// dependencies compile once for all of them. -buildvcs=false: a GOFLAGS variable replaces
// the go env file's (where a machine may set it), and a test build needs no VCS stamp of
// the checkout it runs in.
func TrimpathGOFLAGS(flags string) string {
	fields := strings.Fields(flags)
	name := func(flag string) string { n, _, _ := strings.Cut(flag, "="); return n }
	for _, add := range []string{"-trimpath", "-buildvcs=false"} {
		// A flag flags already sets, to any value, stays as flags set it.
		if !slices.ContainsFunc(fields, func(f string) bool { return name(f) == name(add) }) {
			fields = append(fields, add)
		}
	}
	return "GOFLAGS=" + strings.Join(fields, " ")
}

// ChdirCheckoutRoot makes the root of the gingen checkout the current folder, so that the
// bench commands' default paths (golden/, docs/BENCHMARKS.md) and the paths given to their
// flags are relative to it, whether they run from the root (go -C e2e run ./cmd/...) or
// from e2e/.
func ChdirCheckoutRoot() error {
	root, err := CheckoutRoot()
	if err != nil {
		return err
	}
	return os.Chdir(root)
}
