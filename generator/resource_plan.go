package generator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Actions of the plans of add and destroy, beside those of new.
const (
	ActionInsert Action = "insert" // a line inserted above a marker
	ActionRemove Action = "remove" // a line removed
	ActionUpdate Action = "update" // a file rewritten as a whole (the manifest)
	ActionDelete Action = "delete" // a file deleted
)

// Step is one line of a plan as it is printed.
type Step struct {
	Action Action
	Path   string // slash-separated, relative to the project root
	Line   int    // insert, remove: the 1-based number of the line in the file it is in
	Text   string // insert, remove: the line, without its indentation
	Note   string // upgrade: why, for the actions that need a word (merge, conflict, keep)
}

func (s Step) String() string {
	if s.Note != "" {
		return fmt.Sprintf("%12s  %s  (%s)", s.Action, s.Path, s.Note)
	}
	if s.Text == "" {
		return fmt.Sprintf("%12s  %s", s.Action, s.Path)
	}
	return fmt.Sprintf("%12s  %s:%d  %s", s.Action, s.Path, s.Line, s.Text)
}

// Plan is what a command does to an existing project, computed in memory before anything is
// touched: the files it writes whole (created or edited), the files it deletes, and the steps
// that describe it.
type Plan struct {
	Writes  []File
	Deletes []string
	Steps   []Step
	// Notes are what the user must know beyond the steps, e.g. that a deleted migration's
	// table stays in the databases that ran it.
	Notes []string
	// ManifestSum, when set, is the SHA-256 of gingen.yaml read before the plan was made
	// (Project.Sum, read by Open before planning): the plan is applied only if gingen.yaml still has it, else Apply
	// returns ErrProjectChanged. Every change of a project rewrites gingen.yaml, so two gingen
	// commands planned from the same state cannot both apply: the second would undo the first.
	ManifestSum string
}

// Apply carries the plan out in the project at root, all or nothing.
func (p Plan) Apply(root string) error {
	return p.ApplyContext(context.Background(), root)
}

// ApplyContext is Apply that stops when ctx is done before the change's commit point, rolls
// it back and returns ErrInterrupted; the change is all or nothing even if the process is
// killed (the next Recover finishes or undoes it).
func (p Plan) ApplyContext(ctx context.Context, root string) error {
	return applyChangeFrom(ctx, root, p.Writes, p.Deletes, p.ManifestSum)
}

// FindProjectRoot returns dir or the nearest folder above it that holds a gingen.yaml.
func FindProjectRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find %s: %w", ManifestName, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		_, err := os.Stat(filepath.Join(d, ManifestName))
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("find %s: %w", ManifestName, err)
		}
		if filepath.Dir(d) == d {
			return "", inputErrorf("%s is not inside a gingen project (no %s here or in any folder above); run the command in a project made by gingen new", abs, ManifestName)
		}
	}
}

// readManifest reads the project's gingen.yaml.
func readManifest(project fs.FS) (Manifest, error) {
	b, err := ReadManifestFile(project)
	if err != nil {
		return Manifest{}, err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return Manifest{}, inputErrorf("%v; fix the file or restore it from version control", err)
	}
	return m, nil
}

