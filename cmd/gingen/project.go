package main

import (
	"io/fs"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

// openedProject is a project opened for a command that renders into it: what
// generator.Open returns, and the templates the command renders with.
type openedProject struct {
	*generator.Project
	// Overlay is the folder laid over the embedded templates: the --templates flag,
	// else the one gingen.yaml names; "" for none.
	Overlay string
	// Templates are the embedded templates with that folder laid over them.
	Templates fs.FS
}

// openProject opens the project at root with generator.Open, and its templates: the folder
// templatesFlag names, else the manifest's.
func openProject(root, templatesFlag string) (openedProject, error) {
	p, err := generator.Open(root)
	if err != nil {
		return openedProject{}, err
	}
	dir, err := p.TemplatesDir(templatesFlag)
	if err != nil {
		return openedProject{}, err
	}
	tfs, err := generator.OpenTemplates(templates.FS(), dir)
	if err != nil {
		return openedProject{}, err
	}
	return openedProject{Project: p, Overlay: dir, Templates: tfs}, nil
}
