package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// manifestChange adds to plan what a change of the manifest, from before (what gingen.yaml
// holds) to after, does to the project's files: the project is rendered for before and for
// after, with the same templates tfs and with the registration lines gingen.yaml records for
// each resource (renderProject's recordedInserts), and every file whose render differs gets
// the one apply policy's fate (reconcile), the render of before its base. Since both renders
// use the same templates, their difference is exactly the change (a resource's files and
// registration lines, the outbox and event streams the first resource with events brings), and
// a three-way merge applies just that to the user's file, keeping whatever else differs there
// (the user's edits, an earlier template's text). Where the two conflict nothing is written
// and the error names the file, unless force (the template's text wins, the user's kept as
// FILE.gingen-old). An edited file no longer generated stays, the user's now.
//
// gingen.yaml and the OpenAPI document are left to updateManifest. The files of a resource
// are reconciled only for the resources c names (the one add resource adds); the others'
// are the caller's (destroy and rename resource reconcile them against their recorded
// digests), or upgrade's: the migrations only a render has (of a resource added before
// gingen wrote migrations, numbered after every other, they move when one is added).
//
// c names the command and what it settles itself.
//
// It returns the manifest after's render records (its resources with their files) with the
// project files to record in gingen.yaml: before's records, with those of the files added,
// without those of the files deleted, and, for a file whose record was the before render's
// digest, the after render's: the base of the next merge (an edited file keeps its record
// otherwise, see refreshDigests).
func (plan *Plan) manifestChange(project fs.FS, before, after Manifest, tfs fs.FS, c change) (Manifest, error) {
	what, force := c.what, c.force
	onDisk, err := migrationVersions(project)
	if err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", what, err)
	}
	if len(onDisk) > 0 {
		before.MigrationsOnDisk = onDisk[len(onDisk)-1]
		after.MigrationsOnDisk = onDisk[len(onDisk)-1]
	}
	old, oldOwner, _, err := renderFiles(before, tfs)
	if err != nil {
		return Manifest{}, err
	}
	next, nextOwner, out, err := renderFiles(after, tfs)
	if err != nil {
		return Manifest{}, err
	}
	records := slices.Clone(before.Files)
	paths := map[string]bool{}
	for p := range old {
		paths[p] = true
	}
	for p := range next {
		paths[p] = true
	}
	pol := policy{OnConflict: conflictRefuse, Force: force, KeepEditedGone: true}
	var lineSteps []Step
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		b, inOld := old[p]
		a, inNext := next[p]
		owner, owned := nextOwner[p]
		if !owned {
			owner, owned = oldOwner[p]
		}
		switch {
		case inOld && inNext && bytes.Equal(b.Body, a.Body):
			continue
		case owned && !slices.Contains(c.resources, owner), c.leave[p]:
			continue
		}
		v, err := viewFile(project, p)
		if err != nil {
			return Manifest{}, fmt.Errorf("%s: %w", what, err)
		}
		v.Base, v.HaveBase, v.Recorded = b.Body, inOld, inOld
		sum, recorded := before.recordedDigest(p)
		if !inNext && v.Exists && recorded && digest(v.Cur) == sum {
			v.Base, v.HaveBase = v.Cur, true // unedited since gingen wrote it: deleted
		}
		v.Next, v.Generated = a, inNext
		v.Migration = path.Dir(p) == MigrationsDir
		o, err := reconcile(project, v, pol)
		switch {
		case err != nil:
			return Manifest{}, err
		case o.Refused && !inOld:
			return Manifest{}, inputErrorf("%s: %s exists and is not what gingen generates there; move it away and run the command again", what, p)
		case o.Refused && inNext:
			return Manifest{}, inputErrorf("%s: %s was edited since gingen wrote it and the edits conflict with the lines it changes there; undo them, or pass --force to write gingen's text (yours kept in %s), then run the command again", what, p, p+OldFileSuffix)
		case o.Refused:
			return Manifest{}, fmt.Errorf("%s: %s: the policy keeps an edited file no longer generated, it cannot refuse it", what, p)
		}
		for _, st := range o.Steps {
			switch {
			case st.Action == ActionKeep && !inNext:
				// Edited, no longer generated: the user's now.
				plan.Notes = append(plan.Notes, fmt.Sprintf("%s is no longer generated but was edited since: it stays; delete it once it is of no use", p))
			case st.Action == ActionIdentical && !owned:
			case st.Action == ActionUpdate || st.Action == ActionMerge:
				if steps := rewriteSteps(st, v.Cur, o.Writes); steps[0].Text != "" {
					lineSteps = append(lineSteps, steps...)
				} else {
					plan.Steps = append(plan.Steps, steps...)
				}
			default:
				plan.Steps = append(plan.Steps, st)
			}
		}
		plan.Writes = append(plan.Writes, o.Writes...)
		plan.Deletes = append(plan.Deletes, o.Deletes...)
		switch i := slices.IndexFunc(records, func(g GeneratedFile) bool { return g.Path == p }); {
		case owned:
		case slices.Contains(o.Deletes, p):
			if i >= 0 {
				records = slices.Delete(records, i, i+1)
			}
		case i < 0 && inNext:
			records = append(records, GeneratedFile{Path: p, SHA256: digest(a.Body)})
		case i >= 0 && inOld && inNext && records[i].SHA256 == digest(b.Body):
			// The record was the render: the next merge's base is the render of after.
			records[i].SHA256 = digest(a.Body)
		}
	}
	// The lines inserted and removed after the files, as add and destroy print them.
	plan.Steps = append(plan.Steps, lineSteps...)
	slices.SortFunc(records, func(x, y GeneratedFile) int { return strings.Compare(x.Path, y.Path) })
	out.Files = records
	return out, nil
}

