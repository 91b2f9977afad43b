package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ManifestName is the manifest's file name at a project's root.
const ManifestName = "gingen.yaml"

const manifestSchema = 1

// Manifest is a project's gingen.yaml: what gingen generated, so that later commands (add,
// destroy) know the project without guessing.
type Manifest struct {
	Schema   int    `yaml:"schema"`
	Name     string `yaml:"name"`
	Module   string `yaml:"module"`
	Strategy string `yaml:"strategy"`
	DB       string `yaml:"db"`
	// Auth is the auth scheme, "jwt"; empty means none, so that the manifests of projects
	// without auth read and write as they always have.
	Auth string `yaml:"auth,omitempty"`
	Port int    `yaml:"port"`
	// Tracing is set for a project generated with --tracing (Options.Tracing); omitted when
	// false, so that the manifests of projects without it read and write as they always have.
	Tracing bool `yaml:"tracing,omitempty"`
	// Templates is a folder of the user's templates laid over the embedded ones (see
	// OpenTemplates), relative to the project's root unless absolute; empty for none.
	Templates string `yaml:"templates,omitempty"`
	// Generated says which gingen and which templates rendered the project files last (gingen
	// new, gingen upgrade); missing from the manifests of the first release.
	Generated *Generation `yaml:"generated,omitempty"`
	// Resources are the resources `gingen add resource` added, in the order it added them.
	Resources []Resource `yaml:"resources,omitempty"`
	// Files are the project's files as gingen last wrote them, each with the SHA-256 of that
	// content: every generated file but gingen.yaml and the files of resources, which their
	// resource records. gingen upgrade updates a file only while it still has that content.
	Files []GeneratedFile `yaml:"files,omitempty"`
	// Conflicts are the files whose upgrade merge was left to the user (a side file,
	// FILE.gingen-new, beside them) and that they have not resolved yet: gingen upgrade
	// writes a lost side file again, and drops the record once the file changed.
	Conflicts []Conflict `yaml:"conflicts,omitempty"`
	// Ejected lists the libraries `gingen eject` copied into the project: "restart" means
	// main.go imports the project's own internal/restart instead of gingen's restart library.
	Ejected []string `yaml:"ejected,omitempty"`
	// RestartReplace is Options.RestartReplace: set by the command that renders, never
	// written to gingen.yaml.
	RestartReplace string `yaml:"-"`
	// MigrationsOnDisk is the newest version among the migrations in the project's folder
	// (the user's own ones too): set by gingen upgrade, never written to gingen.yaml, so that a
	// migration the templates add gets a version no file there has (numberProjectMigrations).
	MigrationsOnDisk int64 `yaml:"-"`
}

// Conflict is a file an upgrade could not merge: the user's text stayed, with the SHA-256 it
// had then, and the templates' text went to a side file. The conflict is open while the file
// still has that SHA-256 (the user has not merged yet).
type Conflict struct {
	Path   string `yaml:"path"`
	SHA256 string `yaml:"sha256"`
	// Side is the side file upgrade wrote the templates' text to: Path + SideFileSuffix.
	Side string `yaml:"side"`
}

// conflict returns the open conflict the manifest records for p.
func (m Manifest) conflict(p string) (Conflict, bool) {
	for _, c := range m.Conflicts {
		if c.Path == p {
			return c, true
		}
	}
	return Conflict{}, false
}

// Generation records what generated a project: gingen's version and the SHA-256 of the
// template trees it rendered (TemplatesDigest), which is how gingen upgrade finds the
// templates to rebuild the text gingen wrote (the base of its three-way merges).
type Generation struct {
	Gingen    string `yaml:"gingen"`
	Templates string `yaml:"templates_sha256"`
}

// NewManifest returns the manifest of a freshly generated project.
func NewManifest(o Options) Manifest {
	m := Manifest{
		Schema:         manifestSchema,
		Name:           o.Name,
		Module:         o.Module,
		Strategy:       o.Strategy,
		DB:             o.DB,
		Port:           o.Port,
		Tracing:        o.Tracing,
		RestartReplace: o.RestartReplace,
	}
	if o.Auth != AuthNone {
		m.Auth = o.Auth
	}
	return m
}

const manifestHeader = "# gingen project manifest: read and updated by `gingen add`, `gingen destroy` and `gingen upgrade`.\n"

// Marshal renders the manifest as YAML with a header comment.
func (m Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(manifestHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode %s: %w", ManifestName, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", ManifestName, err)
	}
	return buf.Bytes(), nil
}

