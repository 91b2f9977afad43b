package generator

import (
	"bytes"
	"errors"
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
// markers' files), order their paths; both are updated. A file the user changed since gingen
// wrote it gets the change merged line by line (as gingen upgrade merges); where the two
// conflict nothing is written and the error names the file. It returns the project files to
// record in gingen.yaml: m's records, with those of the files added and without those of the
// files deleted.
func (plan *Plan) projectChanges(project fs.FS, m, before, after Manifest, tfs fs.FS, edited map[string][]byte, order *[]string, what string) ([]GeneratedFile, error) {
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
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		b, inOld := old[p]
		a, inNext := next[p]
		if inOld && inNext && bytes.Equal(b.Body, a.Body) {
			continue
		}
		cur, seen := edited[p]
		exists := seen
		if !seen {
			switch body, err := fs.ReadFile(project, p); {
			case err == nil:
				cur, exists = body, true
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("%s: %w", what, err)
			}
		}
		switch {
		case !inOld: // a new file of the project
			if exists && !bytes.Equal(cur, a.Body) {
				return nil, inputErrorf("%s: %s exists and is not what gingen generates there; move it away and run the command again", what, p)
			}
			if !exists {
				plan.Writes = append(plan.Writes, a)
				plan.Steps = append(plan.Steps, Step{Action: ActionCreate, Path: p})
			}
			if !slices.ContainsFunc(records, func(g GeneratedFile) bool { return g.Path == p }) {
				records = append(records, GeneratedFile{Path: p, SHA256: digest(a.Body)})
			}
		case !inNext: // a file the project no longer needs
			if !exists {
				break
			}
			if !bytes.Equal(cur, b.Body) {
				plan.Notes = append(plan.Notes, fmt.Sprintf("%s is no longer generated but was edited since: it stays; delete it once it is of no use", p))
				break
			}
			plan.Deletes = append(plan.Deletes, p)
			plan.Steps = append(plan.Steps, Step{Action: ActionDelete, Path: p})
			records = slices.DeleteFunc(records, func(g GeneratedFile) bool { return g.Path == p })
		default: // a file that changes
			body := a.Body
			if exists && !bytes.Equal(cur, b.Body) {
				merged, conflict := merge3(b.Body, cur, a.Body)
				if conflict {
					return nil, inputErrorf("%s: %s was edited since gingen wrote it and the edits conflict with the lines it changes there; undo them (or apply the change of a new project by hand), then run the command again", what, p)
				}
				body = merged
			}
			if !seen {
				*order = append(*order, p)
				plan.Steps = append(plan.Steps, Step{Action: ActionUpdate, Path: p})
			}
			edited[p] = body
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
