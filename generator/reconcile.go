package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// fileView is what the apply policy knows of one file a command renders, or rendered before:
// the three texts of a three-way merge and where each comes from.
type fileView struct {
	Path string // slash-separated, relative to the project root
	// Cur is the file's text on disk (or as the plan already rewrote it), when Exists; Mode
	// its permission bits, kept by every rewrite.
	Cur    []byte
	Exists bool
	Mode   fs.FileMode
	// Base is the text gingen wrote last, when HaveBase: a base render checked against the
	// digest gingen.yaml records, or the file itself when it still has that digest. Without
	// it an edited file cannot be merged.
	Base     []byte
	HaveBase bool
	// Recorded: gingen generated the file before (gingen.yaml records it, or the base
	// render has it). A file that is not is the user's, wherever it sits.
	Recorded bool
	// Next is the file's text as gingen renders it now, when Generated; a file gingen
	// generated before and generates no more is not Generated.
	Next      File
	Generated bool
	// Migration: a migration a database may have run. It is never rewritten nor deleted:
	// goose never runs a version twice.
	Migration bool
	// Conflict is the open conflict gingen.yaml records for the file, when an earlier upgrade
	// left a merge to the user and the file still has the text it had then.
	Conflict *Conflict
}

// onConflict says what a command does with an edited file whose three-way merge conflicts,
// or that cannot be merged (no base), when --force is not given.
type onConflict int

const (
	// conflictRefuse: the command stops, with an input error naming the file and the fix
	// (the caller's, since it names what the command does); nothing is written.
	conflictRefuse onConflict = iota
	// conflictSideFile: the user's file is kept and the new text written beside it, to
	// FILE.gingen-new (SideFileSuffix), a Conflict recorded in gingen.yaml (upgrade).
	conflictSideFile
)

// policy is one command's apply policy: the few things commands differ in. Everything else
// about a file's fate is the same for every command (reconcile).
type policy struct {
	// OnConflict is the fate of a conflicting edited file without Force.
	OnConflict onConflict
	// Force: the template's text (or the delete) wins over an edited file, whose text is kept
	// as FILE.gingen-old (OldFileSuffix): never lost. A FILE.gingen-old already there with
	// other text stops the command rather than be overwritten.
	Force bool
	// KeepEditedGone: an edited file gingen no longer generates is kept, the user's now
	// (upgrade, the project files add/destroy resource change). Without it, such a file is a
	// conflict like an edited file the command rewrites: refused, or deleted under Force
	// with its text kept (destroy, add/destroy/rename field, rename resource).
	KeepEditedGone bool
	// Diff3: an edited file's merge is diff3's, where lines both sides insert at one place
	// are a conflict (upgrade: the templates' changes are another release's, of any kind).
	// Without it, the command's change is gingen's own lines (a resource's registration, a
	// field, the OpenAPI document's entries), set beside the user's (merge3's beside).
	Diff3 bool
	// NoOldFile: Force overwrites without FILE.gingen-old. Only for a folder of templates
	// (gingen templates export), where such a file would not be a template; never a project.
	NoOldFile bool
	// Dir prefixes the paths the policy's own errors name (the folder gingen new writes
	// into); empty names them relative to the project root.
	Dir string
}

// outcome is what the policy does with one file: the steps that describe it, the files it
// writes and deletes, the conflicts gingen.yaml records.
type outcome struct {
	Steps     []Step
	Writes    []File
	Deletes   []string
	Conflicts []Conflict
	// Refused: the policy refuses the file's conflict (conflictRefuse, no Force); nothing
	// else is set, and the command must stop with an error naming the file. Commands name
	// all the refused files in one error, so reconcile leaves the wording to them.
	Refused bool
	// OldFile is the FILE.gingen-old written (Force), empty if none.
	OldFile string
}

