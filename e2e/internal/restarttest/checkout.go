package restarttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

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
// added to GOFLAGS (restartmod.ProjectEnv). It panics when the library cannot be published: no
// project could build.
func GoEnv(dir string) []string {
	_ = dir
	env, err := restartmod.ProjectEnv(generator.RestartVersion, os.Getenv("GOFLAGS"))
	if err != nil {
		panic(fmt.Sprintf("publish the checkout's restart library for the go command: %v", err))
	}
	return env
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
