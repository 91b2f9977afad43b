package generator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"syscall"
)

// A change to an existing project (add, destroy, upgrade, new --force) is applied through a
// journal, so that it is all or nothing even when the process is interrupted or killed:
//
//  1. the plan is written to .gingen-journal at the project's root (through a temporary
//     file and a rename, so it is there whole or not at all);
//  2. every new content is staged in a ".NAME.gingen-ID" file beside its target, in the
//     folders the change creates (the journal lists them);
//  3. the journal is renamed to .gingen-commit: the commit record, and the one point where the
//     change goes from "not done" to "done";
//  4. the staged files are renamed over their targets, deleted files are removed (and the
//     folders they leave empty), and the commit record is removed.
//
// Recover, which every command that works in a project runs first, finishes what a killed
// run left: a commit record is rolled forward (step 4 again: it is idempotent), a journal
// without one is rolled back (staged files and created folders removed). Everything goes
// through an os.Root, so no step, recovery included, reaches outside the project.
const (
	journalName = ".gingen-journal"
	commitName  = ".gingen-commit"
	journalTemp = ".gingen-journal.tmp"
)

// ErrInterrupted is returned when a change was interrupted before its commit point and
// rolled back: the project is as it was.
var ErrInterrupted = errors.New("interrupted; the change was rolled back and nothing was written")

// journal is the record of one change.
type journal struct {
	ID      string         `json:"id"`
	Writes  []journalWrite `json:"writes,omitempty"`
	Deletes []string       `json:"deletes,omitempty"`
	// Dirs are the folders the change creates, outermost first.
	Dirs []string `json:"dirs,omitempty"`
}

// journalWrite is one file the change writes: its target and its staged content's file, both
// slash-separated and relative to the project's root.
type journalWrite struct {
	Path   string      `json:"path"`
	Staged string      `json:"staged"`
	Mode   fs.FileMode `json:"mode"`
}

// ErrProjectChanged is returned by Plan.Apply when gingen.yaml is no longer what the plan was
// made from: another gingen command changed the project meanwhile. Nothing was written.
var ErrProjectChanged = errors.New(ManifestName + " changed since this command read the project (another gingen command ran in it meanwhile); nothing was written; run the command again")

// Recovery says what Recover found and did.
type Recovery string

// What Recover does.
const (
	RecoveryNone     Recovery = ""               // nothing was pending
	RecoveryBack     Recovery = "rolled back"    // an interrupted change was undone
	RecoveryForward  Recovery = "rolled forward" // an interrupted change that had committed was finished
	recoveryTempOnly Recovery = "cleaned"        // only a half-written journal was left: removed
)

// Recover finishes or undoes a change that an interrupted gingen left in the project at root,
// and reports which. A project with nothing pending is left alone.
func Recover(root string) (Recovery, error) {
	unlock, err := lockProject(root)
	if err != nil {
		return RecoveryNone, err
	}
	defer unlock()
	r, err := os.OpenRoot(root)
	if err != nil {
		return RecoveryNone, fmt.Errorf("open project %s: %w", root, err)
	}
	defer r.Close()
	return recoverIn(r)
}

func recoverIn(r *os.Root) (Recovery, error) {
	if j, err := readJournal(r, commitName); err == nil {
		if err := rollForward(r, j); err != nil {
			return RecoveryNone, fmt.Errorf("finish the interrupted change recorded in %s: %w", commitName, err)
		}
		return RecoveryForward, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return RecoveryNone, err
	}
	if j, err := readJournal(r, journalName); err == nil {
		if err := rollBack(r, j); err != nil {
			return RecoveryNone, fmt.Errorf("undo the interrupted change recorded in %s: %w", journalName, err)
		}
		return RecoveryBack, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return RecoveryNone, err
	}
	if err := r.Remove(journalTemp); err == nil {
		return recoveryTempOnly, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return RecoveryNone, fmt.Errorf("remove %s: %w", journalTemp, err)
	}
	return RecoveryNone, nil
}

// readJournal reads and checks a journal: every path in it must be a local path.
func readJournal(r *os.Root, name string) (journal, error) {
	b, err := r.ReadFile(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return journal{}, err
		}
		return journal{}, fmt.Errorf("read %s: %w", name, err)
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil {
		return journal{}, fmt.Errorf("%s is damaged; restore the project from version control and remove the file: %w", name, err)
	}
	var paths []string
	for _, w := range j.Writes {
		paths = append(paths, w.Path, w.Staged)
	}
	paths = append(paths, j.Deletes...)
	paths = append(paths, j.Dirs...)
	for _, p := range paths {
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return journal{}, fmt.Errorf("%s names %q, which is not a path inside the project; remove the file", name, p)
		}
	}
	return j, nil
}

