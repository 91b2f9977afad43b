package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"slices"
)

// projectChanges adds to plan what changes in the project's own files (neither a resource's
// files nor gingen.yaml and the OpenAPI document, which the plan rewrites anyway) from the
// render of before to the render of after: the outbox, the event streams and the websocket
// module (go.mod, go.sum) that the first resource added with --events brings, and that the
// destroy of the last one takes away. edited holds the files the plan already rewrote (the
// markers' files), order their paths; both are updated. Each file that changes gets the
// one apply policy's fate (reconcile), the render of before its base: a file the user
// changed since gingen wrote it gets the change merged line by line (as gingen upgrade
// merges); where the two conflict, nothing is written and the error names the file, unless
// force (the template's text wins, the user's kept as FILE.gingen-old). It returns the
// project files to record in gingen.yaml: m's records, with those of the files added and
// without those of the files deleted.
func (plan *Plan) projectChanges(project fs.FS, m, before, after Manifest, tfs fs.FS, edited map[string][]byte, order *[]string, what string, force bool) ([]GeneratedFile, error) {
	onDisk, err := migrationVersions(project)
	if err != nil {
		return nil, err
	}
	if len(onDisk) > 0 {
		before.MigrationsOnDisk = onDisk[len(onDisk)-1]
		after.MigrationsOnDisk = onDisk[len(onDisk)-1]
	}
	old, err := projectFiles(before, tfs)
	if err != nil {
		return nil, err
	}
	next, err := projectFiles(after, tfs)
	if err != nil {
		return nil, err
	}
	records := slices.Clone(m.Files)
	paths := map[string]bool{}
	for p := range old {
		paths[p] = true
	}
	for p := range next {
		paths[p] = true
	}
	pol := policy{OnConflict: conflictRefuse, Force: force, KeepEditedGone: true}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		b, inOld := old[p]
		a, inNext := next[p]
		if inOld && inNext && bytes.Equal(b.Body, a.Body) {
			continue
		}
		v, err := viewFile(project, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		cur, seen := edited[p]
		if seen {
			// The plan's text: the user's with the lines it inserted or removed.
			v.Cur, v.Exists = cur, true
		}
		v.Base, v.HaveBase, v.Recorded = b.Body, inOld, inOld
		v.Next, v.Generated = a, inNext
		o, err := reconcile(project, v, pol)
		switch {
		case err != nil:
			return nil, err
		case o.Refused && !inOld:
			return nil, inputErrorf("%s: %s exists and is not what gingen generates there; move it away and run the command again", what, p)
		case o.Refused && inNext:
			return nil, inputErrorf("%s: %s was edited since gingen wrote it and the edits conflict with the lines it changes there; undo them (or apply the change of a new project by hand), then run the command again", what, p)
		case o.Refused:
			return nil, fmt.Errorf("%s: %s: the policy keeps an edited file no longer generated, it cannot refuse it", what, p)
		}
		for _, st := range o.Steps {
			switch {
			case st.Action == ActionKeep:
				// Edited, no longer generated: the user's now.
				plan.Notes = append(plan.Notes, fmt.Sprintf("%s is no longer generated but was edited since: it stays; delete it once it is of no use", p))
			case st.Action == ActionIdentical, seen && st.Action != ActionForce:
				// Nothing to do, or a file whose change the plan's steps already show.
			default:
				plan.Steps = append(plan.Steps, st)
			}
		}
		for _, w := range o.Writes {
			if w.Path == p && inOld {
				// A file the plan may edit further (the markers' files): kept in edited,
				// written once, in order.
				if !seen {
					*order = append(*order, p)
				}
				edited[p] = w.Body
				continue
			}
			plan.Writes = append(plan.Writes, w)
		}
		plan.Deletes = append(plan.Deletes, o.Deletes...)
		switch {
		case slices.Contains(o.Deletes, p):
			records = slices.DeleteFunc(records, func(g GeneratedFile) bool { return g.Path == p })
		case !inOld && inNext && !slices.ContainsFunc(records, func(g GeneratedFile) bool { return g.Path == p }):
			records = append(records, GeneratedFile{Path: p, SHA256: digest(a.Body)})
		}
	}
	slices.SortFunc(records, func(x, y GeneratedFile) int {
		switch {
		case x.Path < y.Path:
			return -1
		case x.Path > y.Path:
			return 1
		}
		return 0
	})
	return records, nil
}

// projectFiles renders the project m records and returns its own files by path: neither its
// resources' files nor gingen.yaml and the OpenAPI document.
func projectFiles(m Manifest, tfs fs.FS) (map[string]File, error) {
	files, out, err := RenderProject(m, tfs)
	if err != nil {
		return nil, err
	}
	own := map[string]bool{}
	for _, g := range out.Files {
		own[g.Path] = true
	}
	byPath := map[string]File{}
	for _, f := range files {
		if own[f.Path] && f.Path != ManifestName && f.Path != OpenAPIPath {
			byPath[f.Path] = f
		}
	}
	return byPath, nil
}
