package generator

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Project is a gingen project opened for one command: its files, read through an os.Root
// confined to its folder (ProjectFS), and its gingen.yaml read once: the manifest and the
// SHA-256 of the very bytes it was parsed from, which a plan carries (Plan.ManifestSum) so
// that it is applied only to the state it was made from. Commands open a project with Open
// and read the manifest from it; nothing else in gingen reads gingen.yaml.
type Project struct {
	// Root is the project's folder, as given to Open.
	Root string
	// FS serves the project's files, confined to Root.
	FS       fs.FS
	Manifest Manifest
	// Sum is the SHA-256 of the gingen.yaml Manifest was parsed from.
	Sum string
}

// Open opens the project at root: its confined files and its gingen.yaml, read and
// validated. A manifest that is missing, too big or invalid is an error naming the problem
// and the fix.
func Open(root string) (*Project, error) {
	fsys, err := ProjectFS(root)
	if err != nil {
		return nil, fmt.Errorf("open the project: %w", err)
	}
	b, err := ReadManifestFile(fsys)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, inputErrorf("%v; fix the file or restore it from version control", err)
	}
	return &Project{Root: root, FS: fsys, Manifest: m, Sum: digest(b)}, nil
}

// TemplatesDir is the folder of templates to lay over the embedded ones: flag when it is set,
// else the manifest's templates: key (relative to the project's root), which must be
// readable; "" when neither names one.
func (p *Project) TemplatesDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p.Manifest.Templates == "" {
		return "", nil
	}
	dir := p.Manifest.TemplatesDir(p.Root)
	if _, err := os.Stat(dir); err != nil {
		return "", inputErrorf("the templates: key of %s names %s, which cannot be read (%v); restore the folder or remove the key",
			filepath.Join(p.Root, ManifestName), p.Manifest.Templates, err)
	}
	return dir, nil
}