// PlanAddResource plans `gingen add resource` in the project whose files project holds: the
// project rendered with the resource and without it, from the templates of tfs, and every
// file whose render changes reconciled with the user's (manifestChange): the resource's
// files created, its registration lines merged into the markers' files, the outbox and
// event streams the first resource with events brings; and the manifest updated. It reads
// the project and writes nothing.
func PlanAddResource(project fs.FS, opts ResourceOptions, tfs fs.FS) (Plan, error) {
	m, err := readManifest(project)
	if err != nil {
		return Plan{}, err
	}
	before := m // the OpenAPI document's base
	res, err := opts.resolve(m)
	if err != nil {
		return Plan{}, err
	}
	what := "add resource " + res.Name
	_, migration, err := nextMigration(project, "create_"+res.Plural)
	if err != nil {
		return Plan{}, err
	}
	res.Versioned = hasVersioning(tfs)
	res.Migration = migration
	files, err := renderTree(tfs, resourceTemplates, res.Name, newResourceData(m, res))
	if err != nil {
		return Plan{}, err
	}
	create, err := createMigration(tfs, m, res, migration, false)
	if err != nil {
		return Plan{}, err
	}
	files = append(files, create)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	// The resource's files: one already there is the user's (gingen.yaml records no resource
	// that made it), unless it is what gingen generates there.
	identical := map[string]bool{}
	for _, f := range files {
		switch cur, err := fs.ReadFile(project, f.Path); {
		case err == nil && bytes.Equal(cur, f.Body):
			identical[f.Path] = true
		case err == nil:
			return Plan{}, inputErrorf("%s already exists and %s records no resource %q that made it; move the file away or pick another resource name", f.Path, ManifestName, res.Name)
		case !errors.Is(err, fs.ErrNotExist):
			return Plan{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := checkDeclarations(hideFiles(project, identical), res.Name, files); err != nil {
		return Plan{}, err
	}
	res.Inserts = resourceInserts(res)
	if err := checkMarkers(project, res.Inserts); err != nil {
		return Plan{}, err
	}

	hadOutbox := m.KeepsOutbox()
	after := m
	after.Resources = append(slices.Clone(m.Resources), res)
	var plan Plan
	out, err := plan.manifestChange(project, m, after, tfs, change{what: what, force: opts.Force, resources: []string{res.Name}})
	if err != nil {
		return Plan{}, err
	}
	if p := after.outboxMigrationIn(plan.Writes); p != "" && res.Events && !hadOutbox {
		plan.Notes = append(plan.Notes, p+" creates the "+OutboxTable+" table, which the events of "+res.Plural+" are written to: run go run . migrate up (or start the server) before serving them.")
	}
	m.Files = out.Files
	if r, ok := out.resource(res.Name); ok {
		res.Files = r.Files
	}
	m.Resources = append(m.Resources, res)
	if err := plan.updateManifest(project, before, m, opts.Force); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

// checkMarkers checks, before a change merges registration lines into the files on disk,
// that each file is there with one marker to register a resource at (findMarker). A file
// that has the line already has it right above the marker, where the merge puts it too (the
// same line inserted by both sides, once): a line the user wrote elsewhere would be
// registered a second time, and gin panics at start on a route registered twice.
func checkMarkers(project fs.FS, inserts []Insertion) error {
	for _, ins := range inserts {
		src, err := fs.ReadFile(project, ins.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return inputErrorf("%s is missing; gingen registers resources in it at the `// %s` marker; restore it from version control or from a project made by gingen new", ins.Path, ins.Marker)
		case err != nil:
			return fmt.Errorf("read %s: %w", ins.Path, err)
		}
		lines := splitLines(src)
		m, err := findMarker(ins.Path, lines, ins.Marker)
		if err != nil {
			return err
		}
		if i := findLine(lines, ins.Line); i >= 0 && i != m-1 {
			return inputErrorf("%s already has the line `%s` (line %d), away from the `// %s` marker (line %d) above which gingen registers the resource: it would be registered twice; delete your line, then run the command again", ins.Path, ins.Line, i+1, ins.Marker, m+1)
		}
	}
	return nil
}

// resourceInserts are the lines that register a resource, each above its marker.
func resourceInserts(res Resource) []Insertion {
	return []Insertion{
		{Path: "models/models.go", Marker: MarkerModels, Line: fmt.Sprintf("&%s{},", Camel(res.Name))},
		{Path: "routers/api/v1/routes.go", Marker: MarkerRoutes, Line: fmt.Sprintf("Register%s(api, db)", Camel(res.Plural))},
	}
}

// digest is the manifest's record of a file's content: its SHA-256, in hex.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// fileMode keeps an edited file's permission bits.
func fileMode(project fs.FS, p string) fs.FileMode {
	if info, err := fs.Stat(project, p); err == nil {
		return info.Mode().Perm()
	}
	return 0o644
}

// updateManifest adds the rewrite of the project's gingen.yaml, now m, to the plan, and of
// the OpenAPI document rendered from it. The document goes through the one apply policy
// (refusing a conflict, or force): the document rendered from before, the manifest the
// command read, is the base of the merge of an edited one.
func (plan *Plan) updateManifest(project fs.FS, before, m Manifest, force bool) error {
	doc, err := RenderOpenAPI(m)
	if err != nil {
		return err
	}
	v, err := viewFile(project, OpenAPIPath)
	if err != nil {
		return fmt.Errorf("read %s: %w", OpenAPIPath, err)
	}
	v.Next, v.Generated = File{Path: OpenAPIPath, Body: doc, Mode: 0o644}, true
	base, err := RenderOpenAPI(before)
	v.recordedBase(before, base, err == nil)
	o, err := reconcile(project, v, policy{OnConflict: conflictRefuse, Force: force})
	switch {
	case err != nil:
		return err
	case o.Refused:
		return inputErrorf("%s was edited since gingen generated it, and the edits conflict with the lines the change rewrites there (or gingen has not the text it generated); undo them, then run the command again", OpenAPIPath)
	}
	plan.Writes = append(plan.Writes, o.Writes...)
	// The digests follow every rewrite of a generated file. The document's record is the
	// render's, merged or not: the base of the next merge.
	m.refreshDigests(project, plan.Writes)
	for i := range m.Files {
		if m.Files[i].Path == OpenAPIPath {
			m.Files[i].SHA256 = digest(doc)
		}
	}
	manifest, err := m.Marshal()
	if err != nil {
		return err
	}
	plan.Writes = append(plan.Writes, File{Path: ManifestName, Body: manifest, Mode: fileMode(project, ManifestName)})
	plan.Steps = append(plan.Steps, Step{Action: ActionUpdate, Path: ManifestName})
	plan.Steps = append(plan.Steps, o.Steps...)
	return nil
}

// checkDeclarations refuses new Go files that declare a package-level name their package
// already declares (a resource named "open" would declare models.Open, which models.go has).
func checkDeclarations(project fs.FS, resource string, files []File) error {
	declaredIn := map[string]map[string]string{} // folder -> name -> file declaring it
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".go") {
			continue
		}
		dir := path.Dir(f.Path)
		pkg, names, err := declarations(f.Path, f.Body)
		if err != nil {
			return fmt.Errorf("add resource %s: generated %s does not parse: %w", resource, f.Path, err)
		}
		if declaredIn[dir] == nil {
			if declaredIn[dir], err = packageDeclarations(project, dir, pkg); err != nil {
				return err
			}
		}
		for _, n := range names {
			if other, ok := declaredIn[dir][n]; ok {
				return inputErrorf("resource %q would declare %s in %s, which %s already declares; pick another resource name (or --plural)", resource, n, f.Path, other)
			}
			declaredIn[dir][n] = f.Path
		}
	}
	return nil
}

// packageDeclarations lists the package-level names the Go files of package pkg in dir
// declare. Files that do not parse are skipped: they are the user's work in progress.
func packageDeclarations(project fs.FS, dir, pkg string) (map[string]string, error) {
	entries, err := fs.ReadDir(project, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		p := path.Join(dir, e.Name())
		src, err := fs.ReadFile(project, p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		filePkg, names, err := declarations(p, src)
		if err != nil || filePkg != pkg {
			continue
		}
		for _, n := range names {
			out[n] = p
		}
	}
	return out, nil
}

// declarations parses a Go file and returns its package name and package-level names.
func declarations(name string, src []byte) (string, []string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.SkipObjectResolution)
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name != "init" && d.Name.Name != "_" {
				names = append(names, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					names = append(names, s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name != "_" {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
	}
	return f.Name.Name, names, nil
}
