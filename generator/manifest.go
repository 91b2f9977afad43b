package generator

import (
	"bytes"
	"fmt"

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
	// Templates is a folder of the user's templates laid over the embedded ones (see
	// OpenTemplates), relative to the project's root unless absolute; empty for none.
	Templates string `yaml:"templates,omitempty"`
	// Resources are the resources `gingen add resource` added, in the order it added them.
	Resources []Resource `yaml:"resources,omitempty"`
}

// NewManifest returns the manifest of a freshly generated project.
func NewManifest(o Options) Manifest {
	m := Manifest{
		Schema:   manifestSchema,
		Name:     o.Name,
		Module:   o.Module,
		Strategy: o.Strategy,
		DB:       o.DB,
		Port:     o.Port,
	}
	if o.Auth != AuthNone {
		m.Auth = o.Auth
	}
	return m
}

const manifestHeader = "# gingen project manifest: read and updated by `gingen add` and `gingen destroy`.\n"

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
	return m, nil
}
