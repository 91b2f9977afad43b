package generator

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestReconcile runs the one apply policy over every fate of a file: each combination of
// the file on disk, the text gingen wrote last, the text it renders now and the policy.
func TestReconcile(t *testing.T) {
	const p = "models/article.go"
	base := []byte("a\nb\nc\nd\ne\n")
	next := []byte("a\nB\nc\nd\ne\n")   // the template changed line 2
	mine := []byte("a\nb\nc\nd\nE\n")   // the user changed line 5
	merged := []byte("a\nB\nc\nd\nE\n") // both
	clash := []byte("a\nX\nc\nd\ne\n")  // the user changed line 2 too
	view := func(cur []byte, exists bool, b []byte, haveBase bool, n []byte, generated bool) fileView {
		return fileView{Path: p, Cur: cur, Exists: exists, Mode: 0o600, Base: b, HaveBase: haveBase, Recorded: haveBase,
			Next: File{Path: p, Body: n, Mode: 0o644}, Generated: generated}
	}
	// Go text whose changes merge line by line (the user's at lines 2 and 5, the template's
	// between lines 3 and 4) into text that no longer parses: a func inside a func.
	const (
		goBase   = "package m\nvar a = 1\nvar y = 0\nvar z = 0\nvar b = 2\n"
		goMine   = "package m\nfunc f() {\nvar y = 0\nvar z = 0\n}\n"
		goNext   = "package m\nvar a = 1\nvar y = 0\nfunc g() {}\nvar z = 0\nvar b = 2\n"
		goMerged = "package m\nfunc f() {\nvar y = 0\nfunc g() {}\nvar z = 0\n}\n"
	)
	recorded := func(v fileView) fileView { v.Recorded = true; return v }
	sideFile := policy{OnConflict: conflictSideFile, KeepEditedGone: true}
	refuse := policy{OnConflict: conflictRefuse}
	force := policy{OnConflict: conflictRefuse, Force: true}
	type want struct {
		action  Action   // of the one step; "" for no step
		note    string   // a part of the step's note
		writes  []string // path=body
		deletes []string
		refused bool
		record  bool // a conflict recorded
		err     string
	}
	w := func(path string, body []byte) string { return path + "=" + string(body) }
	cases := []struct {
		name  string
		v     fileView
		pol   policy
		disk  fstest.MapFS
		want  want
		modes map[string]fs.FileMode
	}{
		{name: "create", v: view(nil, false, nil, false, next, true), pol: refuse,
			want: want{action: ActionCreate, writes: []string{w(p, next)}}, modes: map[string]fs.FileMode{p: 0o644}},
		{name: "identical", v: view(next, true, base, true, next, true), pol: refuse,
			want: want{action: ActionIdentical}},
		{name: "identical though edited and no base", v: view(next, true, nil, false, next, true), pol: refuse,
			want: want{action: ActionIdentical}},
		{name: "update keeps the mode", v: view(base, true, base, true, next, true), pol: refuse,
			want: want{action: ActionUpdate, writes: []string{w(p, next)}}, modes: map[string]fs.FileMode{p: 0o600}},
		{name: "merge", v: view(mine, true, base, true, next, true), pol: refuse,
			want: want{action: ActionMerge, note: "your edits kept", writes: []string{w(p, merged)}}},
		{name: "keep: edited, the template unchanged", v: view(mine, true, base, true, base, true), pol: refuse,
			want: want{action: ActionKeep, note: "the template did not change"}},
		{name: "conflict refused", v: view(clash, true, base, true, next, true), pol: refuse,
			want: want{refused: true}},
		{name: "a merge that breaks the Go file is a conflict", v: fileView{Path: p, Cur: []byte(goMine), Exists: true, Mode: 0o644,
			Base: []byte(goBase), HaveBase: true, Recorded: true, Next: File{Path: p, Body: []byte(goNext), Mode: 0o644}, Generated: true}, pol: refuse,
			want: want{refused: true}},
		{name: "a merge of a Go file that did not parse before is not judged", v: fileView{Path: p, Cur: []byte(goMine + "}\n"), Exists: true, Mode: 0o644,
			Base: []byte(goBase), HaveBase: true, Recorded: true, Next: File{Path: p, Body: []byte(goNext), Mode: 0o644}, Generated: true}, pol: refuse,
			want: want{action: ActionMerge, writes: []string{w(p, []byte(goMerged+"}\n"))}}},
		{name: "no base refused", v: view(mine, true, nil, false, next, true), pol: refuse,
			want: want{refused: true}},
		// Lines the user and the template insert at one place (a registration above a
		// marker, below the user's own): set beside each other for a command's own change,
		// a conflict for an upgrade (Diff3).
		{name: "insertions at one place: beside", v: view([]byte("a\nX\nM\n"), true, []byte("a\nM\n"), true, []byte("a\nY\nM\n"), true), pol: refuse,
			want: want{action: ActionMerge, writes: []string{w(p, []byte("a\nX\nY\nM\n"))}}},
		{name: "insertions at one place: diff3's conflict for upgrade", v: view([]byte("a\nX\nM\n"), true, []byte("a\nM\n"), true, []byte("a\nY\nM\n"), true),
			pol:  policy{OnConflict: conflictSideFile, KeepEditedGone: true, Diff3: true},
			want: want{action: ActionConflict, writes: []string{w(p+SideFileSuffix, []byte("a\nY\nM\n"))}, record: true}},
		{name: "conflict: side file", v: view(clash, true, base, true, next, true), pol: sideFile,
			want: want{action: ActionConflict, note: "overlap", writes: []string{w(p+SideFileSuffix, next)}, record: true}},
		{name: "no base: side file", v: recorded(view(mine, true, nil, false, next, true)), pol: sideFile,
			want: want{action: ActionConflict, note: "has not the text it generated", writes: []string{w(p+SideFileSuffix, next)}, record: true}},
		{name: "not generated before: side file", v: view(mine, true, nil, false, next, true), pol: sideFile,
			want: want{action: ActionConflict, note: "gingen did not generate it before", writes: []string{w(p+SideFileSuffix, next)}, record: true}},
		{name: "force: template wins, yours kept", v: view(clash, true, base, true, next, true), pol: force,
			want:  want{action: ActionForce, note: "yours is in " + p + OldFileSuffix, writes: []string{w(p, next), w(p+OldFileSuffix, clash)}},
			modes: map[string]fs.FileMode{p: 0o600, p + OldFileSuffix: 0o600}},
		{name: "force merges what merges", v: view(mine, true, base, true, next, true), pol: force,
			want: want{action: ActionMerge, writes: []string{w(p, merged)}}},
		{name: "force: an identical earlier FILE.gingen-old is written again", v: view(clash, true, base, true, next, true), pol: force,
			disk: fstest.MapFS{p + OldFileSuffix: {Data: clash}},
			want: want{action: ActionForce, writes: []string{w(p, next), w(p+OldFileSuffix, clash)}}},
		{name: "force: an earlier FILE.gingen-old that differs stops", v: view(clash, true, base, true, next, true), pol: force,
			disk: fstest.MapFS{p + OldFileSuffix: {Data: []byte("earlier\n")}},
			want: want{err: p + " would keep the text --force overwrites in " + p + OldFileSuffix + ", which holds an earlier copy"}},
		{name: "delete: unedited, no longer generated", v: view(base, true, base, true, nil, false), pol: refuse,
			want: want{action: ActionDelete, deletes: []string{p}}},
		{name: "gone, no longer generated: nothing", v: view(nil, false, base, true, nil, false), pol: refuse,
			want: want{}},
		{name: "keep: edited, no longer generated", v: view(mine, true, base, true, nil, false), pol: sideFile,
			want: want{action: ActionKeep, note: "yours now"}},
		{name: "edited, no longer generated: refused", v: view(mine, true, base, true, nil, false), pol: refuse,
			want: want{refused: true}},
		{name: "edited, no longer generated, force: deleted, yours kept", v: view(mine, true, base, true, nil, false), pol: force,
			want: want{action: ActionDelete, note: "yours is in " + p + OldFileSuffix, writes: []string{w(p+OldFileSuffix, mine)}, deletes: []string{p}}},
		{name: "force delete: an earlier FILE.gingen-old that differs stops", v: view(mine, true, base, true, nil, false), pol: force,
			disk: fstest.MapFS{p + OldFileSuffix: {Data: []byte("earlier\n")}},
			want: want{err: p + " would keep the text --force deletes in " + p + OldFileSuffix + ", which holds an earlier copy"}},
		{name: "force without FILE.gingen-old (a templates folder)", v: view(mine, true, nil, false, next, true), pol: policy{Force: true, NoOldFile: true},
			want: want{action: ActionForce, writes: []string{w(p, next)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			disk := c.disk
			if disk == nil {
				disk = fstest.MapFS{}
			}
			o, err := reconcile(disk, c.v, c.pol)
			if c.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.want.err) {
					t.Fatalf("err = %v, want one saying %q", err, c.want.err)
				}
				var input *InputError
				if !errors.As(err, &input) || strings.Contains(err.Error(), "\n") {
					t.Errorf("err = %v, want a one-line input error", err)
				}
				if o.Writes != nil || o.Deletes != nil || o.Steps != nil {
					t.Errorf("outcome = %+v with the error, want nothing", o)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Refused != c.want.refused {
				t.Fatalf("refused = %v, want %v", o.Refused, c.want.refused)
			}
			if c.want.refused && (o.Writes != nil || o.Deletes != nil || o.Steps != nil) {
				t.Errorf("a refused file has the outcome %+v, want nothing", o)
			}
			switch {
			case c.want.action == "" && len(o.Steps) != 0:
				t.Errorf("steps = %v, want none", o.Steps)
			case c.want.action != "" && (len(o.Steps) != 1 || o.Steps[0].Action != c.want.action || o.Steps[0].Path != p || !strings.Contains(o.Steps[0].Note, c.want.note)):
				t.Errorf("steps = %v, want one %s of %s, its note saying %q", o.Steps, c.want.action, p, c.want.note)
			}
			var writes []string
			for _, f := range o.Writes {
				writes = append(writes, w(f.Path, f.Body))
				if m, ok := c.modes[f.Path]; ok && f.Mode != m {
					t.Errorf("%s mode = %v, want %v", f.Path, f.Mode, m)
				}
			}
			if !slices.Equal(writes, c.want.writes) {
				t.Errorf("writes = %q, want %q", writes, c.want.writes)
			}
			if !slices.Equal(o.Deletes, c.want.deletes) {
				t.Errorf("deletes = %q, want %q", o.Deletes, c.want.deletes)
			}
			if got := len(o.Conflicts) == 1 && o.Conflicts[0].Path == p && o.Conflicts[0].SHA256 == digest(c.v.Cur); got != c.want.record {
				t.Errorf("conflicts = %+v, want recorded: %v", o.Conflicts, c.want.record)
			}
		})
	}
}

// TestReconcileMigrationIsNeverRewritten: whatever the policy, --force included, a migration a
// database may have run is neither rewritten nor deleted.
func TestReconcileMigrationIsNeverRewritten(t *testing.T) {
	const p = "migrations/00001_create_articles.sql"
	cur := []byte("-- +goose Up\nCREATE TABLE articles (id INTEGER);\n")
	next := []byte("-- +goose Up\nCREATE TABLE articles (id BIGINT);\n")
	for _, pol := range []policy{{OnConflict: conflictSideFile}, {OnConflict: conflictRefuse}, {Force: true}, {Force: true, KeepEditedGone: true}} {
		for _, generated := range []bool{true, false} {
			v := fileView{Path: p, Cur: cur, Exists: true, Mode: 0o644, Base: cur, HaveBase: true, Recorded: true,
				Next: File{Path: p, Body: next, Mode: 0o644}, Generated: generated, Migration: true}
			o, err := reconcile(fstest.MapFS{}, v, pol)
			if err != nil {
				t.Fatal(err)
			}
			if o.Refused || len(o.Deletes) != 0 || len(o.Steps) != 1 || o.Steps[0].Action != ActionKeep {
				t.Errorf("policy %+v, generated %v: outcome %+v, want the migration kept", pol, generated, o)
			}
			for _, f := range o.Writes {
				if f.Path != p+SideFileSuffix || string(f.Body) != string(next) {
					t.Errorf("policy %+v: writes %s, want only the templates' text in %s", pol, f.Path, p+SideFileSuffix)
				}
			}
		}
	}
}

// TestReconcileOpenConflict: an open conflict of an earlier upgrade keeps its record and
// brings its side file up to date; --force settles it, the user's text kept.
func TestReconcileOpenConflict(t *testing.T) {
	const p = "conf/app.ini"
	cur, next := []byte("mine\n"), []byte("theirs\n")
	c := Conflict{Path: p, SHA256: digest(cur), Side: p + SideFileSuffix}
	v := fileView{Path: p, Cur: cur, Exists: true, Mode: 0o640, Recorded: true,
		Next: File{Path: p, Body: next, Mode: 0o644}, Generated: true, Conflict: &c}
	pol := policy{OnConflict: conflictSideFile, KeepEditedGone: true}

	o, err := reconcile(fstest.MapFS{c.Side: {Data: next}}, v, pol)
	if err != nil || len(o.Writes) != 0 || len(o.Conflicts) != 1 || o.Steps[0].Action != ActionConflict {
		t.Errorf("side file up to date: %+v, %v; want the record kept and nothing written", o, err)
	}
	o, err = reconcile(fstest.MapFS{}, v, pol)
	if err != nil || len(o.Writes) != 1 || o.Writes[0].Path != c.Side || string(o.Writes[0].Body) != string(next) || o.Writes[0].Mode != 0o640 || !strings.Contains(o.Steps[0].Note, "was gone") {
		t.Errorf("side file gone: %+v, %v; want it written again", o, err)
	}
	pol.Force = true
	o, err = reconcile(fstest.MapFS{}, v, pol)
	if err != nil || len(o.Conflicts) != 0 || o.Steps[0].Action != ActionForce || !strings.Contains(o.Steps[0].Note, c.Side+" is no longer needed") ||
		len(o.Writes) != 2 || string(o.Writes[1].Body) != string(cur) || o.Writes[1].Path != p+OldFileSuffix {
		t.Errorf("force: %+v, %v; want the template's text, the user's in %s", o, err, p+OldFileSuffix)
	}
	o, err = reconcile(fstest.MapFS{}, v, policy{OnConflict: conflictRefuse})
	if err != nil || !o.Refused {
		t.Errorf("refusing policy: %+v, %v; want the file refused", o, err)
	}
}

// A base render is the merge's base only when it has the digest gingen recorded: another
// text (an earlier release's templates rendering otherwise, an overlay since changed) would
// merge changes gingen never made into the user's file. Then the file itself is its base
// while it has the digest, and an edited one has none: upgrade writes a side file.
func TestBaseIsTrustedOnlyWithTheRecordedDigest(t *testing.T) {
	const p = "models/article.go"
	wrote := []byte("a\nb\nc\nd\ne\n")     // what gingen wrote, recorded
	otherBase := []byte("a\nb\nc\nd\nZ\n") // a base render that is not it
	mine := []byte("a\nb\nc\nd\nE\n")      // the user's edit of line 5
	next := []byte("a\nB\nc\nd\ne\n")      // the template changed line 2
	for _, tc := range []struct {
		name     string
		cur      []byte
		base     []byte
		haveBase bool
		wantBase []byte // nil: no base
		action   Action
	}{
		{"the base render has the digest", mine, wrote, true, wrote, ActionMerge},
		{"the base render has not: an edited file has no base", mine, otherBase, true, nil, ActionConflict},
		{"no base render: the unedited file is its own base", wrote, nil, false, wrote, ActionUpdate},
		{"the base render has not: the unedited file is its own base", wrote, otherBase, true, wrote, ActionUpdate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := fileView{Path: p, Cur: tc.cur, Exists: true, Mode: 0o644, Next: File{Path: p, Body: next, Mode: 0o644}, Generated: true}
			v.baseFrom(digest(wrote), tc.base, tc.haveBase)
			if !v.Recorded || v.HaveBase != (tc.wantBase != nil) || string(v.Base) != string(tc.wantBase) {
				t.Fatalf("base %q (have %v, recorded %v), want %q", v.Base, v.HaveBase, v.Recorded, tc.wantBase)
			}
			o, err := reconcile(fstest.MapFS{}, v, policy{OnConflict: conflictSideFile})
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Steps) != 1 || o.Steps[0].Action != tc.action {
				t.Errorf("steps %v, want one %s", o.Steps, tc.action)
			}
		})
	}
}
