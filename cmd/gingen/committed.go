package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
)

// neverCommitted returns the check destroy uses to tell a migration that never left the
// working tree (generator.DestroyOptions.NeverCommitted) for the project at root: the project
// is in a git work tree and no commit of any branch or tag has the file. Without git, or
// outside a work tree, gingen cannot tell and returns nil: every migration may then have run,
// and destroy writes a migration that undoes it instead of deleting it.
func neverCommitted(root string) func(string) bool {
	// fsmonitor is off: a hook of a cloned repository's config never runs through gingen.
	git := func(args ...string) ([]byte, error) {
		return exec.Command("git", append([]string{"-c", "core.fsmonitor=false", "-C", root}, args...)...).Output()
	}
	if out, err := git("rev-parse", "--is-inside-work-tree"); err != nil || !bytes.Equal(bytes.TrimSpace(out), []byte("true")) {
		return nil
	}
	return func(p string) bool {
		out, err := git("log", "--all", "-1", "--format=%H", "--", filepath.FromSlash(p))
		return err == nil && len(bytes.TrimSpace(out)) == 0
	}
}