// change is what manifestChange knows of the command beyond the two manifests.
type change struct {
	what      string   // the command, for errors: "add resource article"
	force     bool     // --force
	resources []string // the resources whose files it reconciles
	// leave are files the command leaves as they are: registration files already gone,
	// which destroy --force goes past.
	leave map[string]bool
}

// renderFiles renders the project m records, each resource registered by the lines
// gingen.yaml records, and returns its files by path (neither gingen.yaml nor the OpenAPI
// document), the resource that owns each of a resource's files (its migrations included)
// and the render's manifest.
func renderFiles(m Manifest, tfs fs.FS) (map[string]File, map[string]string, Manifest, error) {
	files, out, err := renderProject(m, tfs, true)
	if err != nil {
		return nil, nil, Manifest{}, err
	}
	owner := map[string]string{}
	for _, r := range out.Resources {
		for _, g := range r.Files {
			owner[g.Path] = r.Name
		}
		for _, c := range r.FieldChanges {
			owner[c.Migration.Path] = r.Name
		}
		for _, rn := range r.FieldRenames {
			owner[rn.Migration.Path] = r.Name
		}
		for _, rn := range r.ResourceRenames {
			owner[rn.Migration.Path] = r.Name
		}
	}
	byPath := map[string]File{}
	for _, f := range files {
		if f.Path != ManifestName && f.Path != OpenAPIPath {
			byPath[f.Path] = f
		}
	}
	return byPath, owner, out, nil
}

// maxLineSteps is the most lines rewriteSteps describes one by one.
const maxLineSteps = 6

// rewriteSteps describes the rewrite of a file (step, an update or a merge, from cur to the
// text writes has for it) by the lines it inserts and removes, each with its number (a
// removed line's in cur, an inserted one's in the new text), as add and destroy resource
// print the registration lines: when that is all it does, in a few lines that are not blank.
// Otherwise it is step itself.
func rewriteSteps(step Step, cur []byte, writes []File) []Step {
	i := slices.IndexFunc(writes, func(f File) bool { return f.Path == step.Path })
	if i < 0 {
		return []Step{step}
	}
	a, b := splitLines(cur), splitLines(writes[i].Body)
	sa, sb := make([]string, len(a)), make([]string, len(b))
	for k, l := range a {
		sa[k] = string(l)
	}
	for k, l := range b {
		sb[k] = string(l)
	}
	var steps []Step
	for _, op := range difflib.NewMatcherWithJunk(sa, sb, false, nil).GetOpCodes() {
		if op.Tag == 'e' {
			continue
		}
		for k := op.I1; k < op.I2; k++ {
			steps = append(steps, Step{Action: ActionRemove, Path: step.Path, Line: k + 1, Text: strings.TrimSpace(sa[k])})
		}
		for k := op.J1; k < op.J2; k++ {
			steps = append(steps, Step{Action: ActionInsert, Path: step.Path, Line: k + 1, Text: strings.TrimSpace(sb[k])})
		}
	}
	if len(steps) == 0 || len(steps) > maxLineSteps || slices.ContainsFunc(steps, func(s Step) bool { return s.Text == "" }) {
		return []Step{step}
	}
	return steps
}
