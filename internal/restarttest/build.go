// Package restarttest drives generated projects through restarts under load and counts
// every request that fails. The end-to-end tests and the restart benchmark use it.
package restarttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles the project in dir into out with main.version stamped to version. The
// binary is written beside out and renamed over it, as a deploy would, so a running process
// keeps its old binary while the next restart picks up the new one.
func Build(ctx context.Context, dir, out, version string) error {
	tmp := out + ".new"
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X main.version="+version, "-o", tmp, ".")
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", dir, err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("build %s: %w", dir, err)
	}
	return nil
}

// BuildFailing writes a binary at out that exits with status 1 at start, as a broken deploy
// would; version is only used to tell builds apart.
func BuildFailing(ctx context.Context, workDir, out string) error {
	src := filepath.Join(workDir, "failing")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"go.mod":  "module failing\n\ngo 1.26\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Fprintln(os.Stderr, \"failing: broken build, exiting\")\n\tos.Exit(1)\n}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return Build(ctx, src, out, "failing")
}
