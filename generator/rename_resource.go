package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// RenameResourceOptions describe `gingen rename resource`: a resource to give another name.
type RenameResourceOptions struct {
	Old, New string
	// Plural overrides the plural the inflection library derives from New.
	Plural string
	// Force writes the files of the resource and of those that reference it again even when
	// they were edited since gingen wrote them; each edited file's text is kept as
	// FILE.gingen-old (see reconcile).
	Force bool
}

// PlanRenameResource plans `gingen rename resource`: a migration that renames the resource's
// table with the indexes and foreign keys named after it (every row kept, the foreign keys
// of the tables that reference it following it), the resource's files written under the new
// name and those under the old one deleted, its registration lines changed in place, the
// resources that reference it written again (their field keeps its name and column; the
// relation's type and table change), and the OpenAPI document. gingen.yaml records the rename
// (resource_renames), so that the migrations written before it are still rendered with the
// names they had. It reads the project and writes nothing.
func PlanRenameResource(project fs.FS, opts RenameResourceOptions, tfs fs.FS) (Plan, error) {
	m, err := readManifest(project)
	if err != nil {
		return Plan{}, err
	}
	oldName, newName := strings.TrimSpace(opts.Old), strings.TrimSpace(opts.New)
	res, ok := m.resource(oldName)
	switch {
	case !ok && oldName == usersTarget && m.Auth == AuthJWT:
		return Plan{}, inputErrorf("user is the users table of --auth jwt, not a resource gingen add resource made, and its routes (/auth, /api/v1/me) are fixed; rename one of %s instead", resourceNames(m))
	case !ok:
		return Plan{}, inputErrorf("no resource %q in %s; %s, e.g. gingen rename resource %s post", oldName, ManifestName, recordedResources(m), firstResource(m))
	}
	plural := strings.TrimSpace(opts.Plural)
	if newName == oldName && (plural == "" || plural == res.Plural) {
		return Plan{}, inputErrorf("resource %s already has that name; give another, e.g. gingen rename resource %s %s_new (or --plural to change only its table and routes)", oldName, oldName, oldName)
	}
	if newName == usersTarget && m.Auth == AuthJWT {
		return Plan{}, inputErrorf("resource name %q is the users table of --auth jwt (models.User, the users table); pick another name", newName)
	}
	// Resolve the new name as add resource resolves one: its syntax and plural, and clashes
	// with the other resources' names, plurals and routes.
	others := m
	others.Resources = slices.DeleteFunc(slices.Clone(m.Resources), func(r Resource) bool { return r.Name == oldName })
	specs := make([]string, len(res.Fields))
	for i, f := range res.Fields {
		specs[i] = f.String()
	}
	resolved, err := ResourceOptions{Name: newName, Plural: plural, Fields: specs}.resolve(others)
	if err != nil {
		return Plan{}, err
	}
	if resolved.Plural == res.Plural {
		return Plan{}, inputErrorf("resource %s would keep its plural %s, its table and routes; gingen renames a resource with its table, so give the new name its own plural, e.g. --plural %s", oldName, res.Plural, Plural(resolved.Name))
	}
	renamed := res
	renamed.Name, renamed.Plural = resolved.Name, resolved.Plural

	// The manifest after the rename: the resource under its new name, the references to it
	// pointing to the new name, for the templates of every resource rendered again.
	after := m
	after.Resources = slices.Clone(m.Resources)
	var referrers []int
	for i, r := range after.Resources {
		if r.Name == oldName {
			after.Resources[i] = renamed
			continue
		}
		fields := slices.Clone(r.Fields)
		changed := false
		for j, f := range fields {
			if f.Type == TypeReferences && f.RefTarget() == oldName {
				fields[j], changed = f.retarget(renamed.Name), true
			}
		}
		if changed {
			after.Resources[i].Fields = fields
			referrers = append(referrers, i)
		}
	}

	plan, files, err := rerenderAs(project, tfs, m, after, res, renamed, "rename resource", opts.Force)
	if err != nil {
		return Plan{}, err
	}
	hidden := map[string]bool{}
	for _, g := range res.Files {
		hidden[g.Path] = true
	}
	if err := checkDeclarations(hideFiles(project, hidden), renamed.Name, plan.Writes); err != nil {
		return Plan{}, err
	}
	renamed.Files = files

	// The registration lines must still be where add put them (else the user changed the
	// registration, and gingen cannot tell what renames it); they change in the project's
	// render below.
	renamed.Inserts = resourceInserts(renamed)
	if err := checkRegistration(project, res, renamed); err != nil {
		return Plan{}, err
	}

	// The resources that reference it: the relation's type and table change.
	for _, i := range referrers {
		r := m.Resources[i]
		next := r
		next.Fields = after.Resources[i].Fields
		p, files, err := rerenderAs(project, tfs, m, after, r, next, "rename resource", opts.Force)
		if err != nil {
			return Plan{}, err
		}
		plan.Writes = append(plan.Writes, p.Writes...)
		plan.Deletes = append(plan.Deletes, p.Deletes...)
		plan.Steps = append(plan.Steps, p.Steps...)
		after.Resources[i].Files = files
	}

	migration, err := newMigrationPath(project, "rename_"+res.Plural+"_to_"+renamed.Plural, "rename resource")
	if err != nil {
		return Plan{}, err
	}
	before := Resource{Name: res.Name, Plural: res.Plural, Fields: renamedFields(res.Fields), Events: res.Events}
	mig, err := renameResourceMigration(tfs, m, before, renamed.Name, renamed.Plural, migration)
	if err != nil {
		return Plan{}, err
	}
	plan.Writes = append(plan.Writes, mig)
	plan.Steps = append([]Step{{Action: ActionCreate, Path: migration}}, plan.Steps...)
	fieldSpecs := make([]string, len(before.Fields))
	for i, f := range before.Fields {
		fieldSpecs[i] = f.String()
	}
	renamed.ResourceRenames = append(slices.Clone(res.ResourceRenames), ResourceRename{Name: res.Name, Plural: res.Plural, Fields: fieldSpecs, Migration: GeneratedFile{Path: migration, SHA256: digest(mig.Body)}})
	for i, r := range after.Resources {
		if r.Name == renamed.Name {
			after.Resources[i] = renamed
		}
	}
	plan.Notes = append(plan.Notes, renameResourceNote(migration, res, renamed, len(referrers) > 0))
	// The project's own files (the registration lines, changed in place): rendered before
	// and after the rename, merged into the user's.
	out, err := plan.manifestChange(project, m, after, tfs, change{what: "rename resource " + oldName, force: opts.Force})
	if err != nil {
		return Plan{}, err
	}
	after.Files = out.Files
	if err := plan.updateManifest(project, m, after, opts.Force); err != nil {
		return Plan{}, err
	}
	return plan, nil
}