// reconcile decides the fate of one file, the same for every command:
//
//   - a migration a database may have run: never rewritten nor deleted; new text for it goes
//     to FILE.gingen-new;
//   - an open conflict of an earlier upgrade: its side file brought up to date (or, Force,
//     settled as below);
//   - not generated any more: deleted if unedited; if edited, kept (KeepEditedGone) or a
//     conflict;
//   - not on disk: created; as rendered now: identical; unedited: updated;
//   - edited, the template's text unchanged: kept;
//   - edited: the two sets of changes merged line by line (merge3); when they conflict, when
//     a Go file that parsed would not parse merged (stillParses), or when no base is known,
//     a conflict.
//
// A conflict is settled by Force (the template's text or the delete wins, the user's text
// kept as FILE.gingen-old), else by OnConflict. project is read only for the files beside
// v.Path (FILE.gingen-old, the side file of an open conflict).
func reconcile(project fs.FS, v fileView, pol policy) (outcome, error) {
	var o outcome
	p := v.Path
	if v.Migration && v.Exists {
		switch {
		case v.Generated && bytes.Equal(v.Cur, v.Next.Body):
			o.Steps = []Step{{Action: ActionIdentical, Path: p}}
		case v.Generated:
			side := v.Next
			side.Path = p + SideFileSuffix
			o.Writes = []File{side}
			o.Steps = []Step{{Action: ActionKeep, Path: p,
				Note: "a migration is never rewritten (a database may have run it); the templates' text is in " + side.Path + ": put what you need of it in a new migration"}}
		default:
			o.Steps = []Step{{Action: ActionKeep, Path: p, Note: "a migration is never deleted (a database may have run it)"}}
		}
		return o, nil
	}
	if c := v.Conflict; c != nil && v.Exists && v.Generated {
		return reconcileOpenConflict(project, v, *c, pol)
	}
	unchanged := v.Exists && v.HaveBase && bytes.Equal(v.Cur, v.Base)
	switch {
	case !v.Generated:
		switch {
		case !v.Exists:
		case unchanged:
			o.Deletes = []string{p}
			o.Steps = []Step{{Action: ActionDelete, Path: p}}
		case pol.KeepEditedGone:
			o.Steps = []Step{{Action: ActionKeep, Path: p, Note: "edited, no longer generated: yours now"}}
		default:
			return conflicted(project, v, pol, "")
		}
	case !v.Exists:
		o.Writes = []File{v.Next}
		o.Steps = []Step{{Action: ActionCreate, Path: p}}
	case bytes.Equal(v.Cur, v.Next.Body):
		o.Steps = []Step{{Action: ActionIdentical, Path: p}}
	case unchanged:
		next := v.Next
		next.Mode = v.Mode
		o.Writes = []File{next}
		o.Steps = []Step{{Action: ActionUpdate, Path: p}}
	case v.HaveBase && bytes.Equal(v.Base, v.Next.Body):
		o.Steps = []Step{{Action: ActionKeep, Path: p, Note: "edited; the template did not change"}}
	default:
		if v.HaveBase {
			// A merge that breaks a Go file that parsed is a conflict: the two sets of changes
			// do not fit together, however far apart their lines are.
			if merged, conflict := merge3(v.Base, v.Cur, v.Next.Body, !pol.Diff3); !conflict && stillParses(p, v.Cur, merged) == nil {
				o.Writes = []File{{Path: p, Body: merged, Mode: v.Mode}}
				o.Steps = []Step{{Action: ActionMerge, Path: p, Note: "your edits kept"}}
				return o, nil
			}
		}
		return conflicted(project, v, pol, "")
	}
	return o, nil
}

// conflicted settles the conflict of an edited file: Force, then the policy's OnConflict.
// also is added to the note of the Force step.
func conflicted(project fs.FS, v fileView, pol policy, also string) (outcome, error) {
	var o outcome
	p := v.Path
	if pol.Force {
		old := p + OldFileSuffix
		if !pol.NoOldFile {
			verb := "overwrites"
			if !v.Generated {
				verb = "deletes"
			}
			if err := checkOldFile(project, p, v.Cur, pol.Dir, verb); err != nil {
				return outcome{}, err
			}
			o.Writes = append(o.Writes, File{Path: old, Body: v.Cur, Mode: v.Mode})
			o.OldFile = old
		}
		note := ""
		if !pol.NoOldFile {
			note = "yours is in " + old + also
		}
		if !v.Generated {
			o.Deletes = []string{p}
			o.Steps = []Step{{Action: ActionDelete, Path: p, Note: note}}
			return o, nil
		}
		if note != "" {
			note = "the template's text; " + note
		}
		next := v.Next
		next.Mode = v.Mode
		o.Writes = append([]File{next}, o.Writes...)
		o.Steps = []Step{{Action: ActionForce, Path: p, Note: note}}
		return o, nil
	}
	if pol.OnConflict == conflictRefuse || !v.Generated {
		return outcome{Refused: true}, nil
	}
	side := v.Next
	side.Path = p + SideFileSuffix
	o.Writes = []File{side}
	o.Conflicts = []Conflict{{Path: p, SHA256: digest(v.Cur), Side: side.Path}}
	note := "edited; your changes and the template's overlap: merge " + side.Path + " into it by hand, then delete it"
	switch {
	case !v.Recorded:
		note = "yours: gingen did not generate it before; the generated one is in " + side.Path
	case !v.HaveBase:
		note = "edited, and gingen has not the text it generated to merge with: merge " + side.Path + " into it by hand, then delete it"
	}
	o.Steps = []Step{{Action: ActionConflict, Path: p, Note: note}}
	return o, nil
}

