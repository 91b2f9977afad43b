// Package templates holds the embedded template trees gingen renders.
//
// Layout: project/base holds the files every project gets; project/db/<database> holds the
// driver code of one database (sqlite, postgres, mysql), project/auth/<scheme> the files of an
// auth scheme (jwt), and project/<strategy> the files of one restart strategy, each laid over
// base in that order (generator.PlanProject). Every file is named like its output plus ".tmpl";
// "__name__" in a path stands for the project name. resource holds the files
// `gingen add resource` creates in a project, where "__name__" stands for the resource name.
// migration holds the SQL migrations `gingen add resource` (create.sql) and `gingen add
// field` (add_fields.sql) write into a project's db/migrations.
package templates

import (
	"embed"
	"io/fs"
	"strings"
)

//go:embed all:project all:resource all:migration
var files embed.FS

// FS returns the embedded template trees.
func FS() fs.FS { return tree{files} }

// tree is the embedded trees. Their Go templates without an action are gofmt-clean as
// written (TestStaticGoTemplatesAreGofmtClean), and those of the project trees with actions
// render gofmt-clean for every project (TestProjectTemplatesRenderGofmtClean in the
// generator), which they vouch for, so that gingen new need not format what it writes.
type tree struct{ embed.FS }

// FormattedAsWritten reports whether the Go template name, if it holds no action, is
// gofmt-clean as written: true for every file of the embedded trees (the test fails on one
// that is not; run gofmt on it, then go test ./generator -run Golden -update, as its digest
// changes).
func (tree) FormattedAsWritten(string) bool { return true }

// RendersFormatted reports whether the Go template name, if it holds actions, renders
// gofmt-clean output with the data of every project gingen generates, so that the generator
// need not format what it renders: true for every template of the project trees
// (TestProjectTemplatesRenderGofmtClean in the generator renders each with every combination
// of options and with names, module paths and ports of every length that moves gofmt's
// alignment, and fails on one that needs gofmt: fix its white space). Never for a resource or
// migration template: those render a user's fields, of any name, and are always formatted.
func (tree) RendersFormatted(name string) bool { return strings.HasPrefix(name, "project/") }

// TemplatesDigest is the digest of the project and resource trees as the generator computes
// it (generator.TemplatesDigest), taken when they last changed: gingen need not read and hash
// a megabyte of templates at each run. `go test ./generator -run Golden -update` rewrites it
// (digest.go), and TestGoldenTemplatesDigest fails while it is stale.
func (tree) TemplatesDigest() string { return digest }
