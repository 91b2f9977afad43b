package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// EjectRestart names the restart library for `gingen eject`.
const EjectRestart = "restart"

// EjectDir is where `gingen eject restart` puts the copy of the restart library.
const EjectDir = "internal/restart"

// restartRequires are the modules the restart library imports (restart/go.mod's
// requirements), sorted: direct requirements of a project that owns a copy of it.
func restartRequires() []string {
	return []string{
		"github.com/cloudflare/tableflip",
		"github.com/coreos/go-systemd/v22",
		"golang.org/x/sys",
	}
}

// ejectedModule rewrites the rendered go.mod and go.sum of a project that owns a copy of the
// restart library: the library's requirement, replace and sums go, and the modules it
// imports become direct requirements, which is what `go mod tidy` makes of it.
func ejectedModule(byPath map[string]File) error {
	mod, ok := byPath["go.mod"]
	if !ok {
		return nil
	}
	f, err := modfile.Parse("go.mod", mod.Body, nil)
	if err != nil {
		return fmt.Errorf("eject: rendered go.mod: %w", err)
	}
	var reqs []*modfile.Require
	for _, r := range f.Require {
		if r.Mod.Path == RestartModule {
			continue
		}
		r := *r
		if slices.Contains(restartRequires(), r.Mod.Path) {
			r.Indirect = false
		}
		reqs = append(reqs, &r)
	}
	f.SetRequireSeparateIndirect(reqs)
	if err := f.DropReplace(RestartModule, ""); err != nil {
		return fmt.Errorf("eject: rendered go.mod: %w", err)
	}
	f.Cleanup()
	body, err := f.Format()
	if err != nil {
		return fmt.Errorf("eject: rendered go.mod: %w", err)
	}
	mod.Body = body
	byPath["go.mod"] = mod
	if sum, ok := byPath["go.sum"]; ok {
		var kept []byte
		for line := range bytes.Lines(sum.Body) {
			if !bytes.HasPrefix(line, []byte(RestartModule+" ")) {
				kept = append(kept, line...)
			}
		}
		sum.Body = kept
		byPath["go.sum"] = sum
	}
	return nil
}

// ejectFiles returns the files of the restart library's source lib (the module's folder: its
// Go files and LICENSE) as files of the project under EjectDir. A file already there with
// other content is refused, unless it is a runtime file an earlier release of gingen copied
// into the project and nobody edited (m records its digest).
func ejectFiles(project fs.FS, m Manifest, lib fs.FS) ([]File, error) {
	entries, err := fs.ReadDir(lib, ".")
	if err != nil {
		return nil, fmt.Errorf("eject: read the restart library: %w", err)
	}
	var files []File
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || (!strings.HasSuffix(name, ".go") && name != "LICENSE") {
			continue
		}
		body, err := fs.ReadFile(lib, name)
		if err != nil {
			return nil, fmt.Errorf("eject: read the restart library: %w", err)
		}
		p := path.Join(EjectDir, name)
		f := File{Path: p, Body: body, Mode: 0o644}
		// The one apply policy, refusing: a file already there is taken over only if it is
		// the library's text or what gingen wrote (an earlier release's runtime file).
		v, err := viewFile(project, p)
		if err != nil {
			return nil, fmt.Errorf("eject: %w", err)
		}
		v.Next, v.Generated = f, true
		v.recordedBase(m, nil, false)
		switch o, err := reconcile(project, v, policy{OnConflict: conflictRefuse}); {
		case err != nil:
			return nil, err
		case o.Refused:
			return nil, inputErrorf("eject: %s exists and is not the restart library's; move it away, then run gingen eject restart again", p)
		}
		files = append(files, f)
	}
	if !slices.ContainsFunc(files, func(f File) bool { return path.Base(f.Path) == "run.go" }) {
		return nil, inputErrorf("eject: the folder given as the restart library has no run.go; it is not github.com/gingen/gingen/restart")
	}
	return files, nil
}

// CheckEject refuses to eject the restart library of a project that already owns a copy.
func CheckEject(project fs.FS) error {
	m, err := readManifest(project)
	if err != nil {
		return err
	}
	if m.RestartEjected() {
		return inputErrorf("the restart library is already ejected: %s is the project's own (see ejected in %s)", EjectDir, ManifestName)
	}
	return nil
}
