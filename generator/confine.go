package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Confinement: gingen reads, writes and deletes a project's files (and a templates folder's)
// only through an os.Root opened on the folder, so that no symbolic link, whether the user
// made it or gingen.yaml names a path through it, leads a write or a delete outside. Links
// that stay inside the folder (and are relative) are followed as usual; a link that leads
// out is refused with an InputError that names it.

// ProjectFS returns the files of the project at dir for a plan to read. It is os.DirFS,
// except that a path through a symbolic link leading out of dir is an error naming the link
// instead of being followed.
func ProjectFS(dir string) (fs.FS, error) {
	return openConfined(dir, "gingen reads and writes only inside it: replace the link with a copy of what it points to")
}

// templatesFS is ProjectFS for a folder of templates.
func templatesFS(dir string) (fs.FS, error) {
	return openConfined(dir, "gingen reads templates only from inside it: replace the link with a copy of the file")
}

func openConfined(dir, fix string) (fs.FS, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	// The Root stays open as long as the FS is in use; the runtime closes it once unused.
	return confinedFS{root: r, fsys: r.FS(), fix: fix}, nil
}

// confinedFS serves a folder's files through an os.Root and explains escaping links.
type confinedFS struct {
	root *os.Root
	fsys fs.FS
	fix  string
}

func (c confinedFS) Open(name string) (fs.File, error) {
	f, err := c.fsys.Open(name)
	return f, c.explain(name, err)
}

func (c confinedFS) Stat(name string) (fs.FileInfo, error) {
	info, err := fs.Stat(c.fsys, name)
	return info, c.explain(name, err)
}

func (c confinedFS) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(c.fsys, name)
	return b, c.explain(name, err)
}

func (c confinedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(c.fsys, name)
	return entries, c.explain(name, err)
}

func (c confinedFS) explain(name string, err error) error {
	return explainEscape(c.root, filepath.FromSlash(name), err, c.fix)
}

// explainEscape turns err, the failure of an operation of r on name, into an InputError
// naming the symbolic link on the way to name that leads out of r (or is absolute, which
// os.Root refuses too). Other errors come back as they are.
func explainEscape(r *os.Root, name string, err error, fix string) error {
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return err
	}
	prefix := ""
	for _, elem := range strings.Split(filepath.ToSlash(filepath.Clean(name)), "/") {
		prefix = path.Join(prefix, elem)
		p := filepath.FromSlash(prefix)
		info, lerr := r.Lstat(p)
		if lerr != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		if _, serr := r.Stat(p); serr == nil || errors.Is(serr, fs.ErrNotExist) {
			continue // a link that stays inside, or a dangling one inside
		}
		target, _ := r.Readlink(p)
		return &InputError{msg: fmt.Sprintf("%s is a symbolic link to %s, outside %s; %s", prefix, target, r.Name(), fix)}
	}
	return err
}

// writeFix is the fix of a refused write or delete.
const writeFix = "gingen reads and writes only inside it: replace the link with a copy of what it points to"

// confinedErr explains an error of an operation of r on the slash-separated path p.
func confinedErr(r *os.Root, p string, err error) error {
	return explainEscape(r, filepath.FromSlash(p), err, writeFix)
}
