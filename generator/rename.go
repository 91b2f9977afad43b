package generator

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// RenameFieldOptions describe `gingen rename field`: one field of a resource to rename.
type RenameFieldOptions struct {
	Resource string
	Old, New string
	// Force re-renders the resource's files even when they were edited since gingen wrote
	// them; each edited file's text is kept as FILE.gingen-old (see reconcile).
	Force bool
}

// PlanRenameField plans `gingen rename field`: a migration that renames the field's column
// (ALTER TABLE ... RENAME COLUMN, its index renamed with it), so that every row keeps its
// value, and the resource's files (model, handlers, tests) and the OpenAPI document rendered
// again with the new name. gingen.yaml records the rename, so that the migrations written
// before it are still rendered with the old name. It reads the project and writes nothing.
func PlanRenameField(project fs.FS, opts RenameFieldOptions, tfs fs.FS) (Plan, error) {
	m, res, err := fieldResource(project, opts.Resource)
	if err != nil {
		return Plan{}, err
	}
	before := m // the OpenAPI document's base
	oldName, newName := strings.TrimSpace(opts.Old), strings.TrimSpace(opts.New)
	idx := slices.IndexFunc(res.Fields, func(f Field) bool { return f.Name == oldName })
	switch {
	case idx < 0:
		return Plan{}, inputErrorf("resource %s has no field %q; %s, e.g. gingen rename field %s %s NEW", res.Name, oldName, fieldList(res), res.Name, firstField(res))
	case newName == oldName:
		return Plan{}, inputErrorf("field %s of resource %s already has that name; give another, e.g. gingen rename field %s %s %s_new", oldName, res.Name, res.Name, oldName, oldName)
	}
	from := res.Fields[idx]
	if from.Type == TypeReferences {
		return Plan{}, inputErrorf("field %s of resource %s is a reference: its column, foreign key and relation are named after it, and gingen renames only plain fields; keep its name, or write the migration yourself", oldName, res.Name)
	}
	specs := make([]string, len(res.Fields))
	for i, f := range res.Fields {
		if i == idx {
			f.Name = newName
		}
		specs[i] = f.String()
	}
	// Resolve the renamed list as add resource checks fields: the new name's syntax, and
	// clashes with the other fields and the generated names.
	others := m
	others.Resources = slices.DeleteFunc(slices.Clone(m.Resources), func(r Resource) bool { return r.Name == res.Name })
	renamed, err := ResourceOptions{Name: res.Name, Plural: res.Plural, Fields: specs}.resolve(others)
	if err != nil {
		return Plan{}, err
	}

	plan, files, err := rerender(project, tfs, m, res, renamed.Fields, "rename field", opts.Force)
	if err != nil {
		return Plan{}, err
	}
	migration, err := newMigrationPath(project, "rename_"+oldName+"_to_"+newName+"_in_"+res.Plural, "rename field")
	if err != nil {
		return Plan{}, err
	}
	mig, err := renameFieldMigration(tfs, m, res, from, newName, migration)
	if err != nil {
		return Plan{}, err
	}
	plan.Writes = append(plan.Writes, mig)
	plan.Steps = append([]Step{{Action: ActionCreate, Path: migration}}, plan.Steps...)
	plan.Notes = append(plan.Notes, fmt.Sprintf("%s renames the column %s of the %s table to %s, keeping its values. The JSON key, the query parameters and the OpenAPI document say %s now: a client that sends or reads %s must change with it (a breaking change of /api/v1/%s). During a hot restart the previous generation fails on the old column until it has drained.", migration, oldName, res.Plural, newName, newName, oldName, res.Plural))

	res.Fields = renamed.Fields
	res.Files = files
	res.FieldChanges = slices.Clone(res.FieldChanges)
	for i, c := range res.FieldChanges {
		names := slices.Clone(c.Fields)
		for j, n := range names {
			if n == oldName {
				names[j] = newName
			}
		}
		res.FieldChanges[i].Fields = names
	}
	res.FieldRenames = append(slices.Clone(res.FieldRenames), FieldRename{Field: from.String(), To: newName, Migration: GeneratedFile{Path: migration, SHA256: digest(mig.Body)}})
	m.Resources = replaceResource(m.Resources, res)
	if err := plan.updateManifest(project, before, m, opts.Force); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

// fieldList names a resource's fields for a message.
func fieldList(res Resource) string {
	if len(res.Fields) == 0 {
		return "it has none"
	}
	names := make([]string, len(res.Fields))
	for i, f := range res.Fields {
		names[i] = f.Name
	}
	return "its fields: " + strings.Join(names, ", ")
}

func firstField(res Resource) string {
	if len(res.Fields) == 0 {
		return "OLD"
	}
	return res.Fields[0].Name
}