// applyChange writes files and deletes the files named by deletes (slash-separated, relative
// to root) through the journal: all or nothing, even if the process dies. A deletion of a file
// that does not exist fails the whole change. When ctx is done before the commit point, the
// change is rolled back and ErrInterrupted returned; after it, the change is finished.
func applyChange(ctx context.Context, root string, files []File, deletes []string) (err error) {
	return applyChangeFrom(ctx, root, files, deletes, "")
}

// applyChangeFrom is applyChange that, when manifestSum is set, first checks under the
// project's lock that gingen.yaml still has that SHA-256 (the one the change was planned
// from): a change planned from a state another gingen command has changed since would undo
// that command's work, so it is refused and nothing is written.
func applyChangeFrom(ctx context.Context, root string, files []File, deletes []string, manifestSum string) (err error) {
	unlock, err := lockProject(root)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("open project %s: %w", root, err)
	}
	defer r.Close()
	if rec, err := recoverIn(r); err != nil {
		return err
	} else if rec == RecoveryBack || rec == RecoveryForward {
		return fmt.Errorf("an interrupted change was pending in %s and was %s first; check the project and run the command again", root, rec)
	}
	if manifestSum != "" {
		b, err := r.ReadFile(ManifestName)
		if err != nil {
			return fmt.Errorf("read %s: %w", ManifestName, err)
		}
		if digest(b) != manifestSum {
			return ErrProjectChanged
		}
	}
	// step is called before each step of the change: an interruption before the commit point
	// rolls it back.
	step := ctx.Err

	j, err := newJournal(r, files, deletes)
	if err != nil {
		return err
	}
	if err := step(); err != nil {
		return ErrInterrupted
	}
	if err := writeJournal(r, j); err != nil {
		return err
	}
	// From here to the commit point, any failure or interruption rolls back.
	undo := func(cause error) error {
		if rbErr := rollBack(r, j); rbErr != nil {
			return errors.Join(cause, fmt.Errorf("roll back: %w (the next gingen command in %s retries)", rbErr, root))
		}
		return cause
	}
	for _, d := range j.Dirs {
		if err := step(); err != nil {
			return undo(ErrInterrupted)
		}
		if err := r.Mkdir(filepath.FromSlash(d), 0o755); err != nil {
			return undo(fmt.Errorf("create %s: %w", d, confinedErr(r, d, err)))
		}
	}
	for i, w := range j.Writes {
		if err := step(); err != nil {
			return undo(ErrInterrupted)
		}
		if err := writeSynced(r, w.Staged, files[i].Body, w.Mode); err != nil {
			return undo(fmt.Errorf("write %s: %w", w.Path, confinedErr(r, w.Staged, err)))
		}
	}
	if err := step(); err != nil {
		return undo(ErrInterrupted)
	}
	if err := syncDirs(r, j); err != nil {
		return undo(err)
	}
	if err := r.Rename(journalName, commitName); err != nil {
		return undo(fmt.Errorf("commit the change: %w", err))
	}
	if err := syncDir(r, "."); err != nil {
		return undo(err)
	}
	// Committed: whatever happens now, the change is finished, here or by the next run.
	if err := finish(r, j); err != nil {
		return fmt.Errorf("finish the change: %w (the next gingen command in %s finishes it)", err, root)
	}
	return nil
}

// newJournal plans a change: staged names, and the folders to create. It checks that every
// file to delete exists and every target is not a folder.
func newJournal(r *os.Root, files []File, deletes []string) (journal, error) {
	id, err := randomID()
	if err != nil {
		return journal{}, err
	}
	j := journal{ID: id, Deletes: slices.Clone(deletes)}
	creating := map[string]bool{}
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) || f.Path != path.Clean(f.Path) {
			return journal{}, fmt.Errorf("write %s: not a clean path inside the project", f.Path)
		}
		info, err := r.Lstat(filepath.FromSlash(f.Path))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return journal{}, fmt.Errorf("write %s: %w", f.Path, confinedErr(r, f.Path, err))
		}
		if err == nil && info.IsDir() {
			return journal{}, inputErrorf("%s is a folder, where gingen writes a file; move it away", f.Path)
		}
		var missing []string
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			if creating[d] {
				break
			}
			info, err := r.Stat(filepath.FromSlash(d))
			if err == nil {
				if !info.IsDir() {
					return journal{}, inputErrorf("%s is a file, where gingen needs a folder for %s; move it away", d, f.Path)
				}
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return journal{}, fmt.Errorf("write %s: %w", f.Path, confinedErr(r, d, err))
			}
			missing = append(missing, d)
		}
		for i := len(missing) - 1; i >= 0; i-- {
			creating[missing[i]] = true
			j.Dirs = append(j.Dirs, missing[i])
		}
		mode := f.Mode.Perm()
		if mode == 0 {
			mode = 0o644
		}
		j.Writes = append(j.Writes, journalWrite{
			Path:   f.Path,
			Staged: path.Join(path.Dir(f.Path), "."+path.Base(f.Path)+".gingen-"+id),
			Mode:   mode,
		})
	}
	for _, p := range deletes {
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return journal{}, fmt.Errorf("delete %s: not a path inside the project", p)
		}
		if _, err := r.Lstat(filepath.FromSlash(p)); err != nil {
			return journal{}, fmt.Errorf("delete %s: %w", p, confinedErr(r, p, err))
		}
	}
	return j, nil
}

