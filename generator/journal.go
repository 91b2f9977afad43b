package generator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
//
// gingen acts only on a journal it wrote: the journal file is signed (journal_key.go) and its
// paths checked (checkJournal): none under .git, none outside the project, staged files named
// as gingen names them, and, before a staged file is renamed into place, it must be a regular
// file holding the SHA-256 the journal recorded for it. A journal that fails any of this is
// refused and left as it is, and so is every change to the project while it is there.
const (
	journalName = ".gingen-journal"
	commitName  = ".gingen-commit"
	journalTemp = ".gingen-journal.tmp"
)

// JournalFile is the file in the project's root that holds a change from the moment it
// starts writing to its commit point (then renamed): while it is there, an interruption
// rolls the change back.
const JournalFile = journalName

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
	// SHA256 is the staged content's, in hex: what roll forward checks before the rename.
	SHA256 string `json:"sha256"`
}

// UntrustedJournalError is a journal (or commit record) in a project that gingen did not
// write there: its signature does not match this machine's key for this project, or its
// content breaks the rules every journal gingen writes follows. Nothing is done with it.
type UntrustedJournalError struct {
	Path   string // the journal file
	Reason string // why, when it is more than a signature that does not match
}

func (e *UntrustedJournalError) Error() string {
	why := "was not written by gingen for this project on this machine"
	if e.Reason != "" {
		why += " (" + e.Reason + ")"
	}
	return fmt.Sprintf("%s %s; gingen will not act on it, nor change the project while it is there: if you do not trust it, remove %s, %s and the staged .*.gingen-* files it names, then run the command again", e.Path, why, journalName, commitName)
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
	canon, err := canonicalRoot(root)
	if err != nil {
		return RecoveryNone, err
	}
	r, err := os.OpenRoot(canon)
	if err != nil {
		return RecoveryNone, fmt.Errorf("open project %s: %w", root, err)
	}
	defer r.Close()
	return recoverIn(r, canon)
}

// Pending reports the change an interrupted gingen left in the project at root without
// acting on it (for --dry-run): the path of its journal file, "" when nothing is pending.
// A journal gingen did not write is an *UntrustedJournalError.
func Pending(root string) (string, error) {
	unlock, err := lockProject(root)
	if err != nil {
		return "", err
	}
	defer unlock()
	canon, err := canonicalRoot(root)
	if err != nil {
		return "", err
	}
	r, err := os.OpenRoot(canon)
	if err != nil {
		return "", fmt.Errorf("open project %s: %w", root, err)
	}
	defer r.Close()
	name, _, err := findPending(r, canon)
	if err != nil || name == "" {
		return "", err
	}
	return filepath.Join(root, name), nil
}

// recoverIn is Recover in the project r, whose canonical path is canon.
func recoverIn(r *os.Root, canon string) (Recovery, error) {
	name, j, err := findPending(r, canon)
	if err != nil {
		return RecoveryNone, err
	}
	switch name {
	case commitName:
		if err := rollForward(r, j); err != nil {
			return RecoveryNone, fmt.Errorf("finish the interrupted change recorded in %s: %w", commitName, err)
		}
		return RecoveryForward, nil
	case journalName:
		if err := rollBack(r, j); err != nil {
			return RecoveryNone, fmt.Errorf("undo the interrupted change recorded in %s: %w", journalName, err)
		}
		return RecoveryBack, nil
	}
	// A half-written journal names nothing gingen has done yet: it only goes.
	if err := r.Remove(journalTemp); err == nil {
		return recoveryTempOnly, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return RecoveryNone, fmt.Errorf("remove %s: %w", journalTemp, err)
	}
	return RecoveryNone, nil
}

// findPending finds the journal an interrupted change left in the project r (canonical path
// canon), the commit record first, and reads it: its name, "" when there is none. A journal
// whose signature does not match, or that breaks checkJournal, is an *UntrustedJournalError.
func findPending(r *os.Root, canon string) (string, journal, error) {
	for _, name := range []string{commitName, journalName} {
		j, err := readJournal(r, canon, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return name, j, err
	}
	return "", journal{}, nil
}

// maxJournalSize bounds what gingen reads of a journal: one for a change of every file of a
// big project is far smaller.
const maxJournalSize = 16 << 20

// readJournal reads, authenticates and checks the journal file name in the project r.
func readJournal(r *os.Root, canon, name string) (journal, error) {
	info, err := r.Lstat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return journal{}, err
		}
		return journal{}, fmt.Errorf("read %s: %w", name, err)
	}
	untrusted := &UntrustedJournalError{Path: filepath.Join(canon, name)}
	if !info.Mode().IsRegular() {
		untrusted.Reason = "it is not a regular file"
		return journal{}, untrusted
	}
	if info.Size() > maxJournalSize {
		untrusted.Reason = fmt.Sprintf("it is larger than %d MiB", maxJournalSize>>20)
		return journal{}, untrusted
	}
	b, err := r.ReadFile(name)
	if err != nil {
		return journal{}, fmt.Errorf("read %s: %w", name, err)
	}
	key, err := journalKey(false)
	if errors.Is(err, errNoKey) {
		untrusted.Reason = "this user has no journal key"
		return journal{}, untrusted
	}
	if err != nil {
		return journal{}, err
	}
	body, ok := verifyJournal(key, canon, b)
	if !ok {
		return journal{}, untrusted
	}
	var j journal
	if err := json.Unmarshal(body, &j); err != nil {
		untrusted.Reason = err.Error()
		return journal{}, untrusted
	}
	if err := checkJournal(j); err != nil {
		untrusted.Reason = err.Error()
		return journal{}, untrusted
	}
	return j, nil
}

