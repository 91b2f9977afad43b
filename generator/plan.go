package generator

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
)

// goVersion is the go directive of generated projects: the toolchain gingen is developed and
// tested with; the pinned module versions in the project templates build with it.
const goVersion = "1.26"

// ProjectData is what the project templates see.
type ProjectData struct {
	Name      string
	Module    string
	Strategy  string
	DB        string
	Port      int
	EnvPrefix string
	GoVersion string
}

func newProjectData(o Options) ProjectData {
	return ProjectData{
		Name:      o.Name,
		Module:    o.Module,
		Strategy:  o.Strategy,
		DB:        o.DB,
		Port:      o.Port,
		EnvPrefix: EnvPrefix(o.Name),
		GoVersion: goVersion,
	}
}

// PlanProject renders every file of a new project in memory: the base tree, the chosen
// strategy's tree laid over it, and the manifest. Nothing is written. Options must be
// normalized and valid.
func PlanProject(o Options, tfs fs.FS) ([]File, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	data := newProjectData(o)
	byPath := map[string]File{}
	for _, dir := range []string{"project/base", "project/" + o.Strategy} {
		files, err := renderTree(tfs, dir, o.Name, data)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			byPath[f.Path] = f
		}
	}
	manifest, err := NewManifest(o).Marshal()
	if err != nil {
		return nil, err
	}
	byPath[ManifestName] = File{Path: ManifestName, Body: manifest, Mode: 0o644}
	if len(byPath) == 0 {
		return nil, fmt.Errorf("plan %s: no templates found", o.Name)
	}
	var out []File
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		out = append(out, byPath[p])
	}
	return out, nil
}
