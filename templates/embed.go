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
// written (TestStaticGoTemplatesAreGofmtClean), which they vouch for, so that the generator
// need not format again what it copies from them.
type tree struct{ embed.FS }

// FormattedAsWritten reports whether the Go template name, if it holds no action, is
// gofmt-clean as written: true for every file of the embedded trees but two, which gofmt
// would change. (Formatting them in place would change the templates' digest that every
// project's gingen.yaml records; the test keeps this list exact.)
func (tree) FormattedAsWritten(name string) bool {
	switch name {
	case "project/base/routers/api/v1/query.go.tmpl", "project/base/pkg/metrics/driver_test.go.tmpl":
		return false
	}
	return true
}

// RendersFormatted reports whether the Go template name, if it holds actions, renders
// gofmt-clean output with the data of every project gingen generates, so that the generator
// need not format what it renders: true for the project trees' templates but the ones listed,
// whose white space gofmt changes for some project (TestProjectTemplatesRenderGofmtClean in
// the generator renders each with every combination of options and with names, module paths
// and ports of every length that moves gofmt's alignment, and keeps this list exact). Never
// for a resource or migration template: those render a user's fields, of any name.
func (tree) RendersFormatted(name string) bool {
	switch name {
	case "project/auth/jwt/pkg/auth/throttle.go.tmpl",
		"project/auth/jwt/routers/api/auth.go.tmpl",
		"project/base/internal/dbtest/dbtest.go.tmpl",
		"project/base/main.go.tmpl",
		"project/base/pkg/setting/limits.go.tmpl",
		"project/base/pkg/setting/setting.go.tmpl",
		"project/base/pkg/setting/setting_test.go.tmpl",
		"project/base/routers/api/v1/response_test.go.tmpl",
		"project/base/routers/metrics_test.go.tmpl",
		"project/base/routers/router.go.tmpl",
		"project/base/routers/router_test.go.tmpl",
		"project/events/routers/api/v1/events.go.tmpl":
		return false
	}
	return strings.HasPrefix(name, "project/")
}
