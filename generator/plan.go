package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
)

// goVersion is the go directive of generated projects: the toolchain gingen is developed and
// tested with; the pinned module versions in the project templates build with it.
const goVersion = "1.26.0"

// BuildTags are the build tags generated projects are built, vetted and tested with (their
// Makefile, Dockerfile and README; the e2e harness builds golden projects with them too).
// nomsgpack leaves out gin's MessagePack binding and renderer, which the generated code never
// uses: about a fifth of the binary (github.com/ugorji/go/codec).
const BuildTags = "nomsgpack"

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
	// GoPatched is MinPatchedGo: the Go release to build with (README, Dockerfile).
	GoPatched string
	// BuildTags is the package's BuildTags.
	BuildTags string
	// RestartConst is the restart library's constant of the strategy: restart.Fork.
	RestartConst string
	// StableMaster: the strategy runs a master with workers (StrategyInfo.StableMaster).
	StableMaster bool
	// RestartReplace is Options.RestartReplace: go.mod's replace of the restart library.
	RestartReplace string
	// RestartEjected: main.go imports the project's internal/restart (gingen eject restart).
	RestartEjected bool
	// DBName is the default database name of a database server: the project name in lower
	// case with '-' as '_', so that it needs no quoting in SQL.
	DBName string
	// DBUser is the default user name: DBName cut to MySQL's limit of 32 characters (a
	// project name may have up to 63).
	DBUser string
	// DBPort is the database server's default port; 0 for sqlite.
	DBPort int
	// Events: a resource of the project was added with --events (Manifest.HasEvents); the
	// outbox, the event streams and their websocket module are rendered only then.
	Events bool
	// Tracing: the project was generated with --tracing (Options.Tracing): project/tracing
	// and the OpenTelemetry modules are rendered only then.
	Tracing bool
}

// maxDBUser is the longest user name MySQL accepts (MariaDB and PostgreSQL accept longer).
const maxDBUser = 32

func dbName(name string) string { return strings.ToLower(strings.ReplaceAll(name, "-", "_")) }

// dbUser is the default database user of project name: its dbName, cut to maxDBUser (names
// are ASCII, see ValidateName), without a trailing '_'.
func dbUser(name string) string {
	u := dbName(name)
	if len(u) > maxDBUser {
		u = strings.TrimRight(u[:maxDBUser], "_")
	}
	return u
}

