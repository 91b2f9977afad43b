package generator

import (
	"path/filepath"
)

// goldenOverrides are the golden cases rendered as `gingen new --templates DIR` renders them:
// case -> DIR, relative to this package, laid over the embedded templates.
func goldenOverrides() map[string]string {
	return map[string]string{"myblog-override": filepath.Join("testdata", "override")}
}

// goldenOverrideResources are the resources added to an override case, rendered with the
// same templates (the manifest records them).
func goldenOverrideResources() map[string][]ResourceOptions {
	return map[string][]ResourceOptions{
		"myblog-override": {{Name: "note", Fields: []string{"body:text", "pinned:bool"}}},
	}
}

// planGoldenCase plans a golden case, with its templates folder when it has one.
func planGoldenCase(name string, opts Options) ([]File, error) {
	dir, ok := goldenOverrides()[name]
	if !ok {
		return planGolden(name, opts)
	}
	tfs, err := OpenTemplates(goldenTemplates(), dir)
	if err != nil {
		return nil, err
	}
	files, err := PlanProject(opts, tfs)
	if err != nil {
		return nil, err
	}
	if err := RecordTemplates(files, filepath.Join("..", "golden", name), dir); err != nil {
		return nil, err
	}
	for _, r := range goldenOverrideResources()[name] {
		plan, err := PlanAddResource(memFS(files), r, tfs)
		if err != nil {
			return nil, err
		}
		files = applyInMemory(files, plan)
	}
	return files, nil
}