// reconcileOpenConflict is reconcile of a file whose merge an earlier upgrade left to the
// user and that still has the text it had then: the side file gets the templates' text of
// today (written again if the user lost it, or if the templates changed since), and the
// conflict stays recorded; with Force, it is settled like a new conflict.
func reconcileOpenConflict(project fs.FS, v fileView, c Conflict, pol policy) (outcome, error) {
	p := v.Path
	if pol.Force {
		return conflicted(project, v, pol, " ("+c.Side+" is no longer needed)")
	}
	if pol.OnConflict == conflictRefuse {
		return outcome{Refused: true}, nil
	}
	o := outcome{Conflicts: []Conflict{c}}
	side, err := fs.ReadFile(project, c.Side)
	switch {
	case err == nil && bytes.Equal(side, v.Next.Body):
		o.Steps = []Step{{Action: ActionConflict, Path: p, Note: "not merged yet: merge " + c.Side + " into it by hand, then delete it"}}
		return o, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return outcome{}, fmt.Errorf("read %s: %w", c.Side, err)
	}
	what := "was gone"
	if err == nil {
		what = "had an earlier template's text"
	}
	o.Writes = []File{{Path: c.Side, Body: v.Next.Body, Mode: v.Mode}}
	o.Steps = []Step{{Action: ActionConflict, Path: p,
		Note: "not merged yet, and " + c.Side + " " + what + ": written again; merge it into the file by hand, then delete it (to keep your text as it is, remove the file's entry under conflicts in " + ManifestName + ")"}}
	return o, nil
}

// checkOldFile refuses to overwrite a FILE.gingen-old that holds other text than cur: an
// earlier --force kept the user's text there, and it would be lost. verb is what --force
// does to the file: overwrites, deletes.
func checkOldFile(project fs.FS, p string, cur []byte, dir, verb string) error {
	old := p + OldFileSuffix
	prev, err := fs.ReadFile(project, old)
	switch {
	case err == nil && !bytes.Equal(prev, cur):
		return inputErrorf("%s would keep the text --force %s in %s, which holds an earlier copy; merge that into %s or delete it, then run the command again", filepath.Join(dir, filepath.FromSlash(p)), verb, filepath.Join(dir, filepath.FromSlash(old)), p)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read %s: %w", old, err)
	}
	return nil
}

// viewFile reads the file at p for a fileView: its text, whether it exists and its mode.
func viewFile(project fs.FS, p string) (fileView, error) {
	v := fileView{Path: p, Mode: 0o644}
	if project == nil {
		return v, nil
	}
	cur, err := fs.ReadFile(project, p)
	switch {
	case err == nil:
		v.Cur, v.Exists, v.Mode = cur, true, fileMode(project, p)
	case !errors.Is(err, fs.ErrNotExist):
		return v, err
	}
	return v, nil
}

// recordedBase is baseFrom with the digest gingen.yaml records for the file; a file it does
// not record has base, if any, as its base, untrusted by any digest.
func (v *fileView) recordedBase(m Manifest, base []byte, inBase bool) {
	sum, ok := m.recordedDigest(v.Path)
	if !ok {
		v.Base, v.HaveBase, v.Recorded = base, inBase, inBase
		return
	}
	v.baseFrom(sum, base, inBase)
}

// baseFrom sets v's base for a file gingen recorded with the digest sum: base, the text a
// base render gives (if any), is trusted only when it has that digest; else the file itself
// is its own base when it still has it.
func (v *fileView) baseFrom(sum string, base []byte, inBase bool) {
	v.Base, v.HaveBase, v.Recorded = base, inBase, true
	if v.HaveBase && digest(v.Base) != sum {
		v.Base, v.HaveBase = nil, false // the base render is not what gingen wrote: do not trust it
	}
	if !v.HaveBase && v.Exists && digest(v.Cur) == sum {
		v.Base, v.HaveBase = v.Cur, true
	}
}

// take adds what the policy does with one file to the plan: its writes, deletes and steps.
func (plan *Plan) take(o outcome) {
	plan.Writes = append(plan.Writes, o.Writes...)
	plan.Deletes = append(plan.Deletes, o.Deletes...)
	plan.Steps = append(plan.Steps, o.Steps...)
}
