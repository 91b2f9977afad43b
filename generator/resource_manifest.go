package generator

import (
	"slices"
	"strings"
)

// Resource is a resource as gingen.yaml records it: its name and fields, and exactly what
// `add resource` generated and registered, so that `destroy resource` removes that and
// nothing else, even after gingen's templates change.
type Resource struct {
	Name    string          `yaml:"name"`
	Plural  string          `yaml:"plural"`
	Fields  []Field         `yaml:"fields,omitempty"`
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
