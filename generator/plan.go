package generator

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
)

// goVersion is the go directive of generated projects: the toolchain gingen is developed and
// tested with; the pinned module versions in the project templates build with it.
const goVersion = "1.26.0"

// ProjectData is what the project templates see.
type ProjectData struct {
	Name      string
	Module    string
	Strategy  string
	DB        string
	Auth      string
	Port      int
	EnvPrefix string
	GoVersion string
	// DBName is the default database and user name of a database server: the project name
	// in lower case with '-' as '_', so that it needs no quoting in SQL.
	DBName string
	// DBPort is the database server's default port; 0 for sqlite.
	DBPort int
}

func newProjectData(o Options) ProjectData {
	return ProjectData{
		Name:      o.Name,
		Module:    o.Module,
		Strategy:  o.Strategy,
		DB:        o.DB,
		Auth:      o.Auth,
		Port:      o.Port,
		EnvPrefix: EnvPrefix(o.Name),
		GoVersion: goVersion,
		DBName:    strings.ToLower(strings.ReplaceAll(o.Name, "-", "_")),
		DBPort:    dbPort(o.DB),
	}
}

// dbPort is a database server's default port; 0 for sqlite, which has no server.
func dbPort(db string) int {
	switch db {
	case DBPostgres:
		return 5432
	case DBMySQL:
		return 3306
	}
	return 0
}

// templateDirs are the template trees of a project, each laid over the ones before it: the
// base, the database's driver code, the auth scheme's files (none for "none"), the restart
// strategy, and the combination's go.mod and go.sum (written by internal/depsgen).
func templateDirs(o Options) []string {
	dirs := []string{"project/base", "project/db/" + o.DB}
	if o.Auth != AuthNone {
		dirs = append(dirs, "project/auth/"+o.Auth)
	}
	return append(dirs, "project/"+o.Strategy, "project/deps/"+DepsKey(o))
}

// DepsKey names the folder under templates/project/deps that holds the go.mod and go.sum
// templates of o's strategy, database and auth: "fork-sqlite-none". internal/depsgen writes
// one per combination with `go mod tidy`, so they are never edited by hand.
func DepsKey(o Options) string { return o.Strategy + "-" + o.DB + "-" + o.Auth }

// PlanProject renders every file of a new project in memory: the base tree, the trees of the
// chosen database, auth and strategy laid over it (templateDirs), and the manifest. Nothing is written. Options must be
// normalized and valid.
func PlanProject(o Options, tfs fs.FS) ([]File, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	data := newProjectData(o)
	byPath := map[string]File{}
	for _, dir := range templateDirs(o) {
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
	doc, err := RenderOpenAPI(NewManifest(o))
	if err != nil {
		return nil, err
	}
	byPath[OpenAPIPath] = File{Path: OpenAPIPath, Body: doc, Mode: 0o644}
	if len(byPath) == 0 {
		return nil, fmt.Errorf("plan %s: no templates found", o.Name)
	}
	var out []File
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		out = append(out, byPath[p])
	}
	return out, nil
}
