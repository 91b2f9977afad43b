// Package templates holds the embedded template trees gingen renders.
//
// Layout: project/base holds the files every project gets; project/<strategy> holds the files
// of one restart strategy, laid over base. Every file is named like its output plus ".tmpl";
// "__name__" in a path stands for the project name. resource holds the files
// `gingen add resource` creates in a project, where "__name__" stands for the resource name.
package templates

import (
	"embed"
	"io/fs"
)

//go:embed all:project all:resource
var files embed.FS

// FS returns the embedded template trees.
func FS() fs.FS { return files }