// isJournalID reports whether id is spelt as randomID spells a journal's id: 12 lower-case
// hexadecimal digits.
func isJournalID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isDigitASCII(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkJournal checks that a journal touches only what gingen manages: clean paths inside the
// project, none under .git nor one of gingen's own journal files, staged files named
// .NAME.gingen-ID beside their targets, each with a SHA-256.
func checkJournal(j journal) error {
	if !isJournalID(j.ID) {
		return fmt.Errorf("its id %q is not one gingen makes", j.ID)
	}
	for _, w := range j.Writes {
		if err := checkManagedPath(w.Path); err != nil {
			return err
		}
		if w.Staged != stagedName(w.Path, j.ID) {
			return fmt.Errorf("%q is not the name gingen stages %s under", w.Staged, w.Path)
		}
		if b, err := hex.DecodeString(w.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("the SHA-256 of %s is missing or damaged", w.Staged)
		}
		if w.Mode&^fs.ModePerm != 0 {
			return fmt.Errorf("the mode of %s is not a file's", w.Path)
		}
	}
	for _, p := range j.Deletes {
		if err := checkManagedPath(p); err != nil {
			return err
		}
	}
	for _, d := range j.Dirs {
		if err := checkManagedPath(d); err != nil {
			return err
		}
	}
	return nil
}

// checkManagedPath checks that p, slash-separated, is a path gingen may write or delete: clean
// and inside the project, with no element that is (or that a case-insensitive or Windows file
// system takes for) .git, and not one of gingen's journal files.
func checkManagedPath(p string) error {
	if p == "" || p != path.Clean(p) || !filepath.IsLocal(filepath.FromSlash(p)) || strings.Contains(p, `\`) {
		return fmt.Errorf("%q is not a clean path inside the project", p)
	}
	for _, elem := range strings.Split(p, "/") {
		trimmed := strings.TrimRight(elem, ". ")
		if strings.EqualFold(trimmed, ".git") || strings.EqualFold(elem, "git~1") {
			return fmt.Errorf("%q is under .git, which gingen never touches", p)
		}
	}
	switch p {
	case journalName, commitName, journalTemp:
		return fmt.Errorf("%q is gingen's own journal", p)
	}
	return nil
}

// stagedName is the file the new content of target is staged in by the change id.
func stagedName(target, id string) string {
	return path.Join(path.Dir(target), "."+path.Base(target)+".gingen-"+id)
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
	canon, err := canonicalRoot(root)
	if err != nil {
		return err
	}
	r, err := os.OpenRoot(canon)
	if err != nil {
		return fmt.Errorf("open project %s: %w", root, err)
	}
	defer r.Close()
	if rec, err := recoverIn(r, canon); err != nil {
		return err
	} else if rec == RecoveryBack || rec == RecoveryForward {
		return fmt.Errorf("an interrupted change was pending in %s and was %s first; check the project and run the command again", root, rec)
	}
	if manifestSum != "" {
		b, err := ReadManifestFile(r.FS())
		if err != nil {
			return err
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
	key, err := journalKey(true)
	if err != nil {
		return err
	}
	if err := writeJournal(r, key, canon, j); err != nil {
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
		sum := sha256.Sum256(f.Body)
		j.Writes = append(j.Writes, journalWrite{
			Path:   f.Path,
			Staged: stagedName(f.Path, id),
			Mode:   mode,
			SHA256: hex.EncodeToString(sum[:]),
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
	if err := checkJournal(j); err != nil {
		return journal{}, inputErrorf("gingen does not make this change: %v", err)
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

// writeJournal puts the journal in place whole, signed with key for the project at canon: a
// temporary file, synced, then renamed.
func writeJournal(r *os.Root, key []byte, canon string, j journal) error {
	body, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", journalName, err)
	}
	b := signJournal(key, canon, body)
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
		// A staged file may have been cut short by the interruption: its content is not
		// checked, only that it is a file (not a link or folder someone put there).
		info, err := r.Lstat(filepath.FromSlash(w.Staged))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && !info.Mode().IsRegular() {
			err = errors.New("not a regular file, so not one gingen staged; remove it yourself")
		}
		if err == nil {
			err = r.Remove(filepath.FromSlash(w.Staged))
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
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

// renameStaged moves a staged file over its target; a staged file already gone was moved. The
// staged file must be a regular file with the content the journal recorded.
func renameStaged(r *os.Root, w journalWrite) error {
	if err := checkStaged(r, w); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
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

// checkStaged checks that w's staged file is a regular file (not a link) holding the content
// whose SHA-256 the journal recorded; fs.ErrNotExist when it is gone.
func checkStaged(r *os.Root, w journalWrite) error {
	name := filepath.FromSlash(w.Staged)
	info, err := r.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", w.Staged, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("staged %s is not a regular file, so not one gingen wrote; remove it, and %s if you do not trust it", w.Staged, commitName)
	}
	f, err := r.Open(name)
	if err != nil {
		return fmt.Errorf("check %s: %w", w.Staged, err)
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return fmt.Errorf("check %s: %w", w.Staged, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("check %s: %w", w.Staged, err)
	}
	if !os.SameFile(info, opened) || hex.EncodeToString(h.Sum(nil)) != w.SHA256 {
		return fmt.Errorf("staged %s does not hold what gingen wrote there; remove it, and %s if you do not trust it", w.Staged, commitName)
	}
	return nil
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}
