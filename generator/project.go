package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Project is a gingen project opened for one command: its files, read through an os.Root
// confined to its folder (ProjectFS), and its gingen.yaml read once: the manifest and the
// SHA-256 of the very bytes it was parsed from, which a plan carries (Plan.ManifestSum) so
// that it is applied only to the state it was made from. Commands open a project with Open
// and read the manifest from it; nothing else in gingen reads gingen.yaml.
type Project struct {
	// Root is the project's folder, as given to Open.
	Root string
	// FS serves the project's files, confined to Root, and gingen.yaml as Open read it: a
	// plan made from FS sees the very bytes Sum is the digest of, whatever happens to the
	// file meanwhile (a change by another command makes the plan's Apply refuse).
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
	pinned := manifestPinned{fsys: fsys, manifest: b, at: time.Now()}
	return &Project{Root: root, FS: pinned, Manifest: m, Sum: digest(b)}, nil
}

// manifestPinned serves fsys's files, except gingen.yaml, served from memory.
type manifestPinned struct {
	fsys     fs.FS
	manifest []byte
	at       time.Time
}

func (p manifestPinned) Open(name string) (fs.File, error) {
	if name == ManifestName {
		return &pinnedFile{Reader: bytes.NewReader(p.manifest), info: p.info()}, nil
	}
	return p.fsys.Open(name)
}

func (p manifestPinned) Stat(name string) (fs.FileInfo, error) {
	if name == ManifestName {
		return p.info(), nil
	}
	return fs.Stat(p.fsys, name)
}

func (p manifestPinned) ReadFile(name string) ([]byte, error) {
	if name == ManifestName {
		return bytes.Clone(p.manifest), nil
	}
	return fs.ReadFile(p.fsys, name)
}

func (p manifestPinned) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(p.fsys, name)
}

func (p manifestPinned) info() fs.FileInfo {
	return pinnedInfo{size: int64(len(p.manifest)), at: p.at}
}

// pinnedFile is gingen.yaml as Open read it.
type pinnedFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (f *pinnedFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *pinnedFile) Close() error               { return nil }

type pinnedInfo struct {
	size int64
	at   time.Time
}

func (i pinnedInfo) Name() string       { return ManifestName }
func (i pinnedInfo) Size() int64        { return i.size }
func (i pinnedInfo) Mode() fs.FileMode  { return 0o644 }
func (i pinnedInfo) ModTime() time.Time { return i.at }
func (i pinnedInfo) IsDir() bool        { return false }
func (i pinnedInfo) Sys() any           { return nil }

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