// ParseManifest reads a manifest.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		return Manifest{}, yamlError(err)
	}
	if m.Schema != manifestSchema {
		return Manifest{}, fmt.Errorf("parse %s: schema %d is not supported (this gingen reads schema %d); upgrade gingen", ManifestName, m.Schema, manifestSchema)
	}
	if err := m.validate(b); err != nil {
		return Manifest{}, err
	}
	if err := m.validateFiles(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// RestartEjected reports whether the project owns a copy of the restart library.
func (m Manifest) RestartEjected() bool { return slices.Contains(m.Ejected, EjectRestart) }

// OutboxTable is the table of resource events (templates/project/events, models.OutboxEvent).
const OutboxTable = "outbox_events"

// outboxMigration is the name, without its version, of the migration that creates
// OutboxTable (templates/project/outbox).
const outboxMigration = "create_" + OutboxTable

// HasEvents reports whether a resource of the project was added with --events: only then do
// its files include the outbox, the event streams and the websocket module.
func (m Manifest) HasEvents() bool {
	return slices.ContainsFunc(m.Resources, func(r Resource) bool { return r.Events })
}

// OutboxMigration returns the path of the outbox table's migration m records among the
// project's files, or "" when the project never had one.
func (m Manifest) OutboxMigration() string {
	for _, f := range m.Files {
		if path.Dir(f.Path) == MigrationsDir && migrationVersion(f.Path) > 0 && strings.HasSuffix(f.Path, "_"+outboxMigration+".sql") {
			return f.Path
		}
	}
	return ""
}

// KeepsOutbox reports whether the project has the outbox table's migration: once written it
// stays, with the table, after the last resource with events is destroyed.
func (m Manifest) KeepsOutbox() bool { return m.OutboxMigration() != "" }

// outboxMigrationIn returns the path of the outbox table's migration among files, or "".
func (Manifest) outboxMigrationIn(files []File) string {
	for _, f := range files {
		if path.Dir(f.Path) == MigrationsDir && strings.HasSuffix(f.Path, "_"+outboxMigration+".sql") {
			return f.Path
		}
	}
	return ""
}

// Options returns the project options the manifest records.
func (m Manifest) Options() Options {
	o := Options{Name: m.Name, Module: m.Module, Strategy: m.Strategy, DB: m.DB, Auth: m.Auth, Port: m.Port, Tracing: m.Tracing, RestartReplace: m.RestartReplace}
	o.Normalize()
	return o
}

// recordedDigest returns the SHA-256 the manifest records for a generated file: among the
// project's files or a resource's.
func (m Manifest) recordedDigest(p string) (string, bool) {
	for _, f := range m.Files {
		if f.Path == p {
			return f.SHA256, true
		}
	}
	for _, r := range m.Resources {
		for _, f := range r.Files {
			if f.Path == p {
				return f.SHA256, true
			}
		}
	}
	return "", false
}

// refreshDigests updates the recorded SHA-256 of the project files a plan rewrites (the files
// where add and destroy insert and remove lines), as long as the record still matches what is
// on disk: a file the user edited keeps its record, so that upgrade still sees the edit.
func (m *Manifest) refreshDigests(project fs.FS, writes []File) {
	for i, f := range m.Files {
		for _, w := range writes {
			if w.Path != f.Path {
				continue
			}
			if cur, err := fs.ReadFile(project, f.Path); err == nil && digest(cur) == f.SHA256 {
				m.Files[i].SHA256 = digest(w.Body)
			}
		}
	}
}

// validateFiles checks the keys gingen new and upgrade record: generated and files.
func (m Manifest) validateFiles() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%s: key %s: %s", ManifestName, key, fmt.Sprintf(format, args...))
	}
	if m.Generated != nil && m.Generated.Templates != "" {
		if b, err := hex.DecodeString(m.Generated.Templates); err != nil || len(b) != sha256.Size {
			return bad("generated.templates_sha256", "%q is not a SHA-256 in hex; restore the value gingen recorded, or remove the key", m.Generated.Templates)
		}
	}
	for i, c := range m.Conflicts {
		key := fmt.Sprintf("conflicts[%d]", i)
		if err := checkRecordedPath(c.Path); err != nil {
			return bad(key+".path", "%v", err)
		}
		if c.Side != c.Path+SideFileSuffix {
			return bad(key+".side", "%q is not the side file of %s; set it to %s, or remove the entry once you merged the file", c.Side, c.Path, c.Path+SideFileSuffix)
		}
		if b, err := hex.DecodeString(c.SHA256); err != nil || len(b) != sha256.Size {
			return bad(key+".sha256", "%q is not a SHA-256 in hex; restore the value gingen recorded, or remove the entry once you merged the file", c.SHA256)
		}
	}
	for i, f := range m.Files {
		if err := checkRecordedPath(f.Path); err != nil {
			return bad(fmt.Sprintf("files[%d].path", i), "%v", err)
		}
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != sha256.Size {
			return bad(fmt.Sprintf("files[%d].sha256", i), "%q is not a SHA-256 in hex; restore the value gingen recorded", f.SHA256)
		}
	}
	return nil
}
