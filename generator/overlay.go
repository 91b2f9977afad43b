package generator

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Overlay returns the file system that serves over's files where over has them and base's
// files everywhere else: a user's template folder laid over the embedded templates, file by
// file. A folder lists the entries of both. over may add files and folders base lacks; it
// cannot remove any of base's.
func Overlay(base, over fs.FS) fs.FS {
	return overlayFS{base: base, over: over}
}

type overlayFS struct{ base, over fs.FS }

func (o overlayFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	info, err := o.Stat(name)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		if f, err := o.over.Open(name); err == nil {
			return f, nil
		}
		return o.base.Open(name)
	}
	entries, err := o.ReadDir(name)
	if err != nil {
		return nil, err
	}
	return &overlayDir{info: info, entries: entries}, nil
}

// FormattedAsWritten is what base vouches for a file over does not replace (see
// renderFile); nothing is vouched for over's files, which the user wrote.
func (o overlayFS) FormattedAsWritten(name string) bool {
	v, ok := o.base.(formattedAsWritten)
	return ok && o.servesBase(name) && v.FormattedAsWritten(name)
}

// RendersFormatted is what base vouches for a file over does not replace (see renderFile);
// nothing is vouched for over's files.
func (o overlayFS) RendersFormatted(name string) bool {
	v, ok := o.base.(rendersFormatted)
	return ok && o.servesBase(name) && v.RendersFormatted(name)
}

// servesBase reports whether name is base's file: over has nothing by that name.
func (o overlayFS) servesBase(name string) bool {
	_, err := fs.Stat(o.over, name)
	return errors.Is(err, fs.ErrNotExist)
}

// Stat prefers over's entry; a name that is a folder in one and a file in the other is an
// error, so that a user's file cannot hide a whole template folder by accident.
func (o overlayFS) Stat(name string) (fs.FileInfo, error) {
	oi, oerr := fs.Stat(o.over, name)
	bi, berr := fs.Stat(o.base, name)
	switch {
	case oerr == nil && berr == nil && oi.IsDir() != bi.IsDir():
		return nil, &fs.PathError{Op: "stat", Path: name, Err: errors.New("a folder in one template tree and a file in the other")}
	case oerr == nil:
		return oi, nil
	case !errors.Is(oerr, fs.ErrNotExist):
		return nil, oerr
	}
	return bi, berr
}

// ReadDir merges both listings, sorted by name, over's entry winning for a name in both.
func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	byName := map[string]fs.DirEntry{}
	found := false
	for _, fsys := range []fs.FS{o.base, o.over} {
		entries, err := fs.ReadDir(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		for _, e := range entries {
			byName[e.Name()] = e
		}
	}
	if !found {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(byName))
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[n])
	}
	return out, nil
}

// overlayDir is an opened folder of an overlay: its merged listing.
type overlayDir struct {
	info    fs.FileInfo
	entries []fs.DirEntry
	offset  int
}

func (d *overlayDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *overlayDir) Close() error               { return nil }
func (d *overlayDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.Name(), Err: errors.New("is a directory")}
}

func (d *overlayDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.offset += len(rest)
	return slices.Clone(rest), nil
}

// Template trees every template folder may hold: see package templates.
const (
	projectTemplates = "project"
)