func newProjectData(o Options) ProjectData {
	strategyInfo, _ := Strategy(o.Strategy)
	return ProjectData{
		Name:           o.Name,
		Module:         o.Module,
		Strategy:       o.Strategy,
		DB:             o.DB,
		Auth:           o.Auth,
		Port:           o.Port,
		EnvPrefix:      EnvPrefix(o.Name),
		GoVersion:      goVersion,
		GoPatched:      MinPatchedGo,
		BuildTags:      BuildTags,
		RestartConst:   strategyInfo.RunConst,
		StableMaster:   strategyInfo.StableMaster,
		RestartReplace: o.RestartReplace,
		DBName:         dbName(o.Name),
		DBUser:         dbUser(o.Name),
		DBPort:         dbPort(o.DB),
		Tracing:        o.Tracing,
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
// base, the database's driver code, the auth scheme's files (none for "none"), the
// master/worker machinery shared by the strategies that keep a stable master process
// (supervisor, systemd), the restart strategy, and the combination's go.mod and go.sum
// (written by internal/depsgen).
//
// A project with a resource added with --events also gets project/events (the outbox model
// and the event streams); project/outbox (the outbox table's migration) stays once it was
// rendered, after the last such resource is destroyed too: the table may hold events, and a
// migration that may have run is never taken back (see Manifest.KeepsOutbox). A project
// generated with --tracing gets project/tracing (pkg/tracing and its tests).
func templateDirs(o Options, events, outbox bool) []string {
	dirs := []string{"project/base", "project/db/" + o.DB}
	if o.Auth != AuthNone {
		dirs = append(dirs, "project/auth/"+o.Auth)
	}
	if events {
		dirs = append(dirs, "project/events")
	}
	if events || outbox {
		dirs = append(dirs, "project/outbox")
	}
	if o.Tracing {
		dirs = append(dirs, "project/tracing")
	}
	if s, _ := Strategy(o.Strategy); s.StableMaster {
		dirs = append(dirs, "project/master")
	}
	return append(dirs, "project/"+o.Strategy, "project/deps/"+DepsKey(o))
}

// DepsKey names the folder under templates/project/deps that holds the go.mod and go.sum
// templates of o's strategy, database and auth: "fork-sqlite-none". internal/depsgen writes
// one per combination with `go mod tidy`, so they are never edited by hand.
func DepsKey(o Options) string { return o.Strategy + "-" + o.DB + "-" + o.Auth }

// PlanProject renders every file of a new project in memory: the base tree, the trees of the
// chosen database, auth and strategy laid over it (templateDirs), and the manifest, which
// records the SHA-256 of every file. Nothing is written. Options must be normalized and valid.
func PlanProject(o Options, tfs fs.FS) ([]File, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	files, _, err := RenderProject(NewManifest(o), tfs)
	return files, err
}

// RenderProject renders everything gingen generates for the project m records, as gingen new
// followed by every recorded `gingen add resource` would: the project files, each resource's
// files, and each resource's lines inserted at the markers, in the order they were added; and
// the manifest, m with the SHA-256 of every file, this gingen and the digest of tfs recorded
// (it is among the files, too). Nothing is read from or written to the project.
func RenderProject(m Manifest, tfs fs.FS) ([]File, Manifest, error) {
	return renderProject(m, tfs, false)
}

// renderProject is RenderProject; with recordedInserts, each resource is registered at the
// markers by the lines gingen.yaml recorded rather than by the lines this gingen would insert.
// The base of an upgrade is rendered so: an earlier gingen inserted other lines (before issue
// 13: RegisterArticles(api.Group("/articles"), db)), and the base must be what it wrote.
func renderProject(m Manifest, tfs fs.FS, recordedInserts bool) ([]File, Manifest, error) {
	o := m.Options()
	if err := o.Validate(); err != nil {
		return nil, Manifest{}, fmt.Errorf("%s: %w", ManifestName, err)
	}
	// The digest of the template trees reads every template, used or not, unless the trees
	// vouch for it (the embedded ones do): it is taken while the project's own templates
	// render.
	type treesDigest struct {
		sum string
		err error
	}
	digested := make(chan treesDigest, 1) // buffered: an early return leaves no goroutine blocked
	go func() {
		sum, err := TemplatesDigest(tfs)
		digested <- treesDigest{sum, err}
	}()
	data := newProjectData(o)
	data.RestartEjected = m.RestartEjected()
	data.Events = m.HasEvents()
	byPath := map[string]File{}
	for _, dir := range templateDirs(o, data.Events, m.KeepsOutbox()) {
		if _, err := fs.Stat(tfs, dir); errors.Is(err, fs.ErrNotExist) {
			// A tree an earlier release did not have yet (its base render, in upgrade).
			continue
		}
		files, err := renderTree(tfs, dir, o.Name, data)
		if err != nil {
			return nil, Manifest{}, err
		}
		for _, f := range files {
			byPath[f.Path] = f
		}
	}
	if len(byPath) == 0 {
		return nil, Manifest{}, fmt.Errorf("plan %s: no templates found", o.Name)
	}
	if data.RestartEjected {
		if err := ejectedModule(byPath); err != nil {
			return nil, Manifest{}, err
		}
	}
	owned := map[string]string{} // file of a resource -> the resource
	resources := make([]Resource, 0, len(m.Resources))
	// A resource added before gingen wrote migrations gets a create migration of its own,
	// numbered after every migration the project has.
	newest := newestRecordedMigration(m, byPath)
	// Templates of a release before migrations (the base render of upgrade) have none.
	_, statErr := fs.Stat(tfs, migrationTemplates)
	withMigrations := statErr == nil
	versioning := withMigrations && hasVersioning(tfs)
	for _, recorded := range m.Resources {
		if recorded.Migration == "" && withMigrations {
			newest++
			recorded.Migration, recorded.Baseline = migrationPath(newest, "create_"+recorded.Plural), true
		}
		// A table created before gingen versioned rows gets its version column in a
		// migration of its own: its create migration may have run and is never rewritten.
		if recorded.Migration != "" && !recorded.Versioned && recorded.VersionMigration == "" && versioning {
			newest++
			recorded.VersionMigration = migrationPath(newest, "add_version_to_"+recorded.Plural)
		}
		res := Resource{Name: recorded.Name, Plural: recorded.Plural, Fields: recorded.Fields, Events: recorded.Events}
		files, err := renderTree(tfs, resourceTemplates, res.Name, newResourceData(m, res))
		if err != nil {
			return nil, Manifest{}, err
		}
		slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
		for _, f := range files {
			if other, ok := owned[f.Path]; ok {
				return nil, Manifest{}, inputErrorf("resources %q and %q of %s both generate %s; remove one of them from %s", other, res.Name, ManifestName, f.Path, ManifestName)
			}
			if _, ok := byPath[f.Path]; ok {
				return nil, Manifest{}, inputErrorf("resource %q of %s generates %s, which the project's templates generate too; rename the resource", res.Name, ManifestName, f.Path)
			}
			owned[f.Path] = res.Name
			byPath[f.Path] = f
			res.Files = append(res.Files, GeneratedFile{Path: f.Path, SHA256: digest(f.Body)})
		}
		// The migrations add resource and add field wrote, kept as they were written.
		var (
			migrations []File
			create     *GeneratedFile
			changes    []FieldChange
			renames    []FieldRename
			resRenames []ResourceRename
		)
		if withMigrations {
			if migrations, create, changes, renames, resRenames, err = renderResourceMigrations(tfs, m, recorded); err != nil {
				return nil, Manifest{}, err
			}
		}
		for _, f := range migrations {
			if other, ok := owned[f.Path]; ok {
				return nil, Manifest{}, inputErrorf("resources %q and %q of %s both record the migration %s; remove one of them from %s", other, res.Name, ManifestName, f.Path, ManifestName)
			}
			owned[f.Path] = res.Name
			byPath[f.Path] = f
		}
		if create != nil {
			res.Migration, res.Baseline, res.Versioned = create.Path, recorded.Baseline, recorded.Versioned
			if p := recorded.VersionMigration; p != "" {
				for _, f := range migrations {
					if f.Path == p {
						res.VersionMigration = p
						res.Files = append(res.Files, GeneratedFile{Path: p, SHA256: digest(f.Body)})
					}
				}
			}
			res.Files = append(res.Files, *create)
			slices.SortFunc(res.Files, func(a, b GeneratedFile) int { return strings.Compare(a.Path, b.Path) })
		}
		res.FieldChanges = changes
		res.FieldRenames = renames
		res.ResourceRenames = resRenames
		res.Inserts = resourceInserts(res)
		if recordedInserts && len(recorded.Inserts) > 0 {
			res.Inserts = recorded.Inserts
		}
		for _, ins := range res.Inserts {
			target, ok := byPath[ins.Path]
			if !ok {
				return nil, Manifest{}, fmt.Errorf("resource %s: the templates generate no %s to register it in", res.Name, ins.Path)
			}
			out, _, _, err := insertAtMarker(ins.Path, target.Body, ins)
			if err != nil {
				return nil, Manifest{}, err
			}
			target.Body = out
			byPath[ins.Path] = target
		}
		resources = append(resources, res)
	}
	if err := numberProjectMigrations(m, byPath, resources); err != nil {
		return nil, Manifest{}, err
	}
	d := <-digested
	if d.err != nil {
		return nil, Manifest{}, d.err
	}
	sum := d.sum
	out := m
	out.Schema = manifestSchema
	out.Generated = &Generation{Gingen: Version(), Templates: sum}
	out.Resources = resources
	// The OpenAPI document describes the final set of resources; it is a project file (its
	// digest recorded), rewritten whole by add and destroy.
	doc, err := RenderOpenAPI(out)
	if err != nil {
		return nil, Manifest{}, err
	}
	byPath[OpenAPIPath] = File{Path: OpenAPIPath, Body: doc, Mode: 0o644}
	out.Files = nil
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		if _, ok := owned[p]; !ok {
			out.Files = append(out.Files, GeneratedFile{Path: p, SHA256: digest(byPath[p].Body)})
		}
	}
	body, err := out.Marshal()
	if err != nil {
		return nil, Manifest{}, err
	}
	byPath[ManifestName] = File{Path: ManifestName, Body: body, Mode: 0o644}
	files := make([]File, 0, len(byPath))
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		files = append(files, byPath[p])
	}
	return files, out, nil
}

