package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// FileDiff is what the templates would change in one file today: the action gingen upgrade
// would take and a unified diff from the file on disk to the text the templates give it.
type FileDiff struct {
	Path   string
	Action Action
	Diff   string
}

// UpgradeDiffs returns, for each file of an upgrade plan that the templates would change,
// the unified diff from the file on disk to the templates' text: what upgrade writes into it
// (update, merge, force), creates or deletes; for a conflict, and for a migration (which
// upgrade never rewrites), the text it writes to the side file. only, when given, limits the
// diffs to those paths (slash-separated, relative to the project's root); a path upgrade has
// nothing to say about is an input error. gingen.yaml is left out unless only names it.
func UpgradeDiffs(project fs.FS, plan UpgradePlan, only []string) ([]FileDiff, error) {
	steps := map[string]Step{}
	for _, s := range plan.Steps {
		steps[s.Path] = s
	}
	writes := map[string][]byte{}
	for _, w := range plan.Writes {
		writes[w.Path] = w.Body
	}
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range steps {
			if !yield(p) {
				return
			}
		}
	})
	if len(only) > 0 {
		for _, p := range only {
			if _, ok := steps[p]; !ok {
				return nil, inputErrorf("%s is not a file gingen generates in this project; run gingen diff without a file for every one, e.g. gingen diff main.go", p)
			}
		}
		paths = slices.DeleteFunc(paths, func(p string) bool { return !slices.Contains(only, p) })
	} else {
		paths = slices.DeleteFunc(paths, func(p string) bool { return p == ManifestName })
	}
	var out []FileDiff
	for _, p := range paths {
		s := steps[p]
		cur, err := fs.ReadFile(project, p)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("diff %s: %w", p, err)
		}
		var next []byte
		switch s.Action {
		case ActionCreate, ActionUpdate, ActionMerge, ActionForce:
			next = writes[p]
		case ActionDelete:
			next = nil
		case ActionConflict, ActionKeep:
			side, ok := writes[p+SideFileSuffix]
			if !ok && s.Action == ActionConflict {
				// An open conflict whose side file is there already, as upgrade would write it.
				if side, err = fs.ReadFile(project, p+SideFileSuffix); err != nil {
					return nil, fmt.Errorf("diff %s: %w", p, err)
				}
				ok = true
			}
			if !ok {
				continue // edited, and the templates do not change it; or no longer generated
			}
			next = side
		default:
			continue
		}
		if exists && bytes.Equal(cur, next) && s.Action != ActionDelete {
			continue
		}
		d, err := unifiedDiff(p, cur, exists, next, s.Action != ActionDelete)
		if err != nil {
			return nil, err
		}
		out = append(out, FileDiff{Path: p, Action: s.Action, Diff: d})
	}
	return out, nil
}

// unifiedDiff is the unified diff from a to b of the file p, with git's a/ and b/ prefixes,
// and /dev/null for a side that does not exist.
func unifiedDiff(p string, a []byte, aExists bool, b []byte, bExists bool) (string, error) {
	from, to := path.Join("a", p), path.Join("b", p)
	if !aExists {
		from = "/dev/null"
	}
	if !bExists {
		to = "/dev/null"
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        lines(a),
		B:        lines(b),
		FromFile: from,
		ToFile:   to,
		Context:  3,
	})
	if err != nil {
		return "", fmt.Errorf("diff %s: %w", p, err)
	}
	return d, nil
}

// lines splits text into lines that keep their newline; a last line without one gets git's
// marker, so that the diff shows it.
func lines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	out := strings.SplitAfter(string(b), "\n")
	if out[len(out)-1] == "" {
		return out[:len(out)-1]
	}
	out[len(out)-1] += "\n\\ No newline at end of file\n"
	return out
}
