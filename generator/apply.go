package generator

import (
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
// opts.Force is set; then each file's fate is the one apply policy's (reconcile) with
// --force: a file that differs gets the new text, and with opts.KeepOld the text it had is
// kept as FILE.gingen-old unless opts.Recorded says gingen wrote it so; the files are
// written all or none. When it is refused, the changes come back with the error, files that
// differ marked conflict. The listing names every overwrite force.
func WriteProject(dir string, files []File, opts WriteOptions) ([]Change, error) {
	empty, err := isMissingOrEmpty(dir)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", dir, err)
	}
	// Read only inside dir: a path through a symbolic link that leads out of it is refused
	// here, before any write.
	project, err := ProjectFS(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	pol := policy{OnConflict: conflictRefuse, Force: opts.Force, NoOldFile: !opts.KeepOld, Dir: dir}
	var (
		out     []Change
		pending []File
	)
	for _, f := range files {
		v, err := viewFile(project, f.Path)
		if err != nil {
			var input *InputError
			if errors.As(err, &input) {
				return nil, err
			}
			return nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
		v.Next, v.Generated = f, true
		if opts.Recorded != nil {
			v.recordedBase(*opts.Recorded, nil, false)
		}
		o, err := reconcile(project, v, pol)
		if err != nil {
			return nil, err
		}
		// gingen new has no base to merge with: the listing names every overwrite force
		// (and, refused without --force, conflict: below).
		action := ActionForce
		if len(o.Steps) == 1 && o.Steps[0].Action != ActionUpdate {
			action = o.Steps[0].Action
		}
		out = append(out, Change{action, f.Path})
		if o.OldFile != "" {
			out = append(out, Change{ActionCreate, o.OldFile})
		}
		pending = append(pending, o.Writes...)
	}
	if !empty && !opts.Force {
		for i := range out {
			if out[i].Action == ActionForce {
				out[i].Action = ActionConflict
			}
		}
		return out, &NotEmptyError{Dir: dir}
	}
	if opts.DryRun {
		return out, nil
	}
	if empty {
		return out, writeTreeAtomically(dir, files)
	}
	return out, commitFiles(dir, pending)
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