// digestVouched is a template tree that knows its own TemplatesDigest: the embedded trees,
// whose digest is taken when they change (templates/digest.go, kept current by
// TestGoldenTemplatesDigest) rather than by reading and hashing every template at each run.
// An overlay does not vouch: its digest is always computed.
type digestVouched interface {
	TemplatesDigest() string
}

// TemplatesDigest is the SHA-256 of the template trees gingen renders projects and resources
// from: every file under project/ and resource/ of tfs, with its path.
func TemplatesDigest(tfs fs.FS) (string, error) {
	if v, ok := tfs.(digestVouched); ok {
		return v.TemplatesDigest(), nil
	}
	return computeTemplatesDigest(tfs)
}

// computeTemplatesDigest is TemplatesDigest read from the trees themselves.
func computeTemplatesDigest(tfs fs.FS) (string, error) {
	h := sha256.New()
	buf := make([]byte, 32<<10)
	for _, dir := range []string{"project", resourceTemplates} {
		err := fs.WalkDir(tfs, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			// Read through a buffer, not whole: the trees are a megabyte and more, and the
			// digest is all that is kept of them.
			f, err := tfs.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			info, err := f.Stat()
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00%d\x00", p, info.Size())
			n, err := io.CopyBuffer(h, f, buf)
			if err != nil {
				return err
			}
			if n != info.Size() {
				return fmt.Errorf("%s: read %d bytes of %d; it changed while it was read", p, n, info.Size())
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("digest templates: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Version is this gingen's version as the manifest records it: the main module's version
// ("(devel)" for a build from a checkout without one) and its VCS revision, when known.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && !strings.Contains(v, shortRevision(s.Value)) {
			v += " " + shortRevision(s.Value)
		}
	}
	return v
}

func shortRevision(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}