// OpenTemplates returns the templates to render: base with the user's folder dir laid over
// it, or base alone when dir is empty. dir must look like a folder `gingen templates export`
// wrote: project/<tree>/... and resource/..., every file a .tmpl, every project tree one
// base has (base or a strategy). Anything else is refused, naming the file, so that a typo
// cannot leave a template silently unused.
func OpenTemplates(base fs.FS, dir string) (fs.FS, error) {
	if dir == "" {
		return base, nil
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, inputErrorf("templates folder %s does not exist; write one with: gingen templates export %s", dir, dir)
	case err != nil:
		return nil, fmt.Errorf("open templates %s: %w", dir, err)
	case !info.IsDir():
		return nil, inputErrorf("templates folder %s is a file; pass a folder like the one gingen templates export writes", dir)
	}
	over, err := templatesFS(dir)
	if err != nil {
		return nil, fmt.Errorf("open templates %s: %w", dir, err)
	}
	found := false
	err = fs.WalkDir(over, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Followed only while it stays inside dir: templatesFS names a link that leads out.
			info, err := fs.Stat(over, p)
			if err != nil {
				return err
			}
			d = fs.FileInfoToDirEntry(info)
		}
		parts := strings.Split(p, "/")
		switch {
		case parts[0] != projectTemplates && parts[0] != resourceTemplates && parts[0] != migrationTemplates:
			return inputErrorf("%s: templates folders hold only %s/, %s/ and %s/; move or remove it", filepath.Join(dir, parts[0]), projectTemplates, resourceTemplates, migrationTemplates)
		case parts[0] == projectTemplates && len(parts) == 2 && !d.IsDir():
			return inputErrorf("%s: project templates go into a tree, %s/<tree>/, where <tree> is %s", filepath.Join(dir, filepath.FromSlash(p)), projectTemplates, strings.Join(projectTrees(base), ", "))
		case parts[0] == projectTemplates && len(parts) == 2 && !slices.Contains(projectTrees(base), parts[1]):
			return inputErrorf("%s: unknown project tree %q; use one of %s", filepath.Join(dir, filepath.FromSlash(p)), parts[1], strings.Join(projectTrees(base), ", "))
		case d.IsDir():
			return nil
		case !strings.HasSuffix(p, templateExt):
			return inputErrorf("%s is not a template: gingen renders only files named like their output plus %s; rename it to %s%s or remove it", filepath.Join(dir, filepath.FromSlash(p)), templateExt, path.Base(p), templateExt)
		}
		if bi, err := fs.Stat(base, p); err == nil && bi.IsDir() {
			return inputErrorf("%s is a file where the embedded templates have a folder; remove it", filepath.Join(dir, filepath.FromSlash(p)))
		}
		found = true
		return nil
	})
	if err != nil {
		var input *InputError
		if errors.As(err, &input) {
			return nil, err
		}
		return nil, fmt.Errorf("read templates %s: %w", dir, err)
	}
	if !found {
		return nil, inputErrorf("templates folder %s holds no template (no %s/.../*%s or %s/.../*%s); write one with: gingen templates export %s", dir, projectTemplates, templateExt, resourceTemplates, templateExt, dir)
	}
	return Overlay(base, over), nil
}

// projectTrees lists the folders under project/ in tfs: base and one per strategy.
func projectTrees(tfs fs.FS) []string {
	entries, err := fs.ReadDir(tfs, projectTemplates)
	if err != nil {
		return nil
	}
	var trees []string
	for _, e := range entries {
		if e.IsDir() {
			trees = append(trees, e.Name())
		}
	}
	return trees
}

// TemplateFiles returns every template of tfs as files to write, keeping their paths:
// what `gingen templates export` writes for a user to edit.
func TemplateFiles(tfs fs.FS) ([]File, error) {
	var out []File
	for _, root := range []string{projectTemplates, resourceTemplates, migrationTemplates} {
		err := fs.WalkDir(tfs, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := fs.ReadFile(tfs, p)
			if err != nil {
				return err
			}
			out = append(out, File{Path: p, Body: body, Mode: 0o644})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list templates: %w", err)
		}
	}
	return out, nil
}

// RecordTemplates sets the templates key of the manifest among files, so that later
// commands in the project (add resource) render with the same templates. project is the
// folder the files go to and dir the templates folder, each relative to the working folder
// or absolute; a relative dir is recorded relative to project, so that it keeps naming the
// same folder from there.
func RecordTemplates(files []File, project, dir string) error {
	recorded, err := relativeTo(project, dir)
	if err != nil {
		return fmt.Errorf("record templates: %w", err)
	}
	for i, f := range files {
		if f.Path != ManifestName {
			continue
		}
		m, err := ParseManifest(f.Body)
		if err != nil {
			return err
		}
		m.Templates = filepath.ToSlash(recorded)
		body, err := m.Marshal()
		if err != nil {
			return err
		}
		files[i].Body = body
		return nil
	}
	return fmt.Errorf("record templates: the plan has no %s", ManifestName)
}

// relativeTo expresses dir relative to base; an absolute dir stays absolute.
func relativeTo(base, dir string) (string, error) {
	if filepath.IsAbs(dir) {
		return dir, nil
	}
	absBase, err := filepath.Abs(base)
	if err != nil {
		return "", err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return filepath.Rel(absBase, absDir)
}

// TemplatesDir resolves the manifest's templates key of the project at root to a folder
// path: the empty string for none.
func (m Manifest) TemplatesDir(root string) string {
	if m.Templates == "" {
		return ""
	}
	dir := filepath.FromSlash(m.Templates)
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(root, dir)
}

// Compile-time checks: the overlay serves what fs.WalkDir and fs.Stat use directly.
var (
	_ fs.ReadDirFS   = overlayFS{}
	_ fs.StatFS      = overlayFS{}
	_ fs.ReadDirFile = (*overlayDir)(nil)
)
