package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// DestroyOptions describe a resource to destroy.
type DestroyOptions struct {
	// Name is the resource's name as gingen.yaml records it.
	Name string
	// Force deletes generated files that were edited since, keeping each one's text as
	// FILE.gingen-old (the one meaning of --force, see reconcile), and goes on when a
	// generated file or an inserted line is already gone.
	Force bool
	// NeverCommitted reports whether the migration at a path (slash-separated, relative to
	// the project root) never left the working tree: no git commit has it. nil when gingen
	// cannot tell (no git work tree): every migration may then have run. See mayHaveRun.
	NeverCommitted func(path string) bool
}

// PlanDestroyResource plans `gingen destroy resource`: the inverse of the add that gingen.yaml
// records. It deletes the files add created, as long as they still hold what add wrote,
// removes the lines add inserted, and drops the resource from the manifest. Its create
// migration is deleted too if no database can have run it (mayHaveRun); else it stays, and a
// new migration drops the table, so that no database is ever asked to roll back through the
// later migrations (which would empty their tables). It reads the project and writes nothing.
func PlanDestroyResource(project fs.FS, opts DestroyOptions, tfs fs.FS) (Plan, error) {
	m, err := readManifest(project)
	if err != nil {
		return Plan{}, err
	}
	before := m // the OpenAPI document's base
	name := strings.TrimSpace(opts.Name)
	res, ok := m.resource(name)
	if !ok {
		return Plan{}, inputErrorf("no resource %q in %s; %s", name, ManifestName, recordedResources(m))
	}
	for _, other := range m.Resources {
		for _, f := range other.Fields {
			if f.Type == TypeReferences && f.RefTarget() == name {
				return Plan{}, inputErrorf("resource %q is referenced by resource %q (field %s); destroy %s first", name, other.Name, f, other.Name)
			}
		}
	}

	if len(res.FieldChanges) > 0 {
		last := res.FieldChanges[len(res.FieldChanges)-1]
		return Plan{}, inputErrorf("resource %q has fields added by gingen add field (%s); destroy them first, newest first: gingen destroy field %s %s", name, fieldChangeNames(res), name, strings.Join(last.Fields, " "))
	}

	var plan Plan
	forward := false
	if res.Migration != "" {
		if forward, err = mayHaveRun(project, res.Migration, opts.NeverCommitted); err != nil {
			return Plan{}, err
		}
	}
	var edited []string
	// Each file add created is no longer generated: deleted if unedited; an edited one is a
	// conflict, refused, or deleted under --force with the user's text kept.
	pol := policy{OnConflict: conflictRefuse, Force: opts.Force}
	for _, g := range res.Files {
		if forward && (g.Path == res.Migration || g.Path == res.VersionMigration) {
			continue
		}
		v, err := viewFile(project, g.Path)
		if err != nil {
			return Plan{}, fmt.Errorf("destroy resource %s: %w", name, err)
		}
		if !v.Exists {
			if !opts.Force {
				return Plan{}, inputErrorf("%s, generated for resource %s, is gone; pass --force to destroy the rest of the resource", g.Path, name)
			}
			continue
		}
		// A migration no database can have run (not forward) is deleted like the rest.
		v.baseFrom(g.SHA256, nil, false)
		o, err := reconcile(project, v, pol)
		if err != nil {
			return Plan{}, err
		}
		if o.Refused {
			edited = append(edited, g.Path)
			continue
		}
		plan.take(o)
	}
	if len(edited) > 0 {
		subject, object := describeFiles(edited)
		return Plan{}, inputErrorf("%s edited since gingen generated %s for resource %s; keep your changes by moving %s away first, or pass --force to delete %s anyway (your text kept in FILE%s)", subject, object, name, object, object, OldFileSuffix)
	}

	kept := make([]Resource, 0, len(m.Resources)-1)
	for _, r := range m.Resources {
		if r.Name != name {
			kept = append(kept, r)
		}
	}
	// The registration lines: their files must still have them, as add inserted them (else
	// the user changed the registration, and gingen cannot tell what undoes it), unless
	// --force goes past what is gone.
	gone := map[string]bool{}
	for _, ins := range res.Inserts {
		src, err := fs.ReadFile(project, ins.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && opts.Force:
			gone[ins.Path] = true
		case errors.Is(err, fs.ErrNotExist):
			return Plan{}, inputErrorf("%s, where resource %s was registered, is gone; pass --force to destroy the rest of the resource", ins.Path, name)
		case err != nil:
			return Plan{}, fmt.Errorf("destroy resource %s: %w", name, err)
		case findLine(splitLines(src), ins.Line) < 0 && !opts.Force:
			return Plan{}, inputErrorf("%s no longer has the line %q that registered resource %s; remove what registers it there yourself, then pass --force", ins.Path, ins.Line, name)
		}
	}
	// The project without the resource, its registration lines and, with the last resource
	// with events, the streams and their module (the outbox table and its migration stay,
	// templateDirs): every file that changes merged into the user's.
	after := m
	after.Resources = kept
	out, err := plan.manifestChange(project, m, after, tfs, change{what: "destroy resource " + name, force: opts.Force, leave: gone})
	if err != nil {
		return Plan{}, err
	}
	m.Files = out.Files
	if p := m.OutboxMigration(); p != "" && res.Events && !slices.ContainsFunc(kept, func(r Resource) bool { return r.Events }) {
		plan.Notes = append(plan.Notes, "The "+OutboxTable+" table keeps the events of every resource, "+name+"'s included, and "+p+" stays: no resource has events any more, but a database may have run it. Empty or drop the table yourself, in a migration of your own, once no client resumes from it.")
	}

	switch {
	case forward:
		_, p, err := nextMigration(project, "drop_"+res.Plural)
		if err != nil {
			return Plan{}, err
		}
		drop, err := dropTableMigration(tfs, m, res, p)
		if err != nil {
			return Plan{}, err
		}
		plan.Writes = append(plan.Writes, drop)
		plan.Steps = append(plan.Steps, Step{Action: ActionCreate, Path: p})
		plan.Notes = append(plan.Notes, dropNote(p, "the "+res.Plural+" table")+" "+res.Migration+" stays: a database may have run it.")
	case res.Migration != "":
		note, err := deletedMigrationNote(project, res.Migration, "the "+res.Plural+" table", "`"+addCommand(res)+"`")
		if err != nil {
			return Plan{}, err
		}
		plan.Notes = append(plan.Notes, note)
	}

	m.Resources = kept
	if err := plan.updateManifest(project, before, m, opts.Force); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

// recordedResources lists the resources of m for an error message.
func recordedResources(m Manifest) string {
	if len(m.Resources) == 0 {
		return "it records none (gingen add resource adds one)"
	}
	names := make([]string, len(m.Resources))
	for i, r := range m.Resources {
		names[i] = r.Name
	}
	return "it records " + strings.Join(names, ", ")
}

// describeFiles names the files for a message: ("a.go was", "it") or ("a.go and b.go
// were", "them").
func describeFiles(paths []string) (subject, object string) {
	if len(paths) == 1 {
		return paths[0] + " was", "it"
	}
	return strings.Join(paths[:len(paths)-1], ", ") + " and " + paths[len(paths)-1] + " were", "them"
}