// renameResourceNote tells, before the command acts, what the rename keeps and that it is a
// breaking change for the API's clients.
func renameResourceNote(migration string, from, to Resource, referenced bool) string {
	routes := fmt.Sprintf("/api/v1/%s moves to /api/v1/%s", from.Plural, to.Plural)
	if referenced {
		routes += " (and /api/v1/" + from.Plural + "/:id/... nested lists with it)"
	}
	return fmt.Sprintf("%s renames the %s table to %s, keeping its rows; the foreign keys that point to it follow it. This is a breaking change for clients: %s, the old path answers 404 (gingen does not redirect it: see the README), and the OpenAPI document names the schema %s. Ship it with a client release. During a hot restart the previous generation fails on the old table until it has drained.", migration, from.Plural, to.Plural, routes, Camel(to.Name))
}

// checkRegistration checks that the files where res is registered still have the lines
// that register it, where renamed registers them otherwise.
func checkRegistration(project fs.FS, res, renamed Resource) error {
	for _, ins := range res.Inserts {
		if slices.ContainsFunc(renamed.Inserts, func(n Insertion) bool { return n == ins }) {
			continue
		}
		src, err := fs.ReadFile(project, ins.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return inputErrorf("%s, where resource %s is registered, is gone; restore it from version control, then run the command again", ins.Path, res.Name)
		case err != nil:
			return fmt.Errorf("rename resource %s: %w", res.Name, err)
		case findLine(splitLines(src), ins.Line) < 0:
			return inputErrorf("%s no longer has the line %q that registered resource %s; put it back above the `// %s` marker, then run the command again", ins.Path, ins.Line, res.Name, ins.Marker)
		}
	}
	return nil
}

// resourceNames lists the names of the project's resources, or says there are none.
func resourceNames(m Manifest) string {
	if len(m.Resources) == 0 {
		return "the resources (it has none)"
	}
	names := make([]string, len(m.Resources))
	for i, r := range m.Resources {
		names[i] = r.Name
	}
	return "its resources: " + strings.Join(names, ", ")
}

func firstResource(m Manifest) string {
	if len(m.Resources) == 0 {
		return "article"
	}
	return m.Resources[0].Name
}

// hideFiles returns project without the files hidden (paths of project), as if deleted: the
// files a command replaces do not clash with what it writes in their place.
func hideFiles(project fs.FS, hidden map[string]bool) fs.FS {
	return hidingFS{project, hidden}
}

type hidingFS struct {
	fs.FS
	hidden map[string]bool
}

func (h hidingFS) Open(name string) (fs.File, error) {
	if h.hidden[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return h.FS.Open(name)
}

func (h hidingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(h.FS, name)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool {
		return h.hidden[strings.TrimPrefix(name+"/"+e.Name(), "./")]
	}), nil
}
