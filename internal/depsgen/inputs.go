package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// inputs is what every variant's key starts with: what `go mod tidy` reads beyond the
// scratch project itself.
type inputs struct {
	// goVersion is the go command's own version (go env GOVERSION, with tidyEnv): tidy's
	// rules and the standard library's package list come with it.
	goVersion string
	// depsgen is the digest of depsgen's own sources (non-test .go files): what it does with
	// tidy's output (templatize, addSumLines, optionBlocks) and how it computes keys. A change
	// to any of them invalidates every record, so that a changed key function is checked in
	// full the first time it runs.
	depsgen string
	// restart is treeInputs of the restart library the scratch projects replace to.
	restart string
}

// tidyEnv is what gomod sets in the go command's environment over the machine's. The rest of
// the environment is left out of keys: GOOS, GOARCH and tags do not matter to tidy, which
// reads every file but those tagged ignore, and module proxies and the checksum database serve
// a module version's content unchanged once published.
func tidyEnv() []string {
	return []string{"GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod"}
}

// readInputs returns the inputs of the checkout at root whose restart library is restartDir.
func readInputs(root, restartDir string) (inputs, error) {
	cmd := exec.Command("go", "env", "GOVERSION")
	cmd.Env = append(os.Environ(), tidyEnv()...)
	out, err := cmd.Output()
	if err != nil {
		return inputs{}, fmt.Errorf("go env GOVERSION: %w", err)
	}
	src, err := sourceDigest(filepath.Join(root, "internal", "depsgen"))
	if err != nil {
		return inputs{}, err
	}
	restart, err := treeInputs(restartDir, "")
	if err != nil {
		return inputs{}, fmt.Errorf("restart library: %w", err)
	}
	return inputs{goVersion: strings.TrimSpace(string(out)), depsgen: src, restart: restart}, nil
}

// key returns the key of a scratch project: the digest of in and of project, the treeInputs
// of the project as tidy sees it, and resources, the .go files of the project once the sample
// resources are added (what tidy -diff sees; "" for the variants that skip that check).
func (in inputs) key(project, resources string) string {
	h := sha256.New()
	fmt.Fprintf(h, "depsgen inputs\ngo %s\nenv %s\ndepsgen %s\nrestart\n%sproject\n%sresources\n%s",
		in.goVersion, strings.Join(tidyEnv(), " "), in.depsgen, in.restart, project, resources)
	return hex.EncodeToString(h.Sum(nil))
}

// sourceDigest returns the digest of the names and contents of the non-test .go files in dir.
func sourceDigest(dir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasSuffix(n, "_test.go") })
	if len(names) == 0 {
		return "", fmt.Errorf("depsgen's sources: no .go file in %s", dir)
	}
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return "", fmt.Errorf("depsgen's sources: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(n), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// treeInputs returns, one line per fact in the lexical order of paths, what `go mod tidy`
// reads of the module tree at root: of each .go file (test files and those under testdata,
// _ and . folders included, since a path decides its package) its path, build constraint
// lines, package clause and import paths, not the rest, so that a change to comments or code
// leaves it alone; of go.mod, go.sum, go.work and go.work.sum (a nested go.mod makes another
// module) the path and content digest, with restartDir, when not "", replaced by a fixed
// string, since the scratch project's replace names the checkout's absolute path; a symbolic
// link's path and target. A .go file whose header does not parse counts by its whole content.
func treeInputs(root, restartDir string) (string, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", root, err)
	}
	defer r.Close()
	fsys := r.FS()
	var b strings.Builder
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch name := d.Name(); {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := r.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "symlink %s %s\n", path, target)
		case strings.HasSuffix(name, ".go"):
			src, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			goFileInputs(&b, path, src)
		case name == "go.mod" || name == "go.sum" || name == "go.work" || name == "go.work.sum":
			src, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			if restartDir != "" {
				src = bytes.ReplaceAll(src, []byte(restartDir), []byte("$RESTART"))
			}
			fmt.Fprintf(&b, "file %s %x\n", path, sha256.Sum256(src))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", root, err)
	}
	return b.String(), nil
}

// goFileInputs writes to b what tidy reads of the .go file rel with content src.
func goFileInputs(b *strings.Builder, rel string, src []byte) {
	f, err := parser.ParseFile(token.NewFileSet(), rel, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		fmt.Fprintf(b, "go %s unparsed %x\n", rel, sha256.Sum256(src))
		return
	}
	fmt.Fprintf(b, "go %s package %s\n", rel, f.Name.Name)
	for _, g := range f.Comments {
		if g.Pos() >= f.Package {
			break
		}
		for _, c := range g.List {
			if constraint.IsGoBuild(c.Text) || constraint.IsPlusBuild(c.Text) {
				fmt.Fprintf(b, "\tconstraint %s\n", strings.TrimSpace(c.Text))
			}
		}
	}
	for _, s := range f.Imports {
		fmt.Fprintf(b, "\timport %s\n", s.Path.Value)
	}
}
