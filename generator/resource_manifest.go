package generator

import (
	"cmp"
	"slices"
	"strings"
)

// Resource is a resource as gingen.yaml records it: its name and fields, and exactly what
// `add resource` generated and registered, so that `destroy resource` removes that and
// nothing else, even after gingen's templates change.
type Resource struct {
	Name   string  `yaml:"name"`
	Plural string  `yaml:"plural"`
	Fields []Field `yaml:"fields,omitempty"`
	// Events is set for a resource added with --events: its writes go to the outbox table
	// (models.OutboxEvent) in their transaction, and its events are served live.
	Events  bool            `yaml:"events,omitempty"`
	Files   []GeneratedFile `yaml:"files"`
	Inserts []Insertion     `yaml:"inserts"`
	// Migration is the migration that creates the resource's table (one of Files); it is
	// written once and never re-rendered.
	Migration string `yaml:"migration,omitempty"`
	// Baseline is set when Migration was written by gingen upgrade for a resource added before
	// gingen wrote migrations (see MigrationData.Baseline).
	Baseline bool `yaml:"baseline,omitempty"`
	// Versioned is set when Migration creates the table with its version column (the row
	// version behind ETag and If-Match): every resource added since gingen versioned rows.
	Versioned bool `yaml:"versioned,omitempty"`
	// VersionMigration is the migration gingen upgrade wrote to add the version column to
	// the table of a resource added before gingen versioned rows (one of Files).
	VersionMigration string `yaml:"version_migration,omitempty"`
	// FieldChanges are the fields `gingen add field` added, oldest first, so that `gingen
	// destroy field` undoes exactly one of them.
	FieldChanges []FieldChange `yaml:"field_changes,omitempty"`
	// FieldRenames are the renames `gingen rename field` made, oldest first: Fields and
	// FieldChanges hold the new names, and the migrations written before a rename are
	// rendered again with the names they had (fieldsAt).
	FieldRenames []FieldRename `yaml:"field_renames,omitempty"`
	// ResourceRenames are the renames `gingen rename resource` made, oldest first: Name and
	// Plural are today's, and the migrations written before a rename are rendered again with
	// the names of then (Manifest.at), those of other resources' references to it included.
	ResourceRenames []ResourceRename `yaml:"resource_renames,omitempty"`
}

// ResourceRename is one `gingen rename resource`: the resource's name and plural (its table)
// before it, the fields whose indexes and foreign keys its migration renamed with the table
// (name:type[:target][:modifier], as they were then), and that migration.
type ResourceRename struct {
	Name      string        `yaml:"name"`
	Plural    string        `yaml:"plural"`
	Fields    []string      `yaml:"fields,omitempty"`
	Migration GeneratedFile `yaml:"migration"`
}

// at returns m as it was just after the migration of version v was written: each resource
// renamed by a later migration under the name and plural it had then, and the references
// fields that point to it with the target of then. The renames are undone newest first, all
// resources together, so that a name given up by one resource and taken by another later
// resolves as it did at v. Only names change; m is not modified.
func (m Manifest) at(v int64) Manifest {
	type undo struct {
		resource int
		rename   ResourceRename
	}
	var undos []undo
	for i, r := range m.Resources {
		for _, rn := range r.ResourceRenames {
			if migrationVersion(rn.Migration.Path) > v {
				undos = append(undos, undo{i, rn})
			}
		}
	}
	if len(undos) == 0 {
		return m
	}
	slices.SortStableFunc(undos, func(a, b undo) int {
		return cmp.Compare(migrationVersion(b.rename.Migration.Path), migrationVersion(a.rename.Migration.Path))
	})
	out := m
	out.Resources = slices.Clone(m.Resources)
	for i := range out.Resources {
		out.Resources[i].Fields = slices.Clone(out.Resources[i].Fields)
	}
	for _, u := range undos {
		cur := out.Resources[u.resource].Name
		out.Resources[u.resource].Name, out.Resources[u.resource].Plural = u.rename.Name, u.rename.Plural
		for i := range out.Resources {
			for j, f := range out.Resources[i].Fields {
				if f.Type == TypeReferences && f.RefTarget() == cur {
					out.Resources[i].Fields[j] = f.retarget(u.rename.Name)
				}
			}
		}
	}
	return out
}

// resourceAt returns the resource r (recorded in m under its name of today) and m as they
// were just after the migration of version v was written (Manifest.at). Only the names
// differ from r: its files and migrations are r's.
func (m Manifest) resourceAt(r Resource, v int64) (Manifest, Resource) {
	mv := m.at(v)
	if i := slices.IndexFunc(m.Resources, func(x Resource) bool { return x.Name == r.Name }); i >= 0 {
		then := mv.Resources[i]
		r.Name, r.Plural, r.Fields = then.Name, then.Plural, retargeted(r.Fields, then.Fields)
	}
	return mv, r
}

// retargeted returns fields with the targets of the references fields of then, the same
// fields by position (Manifest.at changes nothing else).
func retargeted(fields, then []Field) []Field {
	out := slices.Clone(fields)
	for i := range out {
		for _, g := range then {
			if g.Name == out[i].Name && g.Type == TypeReferences && out[i].Type == TypeReferences {
				out[i].Target = g.Target
			}
		}
	}
	return out
}

// retarget returns the references field f pointing to the resource target: its Target
// left empty when the target is its name (article:references), as ParseField reads it.
func (f Field) retarget(target string) Field {
	f.Target = target
	if target == f.Name {
		f.Target = ""
	}
	return f
}

// FieldRename is one `gingen rename field`: the field as it was (name:type[:modifier], with
// its old name), its new name, and the migration that renames its column.
type FieldRename struct {
	Field     string        `yaml:"field"`
	To        string        `yaml:"to"`
	Migration GeneratedFile `yaml:"migration"`
}

// fieldsAt returns fields (the resource's, by their names of today) with the names they had
// when the migration of version v was written: the renames made after it undone.
func (r Resource) fieldsAt(fields []Field, v int64) []Field {
	out := slices.Clone(fields)
	for i := len(r.FieldRenames) - 1; i >= 0; i-- {
		rn := r.FieldRenames[i]
		if migrationVersion(rn.Migration.Path) <= v {
			break
		}
		from, _, _ := strings.Cut(rn.Field, ":")
		for j := range out {
			if out[j].Name == rn.To {
				out[j].Name = from
			}
		}
	}
	return out
}

// FieldChange is one `gingen add field`: the fields it added (they are also in the
// resource's Fields) and the migration that adds their columns.
type FieldChange struct {
	Fields    []string      `yaml:"fields"`
	Migration GeneratedFile `yaml:"migration"`
}

// GeneratedFile is a file `add resource` created, with the SHA-256 of the content it wrote:
// `destroy resource` deletes the file only while it still has that content.
type GeneratedFile struct {
	Path   string `yaml:"path"`
	SHA256 string `yaml:"sha256"`
}

// Insertion is a line `add resource` inserted above a marker comment.
type Insertion struct {
	Path   string `yaml:"path"`
	Marker string `yaml:"marker"`
	Line   string `yaml:"line"`
}

// resource returns the recorded resource with this name.
func (m Manifest) resource(name string) (Resource, bool) {
	for _, r := range m.Resources {
		if r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}
