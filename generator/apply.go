package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Action says what applying a plan does, or in a dry run would do, to one file.
type Action string

// Actions, named as Rails generators name them.
const (
	ActionCreate    Action = "create"
	ActionForce     Action = "force"
	ActionIdentical Action = "identical"
	// ActionConflict: the file holds other text than the plan's and cannot take it as is.
	// One action, two fates, each command's one policy: new and add refuse it without
	// --force; upgrade, whose three-way merge of an edited file conflicts, writes the new
	// text beside it (SideFileSuffix) and keeps the user's.
	ActionConflict Action = "conflict"
)

// Change is one line of an applied (or dry-run) plan.
type Change struct {
	Action Action
	Path   string // relative to the project root, slash-separated
}

// WriteOptions control how a plan is applied.
type WriteOptions struct {
	// Force allows writing into a folder that is not empty and overwriting files whose content
	// differs. Files with identical content are left untouched either way.
	Force bool
	// DryRun computes the changes and writes nothing.
	DryRun bool
	// KeepOld keeps the text of each file Force overwrites beside it, as FILE.gingen-old,
	// like upgrade --force keeps an edited file: no edit is lost. (Not for a templates
	// folder, where such a file is not a template.)
	KeepOld bool
	// Recorded, when set, is the gingen.yaml of the project already in the folder: a file
	// that still holds what it records gingen wrote gets no FILE.gingen-old.
	Recorded *Manifest
}

// WriteProject writes a new project's files into dir. A missing or empty dir is filled
// atomically: the tree is written into a temporary folder beside dir and renamed into place,
// so a failure leaves nothing behind. A folder that is not empty is refused unless
// opts.Force is set; then the files are written all or none, and with opts.KeepOld each file
// Force overwrites is kept as FILE.gingen-old unless opts.Recorded says gingen wrote it so. When it is
// refused, the changes come back with the error, files that differ marked conflict.
func WriteProject(dir string, files []File, opts WriteOptions) ([]Change, error) {
	empty, err := isMissingOrEmpty(dir)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", dir, err)
	}
	changes, err := diffFiles(dir, files)
	if err != nil {
		return nil, err
	}
	if !empty && !opts.Force {
		// Report what --force would do, with the files it would overwrite as conflicts.
		for i := range changes {
			if changes[i].Action == ActionForce {
				changes[i].Action = ActionConflict
			}
		}
		return changes, &NotEmptyError{Dir: dir}
	}
	if empty {
		if opts.DryRun {
			return changes, nil
		}
		return changes, writeTreeAtomically(dir, files)
	}
	project, err := ProjectFS(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	var pending []File
	var out []Change
	for i, c := range changes {
		out = append(out, c)
		if c.Action == ActionIdentical {
			continue
		}
		pending = append(pending, files[i])
		if c.Action != ActionForce || !opts.KeepOld {
			continue
		}
		cur, err := fs.ReadFile(project, c.Path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", c.Path, err)
		}
		if opts.Recorded != nil && opts.Recorded.unedited(c.Path, cur) {
			continue
		}
		old := c.Path + OldFileSuffix
		switch prev, err := fs.ReadFile(project, old); {
		case err == nil && !bytes.Equal(prev, cur):
			return nil, inputErrorf("%s would keep the text --force overwrites in %s, which holds an earlier copy; merge that into %s or delete it, then run the command again", filepath.Join(dir, c.Path), filepath.Join(dir, old), c.Path)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("read %s: %w", old, err)
		}
		pending = append(pending, File{Path: old, Body: cur, Mode: fileMode(project, c.Path)})
		out = append(out, Change{ActionCreate, old})
	}
	if opts.DryRun {
		return out, nil
	}
	return out, commitFiles(dir, pending)
}

// diffFiles compares the plan with what is on disk under root, reading only inside root: a
// path through a symbolic link that leads out of it is refused here, before any write.
func diffFiles(root string, files []File) ([]Change, error) {
	project, err := ProjectFS(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", root, err)
	}
	changes := make([]Change, 0, len(files))
	for _, f := range files {
		var old []byte
		err := fs.ErrNotExist
		if project != nil {
			old, err = fs.ReadFile(project, f.Path)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			changes = append(changes, Change{ActionCreate, f.Path})
		case err != nil:
			var input *InputError
			if errors.As(err, &input) {
				return nil, err
			}
			return nil, fmt.Errorf("read %s: %w", f.Path, err)
		case bytes.Equal(old, f.Body):
			changes = append(changes, Change{ActionIdentical, f.Path})
		default:
			changes = append(changes, Change{ActionForce, f.Path})
		}
	}
	return changes, nil
}

func isMissingOrEmpty(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return len(entries) == 0, nil
}

// writeTreeAtomically writes files into a temporary folder beside dir and renames it to dir.
func writeTreeAtomically(dir string, files []File) (err error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".gingen-*")
	if err != nil {
		return fmt.Errorf("create temporary folder beside %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	r, err := os.OpenRoot(tmp)
	if err != nil {
		return fmt.Errorf("open %s: %w", tmp, err)
	}
	defer r.Close()
	// Each folder is made and opened once, not once per file in it: os.Root resolves every
	// path a component at a time, a system call each.
	folders := map[string]*os.Root{}
	defer func() {
		for _, f := range folders {
			_ = f.Close()
		}
	}()
	for _, f := range files {
		name := filepath.FromSlash(f.Path)
		dir := filepath.Dir(name)
		folder, ok := folders[dir]
		if !ok {
			if err := r.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("write %s: %w", f.Path, confinedErr(r, f.Path, err))
			}
			if folder, err = r.OpenRoot(dir); err != nil {
				return fmt.Errorf("write %s: %w", f.Path, confinedErr(r, f.Path, err))
			}
			folders[dir] = folder
		}
		if err := folder.WriteFile(filepath.Base(name), f.Body, f.Mode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, confinedErr(r, f.Path, err))
		}
	}
	// os.Rename refuses to replace a directory, even an empty one: remove it first. The
	// emptiness was checked by the caller; Remove fails rather than delete a folder that
	// gained files since.
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("move generated project into %s: %w", dir, err)
	}
	return nil
}

// commitFiles writes files under an existing root so that either all of them land or none
// do, even if the process is killed (see applyChange).
func commitFiles(root string, files []File) error {
	return commit(root, files, nil)
}

// commit is commitFiles that also deletes files (slash-separated paths under root), in the
// same all-or-nothing step.
func commit(root string, files []File, deletes []string) error {
	return applyChange(context.Background(), root, files, deletes)
}