func randomID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("journal id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writeJournal puts the journal in place whole: a temporary file, synced, then renamed.
func writeJournal(r *os.Root, j journal) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", journalName, err)
	}
	if err := writeSynced(r, journalTemp, b, 0o644); err != nil {
		_ = r.Remove(journalTemp)
		return fmt.Errorf("write %s: %w", journalName, err)
	}
	if err := r.Rename(journalTemp, journalName); err != nil {
		_ = r.Remove(journalTemp)
		return fmt.Errorf("write %s: %w", journalName, err)
	}
	return syncDir(r, ".")
}

// writeSynced creates name (which must not exist) with body and mode, and syncs it to disk.
func writeSynced(r *os.Root, name string, body []byte, mode fs.FileMode) error {
	f, err := r.OpenFile(filepath.FromSlash(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, werr := f.Write(body)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return err
	}
	// The umask may have masked bits the file needs (an executable script).
	return r.Chmod(filepath.FromSlash(name), mode)
}

// syncDir syncs a folder, so that the renames and creations in it are on disk.
func syncDir(r *os.Root, dir string) error {
	d, err := r.Open(filepath.FromSlash(dir))
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// syncDirs syncs the folders that hold staged files.
func syncDirs(r *os.Root, j journal) error {
	seen := map[string]bool{}
	for _, w := range j.Writes {
		d := path.Dir(w.Staged)
		if !seen[d] {
			seen[d] = true
			if err := syncDir(r, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// rollBack undoes an uncommitted change: its staged files and created folders are removed,
// then the journal.
func rollBack(r *os.Root, j journal) error {
	var errs []error
	for _, w := range j.Writes {
		if err := r.Remove(filepath.FromSlash(w.Staged)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", w.Staged, err))
		}
	}
	for i := len(j.Dirs) - 1; i >= 0; i-- {
		// Only while empty: a folder the user filled since is theirs.
		if err := r.Remove(filepath.FromSlash(j.Dirs[i])); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotEmpty(err) {
			errs = append(errs, fmt.Errorf("remove %s: %w", j.Dirs[i], err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := r.Remove(journalName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", journalName, err)
	}
	return nil
}

// rollForward finishes a committed change (finish).
func rollForward(r *os.Root, j journal) error {
	return finish(r, j)
}

// finish carries out a committed change, or what is left of it: staged files still there are
// renamed over their targets, deleted files still there are removed; the folders that changed
// are synced, so that all of it is on disk before the commit record goes.
func finish(r *os.Root, j journal) error {
	touched := map[string]bool{}
	for _, w := range j.Writes {
		if err := renameStaged(r, w); err != nil {
			return err
		}
		touched[path.Dir(w.Path)] = true
	}
	for _, p := range j.Deletes {
		if err := removeDeleted(r, p); err != nil {
			return err
		}
		touched[path.Dir(p)] = true
	}
	for _, d := range slices.Sorted(maps.Keys(touched)) {
		// A folder a deletion emptied is gone: its parent, synced in turn, records that.
		for ; d != "."; d = path.Dir(d) {
			if _, err := r.Stat(filepath.FromSlash(d)); err == nil {
				break
			}
		}
		if err := syncDir(r, d); err != nil {
			return err
		}
	}
	if err := r.Remove(commitName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", commitName, err)
	}
	return syncDir(r, ".")
}

// renameStaged moves a staged file over its target; a staged file already gone was moved.
func renameStaged(r *os.Root, w journalWrite) error {
	if _, err := r.Lstat(filepath.FromSlash(w.Staged)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := r.Rename(filepath.FromSlash(w.Staged), filepath.FromSlash(w.Path)); err != nil {
		return fmt.Errorf("replace %s: %w", w.Path, err)
	}
	return nil
}

// removeDeleted removes a file the change deletes, and the folders that leaves empty.
func removeDeleted(r *os.Root, p string) error {
	if err := r.Remove(filepath.FromSlash(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if err := r.Remove(filepath.FromSlash(d)); err != nil {
			break // not empty, or gone: either way, stop climbing
		}
	}
	return nil
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}
