package generator

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// FieldOptions describe `gingen add field`: fields to add to a resource.
type FieldOptions struct {
	// Resource is the resource's name as gingen.yaml records it.
	Resource string
	// Fields are the new fields' specs, name:type[:modifier...].
	Fields []string
	// Force re-renders the resource's files even when they were edited since gingen wrote
	// them; each edited file's text is kept as FILE.gingen-old (see reconcile).
	Force bool
}

// DestroyFieldOptions describe `gingen destroy field`: the fields of one add field to remove.
type DestroyFieldOptions struct {
	Resource string
	// Names are the fields' names, all those one `gingen add field` added.
	Names []string
	// Force re-renders edited files and deletes an edited migration anyway, keeping each
	// one's text as FILE.gingen-old.
	Force bool
	// NeverCommitted: see DestroyOptions.
	NeverCommitted func(path string) bool
}

// PlanAddField plans `gingen add field`: a migration that adds the fields' columns, and the
// resource's files (model, handlers, tests) rendered again from the resource templates with
// the longer field list, which gingen.yaml records. The files must still hold what gingen
// wrote, or merge with the new text: an edit that conflicts stops it, unless --force, which
// overwrites it and keeps the user's text in FILE.gingen-old. It reads the project and writes
// nothing.
func PlanAddField(project fs.FS, opts FieldOptions, tfs fs.FS) (Plan, error) {
	m, res, err := fieldResource(project, opts.Resource)
	if err != nil {
		return Plan{}, err
	}
	before := m // the OpenAPI document's base
	if len(opts.Fields) == 0 {
		return Plan{}, inputErrorf("no field to add to resource %s; %s, e.g. gingen add field %s subtitle:string", res.Name, fieldSpecHelp, res.Name)
	}
	specs := make([]string, 0, len(res.Fields)+len(opts.Fields))
	for _, f := range res.Fields {
		specs = append(specs, f.String())
	}
	specs = append(specs, opts.Fields...)
	// Resolve the whole list against the other resources, so that a new field is checked
	// as add resource checks fields: its syntax, and clashes with the fields already there.
	others := m
	others.Resources = slices.DeleteFunc(slices.Clone(m.Resources), func(r Resource) bool { return r.Name == res.Name })
	grown, err := ResourceOptions{Name: res.Name, Plural: res.Plural, Fields: specs}.resolve(others)
	if err != nil {
		return Plan{}, err
	}
	added := grown.Fields[len(res.Fields):]
	names := make([]string, len(added))
	for i, f := range added {
		names[i] = f.Name
		if f.Type == TypeReferences {
			return Plan{}, inputErrorf("field %q: a references field cannot be added to a table that may already have rows (they would have no valid %s); give it to gingen add resource instead, or write the migration yourself", f, f.column())
		}
	}

	plan, files, err := rerender(project, tfs, m, res, grown.Fields, "add field", opts.Force)
	if err != nil {
		return Plan{}, err
	}
	migration, err := newMigrationPath(project, "add_"+strings.Join(names, "_")+"_to_"+res.Plural, "add field")
	if err != nil {
		return Plan{}, err
	}
	mig, err := addFieldsMigration(tfs, m, res, added, migration)
	if err != nil {
		return Plan{}, err
	}
	plan.Writes = append(plan.Writes, mig)
	plan.Steps = append([]Step{{Action: ActionCreate, Path: migration}}, plan.Steps...)
	for _, f := range added {
		if f.Has(ModUnique) {
			plan.Notes = append(plan.Notes, fmt.Sprintf("%s is unique, and every row already in %s gets %s: with more than one row the migration fails at start; give the rows distinct values in %s, before the CREATE UNIQUE INDEX", f.Name, res.Plural, sqlDialect(m.DB).zero(f), migration))
		}
	}

	res.Fields = grown.Fields
	res.Files = files
	res.FieldChanges = append(res.FieldChanges, FieldChange{Fields: names, Migration: GeneratedFile{Path: migration, SHA256: digest(mig.Body)}})
	m.Resources = replaceResource(m.Resources, res)
	if err := plan.updateManifest(project, before, m, opts.Force); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

// PlanDestroyField plans `gingen destroy field`: the inverse of one `gingen add field` that
// gingen.yaml records. It renders the resource's files again without the fields, records the
// resource as it was before, and deletes that add's migration if no database can have run it
// (mayHaveRun); else the migration stays and a new one drops the columns.
func PlanDestroyField(project fs.FS, opts DestroyFieldOptions, tfs fs.FS) (Plan, error) {
	m, res, err := fieldResource(project, opts.Resource)
	if err != nil {
		return Plan{}, err
	}
	before := m // the OpenAPI document's base
	if len(opts.Names) == 0 {
		return Plan{}, inputErrorf("no field named; give the fields one gingen add field added, e.g. gingen destroy field %s %s", res.Name, fieldChangeExample(res))
	}
	idx := -1
	for i, c := range res.FieldChanges {
		if sameNames(c.Fields, opts.Names) {
			idx = i
		}
	}
	if idx < 0 {
		return Plan{}, unknownFieldChange(res, opts.Names)
	}
	change := res.FieldChanges[idx]

	var plan Plan
	forward, err := mayHaveRun(project, change.Migration.Path, opts.NeverCommitted)
	if err != nil {
		return Plan{}, err
	}
	if !forward {
		// No database can have run it: it is no longer generated, and goes like any file.
		v, err := viewFile(project, change.Migration.Path)
		switch {
		case err != nil:
			return Plan{}, fmt.Errorf("destroy field: %w", err)
		case !v.Exists:
			if !opts.Force {
				return Plan{}, inputErrorf("%s, the migration of the fields, is gone; pass --force to destroy the rest", change.Migration.Path)
			}
		default:
			v.baseFrom(change.Migration.SHA256, nil, false)
			o, err := reconcile(project, v, policy{OnConflict: conflictRefuse, Force: opts.Force})
			switch {
			case err != nil:
				return Plan{}, err
			case o.Refused:
				return Plan{}, inputErrorf("%s was edited since gingen generated it; keep your changes by moving it away first, or pass --force to delete it anyway (your text kept in %s)", change.Migration.Path, change.Migration.Path+OldFileSuffix)
			}
			plan.take(o)
		}
	}

	kept := slices.DeleteFunc(slices.Clone(res.Fields), func(f Field) bool { return slices.Contains(change.Fields, f.Name) })
	rendered, files, err := rerender(project, tfs, m, res, kept, "destroy field", opts.Force)
	if err != nil {
		return Plan{}, err
	}
	plan.Writes = append(plan.Writes, rendered.Writes...)
	plan.Deletes = append(plan.Deletes, rendered.Deletes...)
	plan.Steps = append(plan.Steps, rendered.Steps...)

	redo := make([]string, 0, len(change.Fields))
	for _, f := range res.Fields {
		if slices.Contains(change.Fields, f.Name) {
			redo = append(redo, f.String())
		}
	}
	what := columnsOf(change.Fields) + " of the " + res.Plural + " table"
	if forward {
		var fields []Field
		for _, f := range res.Fields {
			if slices.Contains(change.Fields, f.Name) {
				fields = append(fields, f)
			}
		}
		_, p, err := nextMigration(project, "drop_"+strings.Join(change.Fields, "_")+"_from_"+res.Plural)
		if err != nil {
			return Plan{}, err
		}
		drop, err := dropFieldsMigration(tfs, m, res, fields, p)
		if err != nil {
			return Plan{}, err
		}
		plan.Writes = append(plan.Writes, drop)
		plan.Steps = append([]Step{{Action: ActionCreate, Path: p}}, plan.Steps...)
		plan.Notes = append(plan.Notes, dropNote(p, what)+" "+change.Migration.Path+" stays: a database may have run it.")
	} else {
		note, err := deletedMigrationNote(project, change.Migration.Path, what, "`gingen add field "+res.Name+" "+strings.Join(redo, " ")+"`")
		if err != nil {
			return Plan{}, err
		}
		plan.Notes = append(plan.Notes, note)
	}

	res.Fields = kept
	res.Files = files
	res.FieldChanges = slices.Delete(slices.Clone(res.FieldChanges), idx, idx+1)
	if len(res.FieldChanges) == 0 {
		res.FieldChanges = nil
	}
	m.Resources = replaceResource(m.Resources, res)
	if err := plan.updateManifest(project, before, m, opts.Force); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

// fieldResource reads the manifest and the resource a field command names.
func fieldResource(project fs.FS, name string) (Manifest, Resource, error) {
	m, err := readManifest(project)
	if err != nil {
		return Manifest{}, Resource{}, err
	}
	name = strings.TrimSpace(name)
	res, ok := m.resource(name)
	if !ok {
		return Manifest{}, Resource{}, inputErrorf("no resource %q in %s; %s", name, ManifestName, recordedResources(m))
	}
	return m, res, nil
}

// rerender plans rewriting the files of resource res (all but its migrations) as the
// resource templates render them with fields, and returns the resource's file records
// after it. Files must still hold what gingen recorded unless force is set.
func rerender(project fs.FS, tfs fs.FS, m Manifest, res Resource, fields []Field, verb string, force bool) (Plan, []GeneratedFile, error) {
	next := res
	next.Fields = fields
	return rerenderAs(project, tfs, m, m, res, next, verb, force)
}

// rerenderAs is rerender with the resource's next state whole: another name or plural moves
// its files (rename resource), those under the old name deleted. m is the manifest the
// templates see (the other resources, by their names after the change); before is the
// manifest before the change, which the base of the merges is rendered with.
func rerenderAs(project fs.FS, tfs fs.FS, before, m Manifest, res, next Resource, verb string, force bool) (Plan, []GeneratedFile, error) {
	files, err := renderTree(tfs, resourceTemplates, next.Name, newResourceData(m, next))
	if err != nil {
		return Plan{}, nil, err
	}
	rendered := map[string]File{}
	for _, f := range files {
		rendered[f.Path] = f
	}
	// The base of the merges: the resource as the templates render it now, before the
	// change; each file's text is trusted only where it has the digest gingen.yaml records
	// (the project was generated by these templates). A render that fails (a manifest the
	// templates no longer render the same) leaves the files without a base.
	base := map[string][]byte{}
	if was, err := renderTree(tfs, resourceTemplates, res.Name, newResourceData(before, res)); err == nil {
		for _, f := range was {
			base[f.Path] = f.Body
		}
	}
	var plan Plan
	var edited []string
	recorded := map[string]bool{}
	var records []GeneratedFile
	// An edited file is merged (merge3); where the merge conflicts, or there is no base, it
	// is refused, or overwritten under --force with the user's text kept.
	pol := policy{OnConflict: conflictRefuse, Force: force}
	for _, g := range res.Files {
		if g.Path == res.Migration || g.Path == res.VersionMigration {
			// Migrations are never rendered again here: databases may have run them.
			records = append(records, g)
			continue
		}
		recorded[g.Path] = true
		v, err := viewFile(project, g.Path)
		if err != nil {
			return Plan{}, nil, fmt.Errorf("%s: %w", verb, err)
		}
		if !v.Exists && !force {
			return Plan{}, nil, inputErrorf("%s, generated for resource %s, is gone; restore it, or pass --force to write it again", g.Path, res.Name)
		}
		b, ok := base[g.Path]
		v.baseFrom(g.SHA256, b, ok)
		v.Next, v.Generated = rendered[g.Path]
		o, err := reconcile(project, v, pol)
		if err != nil {
			return Plan{}, nil, err
		}
		if o.Refused {
			edited = append(edited, g.Path)
			continue
		}
		plan.take(o)
	}
	if len(edited) > 0 {
		subject, object := describeFiles(edited)
		return Plan{}, nil, inputErrorf("%s edited since gingen generated %s for resource %s, and %s cannot merge the edits into the resource's new text (they change the same lines, or gingen has not the text it generated); move your changes away first, or pass --force to overwrite %s (your text kept in FILE%s)", subject, object, res.Name, verb, object, OldFileSuffix)
	}
	for _, f := range files {
		if !recorded[f.Path] {
			v, err := viewFile(project, f.Path)
			if err != nil {
				return Plan{}, nil, fmt.Errorf("%s: %w", verb, err)
			}
			v.Next, v.Generated = f, true
			o, err := reconcile(project, v, pol)
			switch {
			case err != nil:
				return Plan{}, nil, err
			case o.Refused:
				return Plan{}, nil, inputErrorf("%s already exists and %s records no resource that made it; move it away and run the command again, or pass --force to overwrite it (your text kept in %s)", f.Path, ManifestName, f.Path+OldFileSuffix)
			}
			plan.take(o)
		}
		records = append(records, GeneratedFile{Path: f.Path, SHA256: digest(f.Body)})
	}
	// The order add resource records them in: by path.
	slices.SortFunc(records, func(a, b GeneratedFile) int { return strings.Compare(a.Path, b.Path) })
	return plan, records, nil
}

// replaceResource returns rs with the resource named like r replaced by r, in place.
func replaceResource(rs []Resource, r Resource) []Resource {
	out := slices.Clone(rs)
	for i := range out {
		if out[i].Name == r.Name {
			out[i] = r
		}
	}
	return out
}

// sameNames reports whether a and b hold the same names, in any order.
func sameNames(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	for i := range y {
		y[i] = strings.TrimSpace(y[i])
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// fieldChangeNames lists the add field changes of res for a message: "subtitle; rating, stars".
func fieldChangeNames(res Resource) string {
	groups := make([]string, len(res.FieldChanges))
	for i, c := range res.FieldChanges {
		groups[i] = strings.Join(c.Fields, ", ")
	}
	return strings.Join(groups, "; ")
}

func fieldChangeExample(res Resource) string {
	if len(res.FieldChanges) == 0 {
		return "subtitle"
	}
	return strings.Join(res.FieldChanges[len(res.FieldChanges)-1].Fields, " ")
}

// unknownFieldChange explains why names are not one recorded add field.
func unknownFieldChange(res Resource, names []string) error {
	for _, c := range res.FieldChanges {
		for _, n := range names {
			if slices.Contains(c.Fields, n) {
				return inputErrorf("fields %s were added together by one gingen add field; destroy them together: gingen destroy field %s %s", strings.Join(c.Fields, ", "), res.Name, strings.Join(c.Fields, " "))
			}
		}
	}
	for _, n := range names {
		for _, f := range res.Fields {
			if f.Name == n {
				return inputErrorf("field %s of resource %s was created by gingen add resource, not gingen add field, and destroy field undoes only add field; write a migration that drops it yourself, or destroy the whole resource", n, res.Name)
			}
		}
	}
	if len(res.FieldChanges) == 0 {
		return inputErrorf("resource %s has no field %s, and no field added by gingen add field", res.Name, strings.Join(names, ", "))
	}
	return inputErrorf("resource %s has no field %s; gingen add field added: %s", res.Name, strings.Join(names, ", "), fieldChangeNames(res))
}

// columnsOf names columns for a message: "the column a", "the columns a, b".
func columnsOf(names []string) string {
	if len(names) == 1 {
		return "the column " + names[0]
	}
	return "the columns " + strings.Join(names, ", ")
}
