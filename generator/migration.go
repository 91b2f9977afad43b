package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// MigrationsDir is the folder of a project's SQL migrations (goose's NNNNN_name.sql files).
const MigrationsDir = "db/migrations"

// migrationTemplates is the template tree of the migrations add resource and add field write.
const migrationTemplates = "migration"

// migrationFileVersion reads the version of a goose migration's file name,
// ^([0-9]+)_[^/]*\.(sql|go)$: the digits before the first '_'; ok is false for a name of
// another shape.
func migrationFileVersion(name string) (version string, ok bool) {
	version, rest, found := strings.Cut(name, "_")
	if !found || version == "" || strings.Trim(version, "0123456789") != "" || strings.Contains(rest, "/") {
		return "", false
	}
	if !strings.HasSuffix(rest, ".sql") && !strings.HasSuffix(rest, ".go") {
		return "", false
	}
	return version, true
}

// isMigrationFile reports whether name is a goose migration's file name.
func isMigrationFile(name string) bool {
	_, ok := migrationFileVersion(name)
	return ok
}

// migrationVersions lists the versions of the migrations in the project's migrations
// folder, in ascending order; none when the folder does not exist.
func migrationVersions(project fs.FS) ([]int64, error) {
	entries, err := fs.ReadDir(project, MigrationsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", MigrationsDir, err)
	}
	var out []int64
	for _, e := range entries {
		version, ok := migrationFileVersion(e.Name())
		if e.IsDir() || !ok || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		v, err := strconv.ParseInt(version, 10, 64)
		if err != nil {
			return nil, inputErrorf("%s/%s: version %s is not a number goose reads; rename the file", MigrationsDir, e.Name(), version)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

// nextMigration returns the version after the newest migration of the project and the
// path of a migration named name with it: sequential versions, five digits as goose's
// `create -s` writes them.
func nextMigration(project fs.FS, name string) (int64, string, error) {
	versions, err := migrationVersions(project)
	if err != nil {
		return 0, "", err
	}
	var v int64 = 1
	if len(versions) > 0 {
		v = versions[len(versions)-1] + 1
	}
	return v, migrationPath(v, name), nil
}

// newMigrationPath is nextMigration's path for a migration a command writes (what names the
// command in errors), refused with the fix when a file is already there.
func newMigrationPath(project fs.FS, name, what string) (string, error) {
	_, migration, err := nextMigration(project, name)
	if err != nil {
		return "", err
	}
	switch _, err := fs.Stat(project, migration); {
	case err == nil:
		return "", inputErrorf("%s already exists; move it away and run the command again", migration)
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return migration, nil
}

func migrationPath(v int64, name string) string {
	return path.Join(MigrationsDir, fmt.Sprintf("%05d_%s.sql", v, name))
}

// migrationVersion reads the version from a migration's path.
func migrationVersion(p string) int64 {
	version, ok := migrationFileVersion(path.Base(p))
	if !ok {
		return 0
	}
	v, _ := strconv.ParseInt(version, 10, 64)
	return v
}

// MigrationData is what the migration templates see: the statements of the Up and Down
// parts, computed for the project's database here; the templates only print them.
type MigrationData struct {
	Command string   // the gingen command that wrote the migration
	Undo    string   // the gingen command that deletes it again
	Table   string   // the table it creates or alters
	Model   string   // the model of the table: Article
	Fields  []string // add field: the fields it adds, as name:type[:modifier]
	// Baseline marks a create migration written for a resource added before gingen wrote
	// migrations: IF NOT EXISTS, so that a database where gorm's AutoMigrate made the table
	// records it as applied.
	Baseline bool
	Up       []string // statements, each ending in ';', possibly over several lines
	Down     []string
}

// sqlDialect writes the SQL of one database, mirroring what gorm's AutoMigrate creates for
// the same model, so that the migrated schema matches the models (the generated project's
// internal/migrate test checks it).
type sqlDialect string

func (d sqlDialect) quote(id string) string {
	if d == DBPostgres {
		return `"` + id + `"`
	}
	return "`" + id + "`"
}

// columnType is the column type gorm gives a field of this type.
func (d sqlDialect) columnType(f Field) string {
	switch d {
	case DBPostgres:
		switch f.Type {
		case TypeString:
			return fmt.Sprintf("varchar(%d)", maxStringLen)
		case TypeText:
			return "text"
		case TypeFloat:
			return "decimal"
		case TypeBool:
			return "boolean"
		case TypeTime:
			return "timestamptz"
		}
		return "bigint"
	case DBMySQL:
		switch f.Type {
		case TypeString:
			return fmt.Sprintf("varchar(%d)", maxStringLen)
		case TypeText:
			return "text"
		case TypeUint, TypeReferences:
			return "bigint unsigned"
		case TypeFloat:
			return "double"
		case TypeBool:
			return "boolean"
		case TypeTime:
			return "datetime(3)"
		}
		return "bigint"
	}
	switch f.Type {
	case TypeString, TypeText:
		return "text"
	case TypeFloat:
		return "real"
	case TypeBool:
		return "numeric"
	case TypeTime:
		return "datetime"
	}
	return "integer"
}

// notNull reports whether the field's column is NOT NULL: all are but an optional time,
// which is NULL when unset (see newFieldData).
func notNull(f Field) bool {
	return f.Type != TypeTime || f.Required()
}

// column is the field's column definition, as CREATE TABLE lists it.
func (d sqlDialect) column(f Field) string {
	def := d.quote(f.column()) + " " + d.columnType(f)
	switch {
	case notNull(f):
		def += " NOT NULL"
	case d == DBMySQL:
		def += " NULL"
	}
	return def
}

// zero is the SQL literal of the field type's zero value: what rows that exist when the
// column is added get.
func (d sqlDialect) zero(f Field) string {
	switch f.Type {
	case TypeString, TypeText:
		return "''"
	case TypeFloat:
		return "0"
	case TypeBool:
		if d == DBSQLite {
			return "0"
		}
		return "false"
	case TypeTime:
		return "'1970-01-01 00:00:00'"
	}
	return "0"
}

// index is the name and kind of the field's index, as gorm names it; "" for none.
func index(table string, f Field) (name string, unique bool) {
	switch {
	case f.Has(ModUnique):
		return "idx_" + table + "_" + f.column(), true
	case f.Has(ModIndex) || f.Type == TypeReferences:
		return "idx_" + table + "_" + f.column(), false
	}
	return "", false
}

func (d sqlDialect) createIndex(table string, f Field) string {
	return d.createIndexIf(table, f, false)
}

// createIndexIf is createIndex, with IF NOT EXISTS when ifNotExists (not for MySQL, which
// lacks it: its create migrations declare the indexes in CREATE TABLE).
func (d sqlDialect) createIndexIf(table string, f Field, ifNotExists bool) string {
	name, unique := index(table, f)
	if name == "" {
		return ""
	}
	kind := "INDEX"
	if unique {
		kind = "UNIQUE INDEX"
	}
	if ifNotExists && d != DBMySQL {
		kind += " IF NOT EXISTS"
	}
	return fmt.Sprintf("CREATE %s %s ON %s (%s);", kind, d.quote(name), d.quote(table), d.quote(f.column()))
}

func (d sqlDialect) dropIndex(table string, f Field) string {
	name, _ := index(table, f)
	if name == "" {
		return ""
	}
	if d == DBMySQL {
		return fmt.Sprintf("DROP INDEX %s ON %s;", d.quote(name), d.quote(table))
	}
	return fmt.Sprintf("DROP INDEX %s;", d.quote(name))
}

// createTable is the Up part of a resource's create migration: the table with the generated
// columns and the fields, its foreign keys and its indexes.
func (d sqlDialect) createTable(m Manifest, r Resource, ifNotExists bool) []string {
	table := r.Plural
	var lines []string
	switch d {
	case DBPostgres:
		lines = append(lines, d.quote("id")+" bigserial", d.quote("created_at")+" timestamptz", d.quote("updated_at")+" timestamptz")
	case DBMySQL:
		lines = append(lines, d.quote("id")+" bigint unsigned AUTO_INCREMENT", d.quote("created_at")+" datetime(3) NULL", d.quote("updated_at")+" datetime(3) NULL")
	default:
		lines = append(lines, d.quote("id")+" integer PRIMARY KEY AUTOINCREMENT", d.quote("created_at")+" datetime", d.quote("updated_at")+" datetime")
	}
	if r.Versioned {
		lines = append(lines, d.versionColumn())
	}
	for _, f := range r.Fields {
		lines = append(lines, d.column(f))
	}
	if d != DBSQLite {
		lines = append(lines, "PRIMARY KEY ("+d.quote("id")+")")
	}
	var indexes []string
	for _, f := range r.Fields {
		if d == DBMySQL {
			// Inline, as gorm writes them: a foreign key then uses its column's index
			// instead of making one of its own.
			if name, unique := index(table, f); name != "" {
				kind := "INDEX"
				if unique {
					kind = "UNIQUE INDEX"
				}
				lines = append(lines, fmt.Sprintf("%s %s (%s)", kind, d.quote(name), d.quote(f.column())))
			}
		} else if s := d.createIndexIf(table, f, ifNotExists); s != "" {
			indexes = append(indexes, s)
		}
	}
	for _, f := range r.Fields {
		if f.Type != TypeReferences {
			continue
		}
		target, _ := m.refTarget(f)
		lines = append(lines, fmt.Sprintf("CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s(%s)",
			d.quote("fk_"+table+"_"+f.Name), d.quote(f.column()), d.quote(target.Plural), d.quote("id")))
	}
	create := "CREATE TABLE "
	if ifNotExists {
		create += "IF NOT EXISTS "
	}
	stmt := create + d.quote(table) + " (\n  " + strings.Join(lines, ",\n  ") + "\n)"
	if d == DBMySQL {
		stmt += " DEFAULT CHARSET=utf8mb4"
	}
	return append([]string{stmt + ";"}, indexes...)
}

// versionColumn is the definition of the version column every resource's table has, the
// row version behind its ETag, as gorm creates it for the models' Version uint64 with
// `not null;default:1`. Rows that exist when the column is added get version 1.
func (d sqlDialect) versionColumn() string {
	typ := "integer"
	switch d {
	case DBPostgres:
		typ = "bigint"
	case DBMySQL:
		typ = "bigint unsigned"
	}
	return d.quote("version") + " " + typ + " NOT NULL DEFAULT 1"
}

// addColumns is the Up part of an add field migration: each column added, then its index.
// A NOT NULL column gets its type's zero value as default, which it keeps: the rows already
// in the table get it, and so do those the previous generation inserts while a restart
// drains it, since that code does not know the column (expand, in expand/contract).
func (d sqlDialect) addColumns(table string, fields []Field) []string {
	var out []string
	for _, f := range fields {
		def := "ALTER TABLE " + d.quote(table) + " ADD COLUMN " + d.column(f)
		if notNull(f) {
			zero := d.zero(f)
			if d == DBMySQL && f.Type == TypeText {
				// MySQL gives a text column only an expression as default.
				zero = "(" + zero + ")"
			}
			def += " DEFAULT " + zero
		}
		out = append(out, def+";")
		if s := d.createIndex(table, f); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// dropColumns is the Down part of an add field migration, the exact reverse of addColumns.
func (d sqlDialect) dropColumns(table string, fields []Field) []string {
	var out []string
	for i := len(fields) - 1; i >= 0; i-- {
		f := fields[i]
		if s := d.dropIndex(table, f); s != "" {
			out = append(out, s)
		}
		out = append(out, fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s;", d.quote(table), d.quote(f.column())))
	}
	return out
}

// renderMigration renders the migration template name (create or add_fields) to p.
func renderMigration(tfs fs.FS, name, p string, data MigrationData) (File, error) {
	body, err := renderFile(tfs, path.Join(migrationTemplates, name+".sql"+templateExt), data)
	if err != nil {
		return File{}, err
	}
	return File{Path: p, Body: body, Mode: 0o644}, nil
}

// createMigration renders the migration that creates r's table, as p; baseline: see
// MigrationData.
func createMigration(tfs fs.FS, m Manifest, r Resource, p string, baseline bool) (File, error) {
	d := sqlDialect(m.DB)
	return renderMigration(tfs, "create", p, MigrationData{
		Command:  addCommand(r),
		Undo:     "gingen destroy resource " + r.Name,
		Table:    r.Plural,
		Model:    Camel(r.Name),
		Baseline: baseline,
		Up:       d.createTable(m, r, baseline),
		Down:     []string{"DROP TABLE " + d.quote(r.Plural) + ";"},
	})
}

// MayHaveRun is the rule by which destroy decides between deleting a migration it wrote and
// writing a new one that undoes it. A database gingen cannot see may have run a migration
// unless the migration never left the working tree (neverCommitted says no commit has it:
// nobody pulled it, no deploy shipped it) and it is the project's newest migration (a local
// database that ran it then rolls back exactly that migration, with migrate down, losing no
// other table's rows). A nil neverCommitted (not a git work tree, or no git) cannot tell:
// every migration may have run.
func mayHaveRun(project fs.FS, p string, neverCommitted func(string) bool) (bool, error) {
	if neverCommitted == nil || !neverCommitted(p) {
		return true, nil
	}
	versions, err := migrationVersions(project)
	if err != nil {
		return false, err
	}
	return len(versions) == 0 || versions[len(versions)-1] != migrationVersion(p), nil
}

// deletedMigrationNote tells what deleting the migration at p, which never left the working
// tree and is the newest, leaves in a local database that ran it, and the command that rolls
// back that migration only; redo puts the migration back when the destroy is done already.
func deletedMigrationNote(project fs.FS, p, what, redo string) (string, error) {
	versions, err := migrationVersions(project)
	if err != nil {
		return "", err
	}
	v := migrationVersion(p)
	var before int64
	for _, x := range versions {
		if x < v {
			before = x
		}
	}
	return fmt.Sprintf("%s never left the working tree (no git commit has it) and is the newest migration, so it is deleted, not %s: a local database that ran it keeps it. Roll such a database back first, while the migration is still in the code: go run . migrate down --to %d (it undoes that migration only). Destroyed already? %s puts it back as it was.", p, what, before, redo), nil
}

// dropNote tells, before the command acts, that the migration at p drops what, and that its
// rows are lost in every database that applies it.
func dropNote(p, what string) string {
	return fmt.Sprintf("%s drops %s: every database that applies it (go run . migrate up, or the next start) loses what it holds there; its down brings the schema back, not the data. Back up first what you want to keep. No other table or migration is touched.", p, what)
}

// dropTableMigration renders the migration that drops r's table, as p: the forward undo of
// its create migration, whose down creates the table again as the create migration does.
func dropTableMigration(tfs fs.FS, m Manifest, r Resource, p string) (File, error) {
	d := sqlDialect(m.DB)
	// The table as it was: with the version column its own migration added, if any.
	r.Versioned = r.Versioned || r.VersionMigration != ""
	return renderMigration(tfs, "drop_table", p, MigrationData{
		Command: "gingen destroy resource " + r.Name,
		Undo:    addCommand(r),
		Table:   r.Plural,
		Model:   Camel(r.Name),
		Up:      []string{"DROP TABLE " + d.quote(r.Plural) + ";"},
		Down:    d.createTable(m, r, false),
	})
}

// dropFieldsMigration renders the migration that drops the fields' columns from res's table,
// as p: the forward undo of their add field migration, with its Up and Down swapped.
func dropFieldsMigration(tfs fs.FS, m Manifest, res Resource, fields []Field, p string) (File, error) {
	specs, names := fieldSpecs(fields)
	d := sqlDialect(m.DB)
	return renderMigration(tfs, "drop_fields", p, MigrationData{
		Command: "gingen destroy field " + res.Name + " " + strings.Join(names, " "),
		Undo:    "gingen add field " + res.Name + " " + strings.Join(specs, " "),
		Table:   res.Plural,
		Model:   Camel(res.Name),
		Fields:  names,
		Up:      d.dropColumns(res.Plural, fields),
		Down:    d.addColumns(res.Plural, fields),
	})
}

// fieldSpecs returns the fields as `gingen add field` takes them (name:type[:modifier]) and
// their names, for the commands a migration's header names.
func fieldSpecs(fields []Field) (specs, names []string) {
	specs = make([]string, len(fields))
	names = make([]string, len(fields))
	for i, f := range fields {
		specs[i], names[i] = f.String(), f.Name
	}
	return specs, names
}

// addFieldsMigration renders the migration that adds the fields to res's table, as path.
func addFieldsMigration(tfs fs.FS, m Manifest, res Resource, added []Field, p string) (File, error) {
	specs, names := fieldSpecs(added)
	d := sqlDialect(m.DB)
	return renderMigration(tfs, "add_fields", p, MigrationData{
		Command: "gingen add field " + res.Name + " " + strings.Join(specs, " "),
		Undo:    "gingen destroy field " + res.Name + " " + strings.Join(names, " "),
		Table:   res.Plural,
		Model:   Camel(res.Name),
		Fields:  specs,
		Up:      d.addColumns(res.Plural, added),
		Down:    d.dropColumns(res.Plural, added),
	})
}

// versionTemplate is the migration template of add_version migrations: a template tree
// without it (an earlier release's, in upgrade's base render) predates versioned rows.
const versionTemplate = "add_version"

// hasVersioning reports whether the templates of tfs version rows.
func hasVersioning(tfs fs.FS) bool {
	_, err := fs.Stat(tfs, path.Join(migrationTemplates, versionTemplate+".sql"+templateExt))
	return err == nil
}

// versionMigration renders the migration that adds the version column to the table of r, a
// resource created before gingen versioned rows, as p.
func versionMigration(tfs fs.FS, m Manifest, r Resource, p string) (File, error) {
	d := sqlDialect(m.DB)
	return renderMigration(tfs, versionTemplate, p, MigrationData{
		Command: "gingen upgrade",
		Table:   r.Plural,
		Model:   Camel(r.Name),
		Up:      []string{"ALTER TABLE " + d.quote(r.Plural) + " ADD COLUMN " + d.versionColumn() + ";"},
		Down:    []string{fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s;", d.quote(r.Plural), d.quote("version"))},
	})
}

// renderResourceMigrations renders again the migrations gingen.yaml records for resource r:
// its create migration, from the fields it had before any add field, and the migration of
// each add field. They come out as add resource and add field wrote them, so that a project
// rendered from its manifest (gingen new --force, gingen upgrade) keeps them. It returns the
// files, the create migration's record, and the field changes and renames with their digests.
// Each migration is rendered with the names of the time it was written (Manifest.at).
func renderResourceMigrations(tfs fs.FS, m Manifest, r Resource) ([]File, *GeneratedFile, []FieldChange, []FieldRename, []ResourceRename, error) {
	added := map[string]bool{}
	for _, c := range r.FieldChanges {
		for _, n := range c.Fields {
			added[n] = true
		}
	}
	var files []File
	var create *GeneratedFile
	if r.Migration != "" {
		v := migrationVersion(r.Migration)
		mv, orig := m.resourceAt(r, v)
		orig.Fields = orig.fieldsAt(slices.DeleteFunc(slices.Clone(orig.Fields), func(f Field) bool { return added[f.Name] }), v)
		f, err := createMigration(tfs, mv, orig, r.Migration, r.Baseline)
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		files = append(files, f)
		create = &GeneratedFile{Path: f.Path, SHA256: digest(f.Body)}
	}
	if r.VersionMigration != "" {
		_, then := m.resourceAt(r, migrationVersion(r.VersionMigration))
		f, err := versionMigration(tfs, m, then, r.VersionMigration)
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		files = append(files, f)
	}
	var changes []FieldChange
	for _, c := range r.FieldChanges {
		v := migrationVersion(c.Migration.Path)
		mv, then := m.resourceAt(r, v)
		var fields []Field
		for _, f := range then.Fields {
			if slices.Contains(c.Fields, f.Name) {
				fields = append(fields, f)
			}
		}
		f, err := addFieldsMigration(tfs, mv, then, then.fieldsAt(fields, v), c.Migration.Path)
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		files = append(files, f)
		changes = append(changes, FieldChange{Fields: c.Fields, Migration: GeneratedFile{Path: f.Path, SHA256: digest(f.Body)}})
	}
	var renames []FieldRename
	for _, rn := range r.FieldRenames {
		from, err := ParseField(rn.Field)
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		mv, then := m.resourceAt(r, migrationVersion(rn.Migration.Path))
		f, err := renameFieldMigration(tfs, mv, then, from, rn.To, rn.Migration.Path)
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		files = append(files, f)
		renames = append(renames, FieldRename{Field: rn.Field, To: rn.To, Migration: GeneratedFile{Path: f.Path, SHA256: digest(f.Body)}})
	}
	var resourceRenames []ResourceRename
	for _, rn := range r.ResourceRenames {
		f, err := recordedResourceRenameMigration(tfs, m, r, rn)
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		files = append(files, f)
		resourceRenames = append(resourceRenames, ResourceRename{Name: rn.Name, Plural: rn.Plural, Fields: rn.Fields, Migration: GeneratedFile{Path: f.Path, SHA256: digest(f.Body)}})
	}
	return files, create, changes, renames, resourceRenames, nil
}

// renameColumn is the Up part of a rename field migration: the column renamed (its values
// kept), and its index, which gorm names after the column, renamed with it. SQLite cannot
// rename an index: it is dropped and created again under the new name.
func (d sqlDialect) renameColumn(table string, f Field, to string) []string {
	g := f
	g.Name = to
	out := []string{fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s;", d.quote(table), d.quote(f.column()), d.quote(g.column()))}
	oldIndex, _ := index(table, f)
	if oldIndex == "" {
		return out
	}
	newIndex, _ := index(table, g)
	switch d {
	case DBPostgres:
		out = append(out, fmt.Sprintf("ALTER INDEX %s RENAME TO %s;", d.quote(oldIndex), d.quote(newIndex)))
	case DBMySQL:
		out = append(out, fmt.Sprintf("ALTER TABLE %s RENAME INDEX %s TO %s;", d.quote(table), d.quote(oldIndex), d.quote(newIndex)))
	default:
		out = append(out, d.dropIndex(table, f), d.createIndex(table, g))
	}
	return out
}

// renameFieldMigration renders the migration that renames the column of field from (as it
// was) of res's table to the field name to, as p; its down renames it back.
func renameFieldMigration(tfs fs.FS, m Manifest, res Resource, from Field, to, p string) (File, error) {
	d := sqlDialect(m.DB)
	back := from
	back.Name = to
	return renderMigration(tfs, "rename_field", p, MigrationData{
		Command: "gingen rename field " + res.Name + " " + from.Name + " " + to,
		Undo:    "gingen rename field " + res.Name + " " + to + " " + from.Name,
		Table:   res.Plural,
		Model:   Camel(res.Name),
		Fields:  []string{from.Name, to},
		Up:      d.renameColumn(res.Plural, from, to),
		Down:    d.renameColumn(res.Plural, back, from.Name),
	})
}

// newestRecordedMigration returns the newest version among the migrations the project's
// templates render (files) and those gingen.yaml records for its resources.
func newestRecordedMigration(m Manifest, files map[string]File) int64 {
	var newest int64
	for p := range files {
		if path.Dir(p) == MigrationsDir {
			newest = max(newest, migrationVersion(p))
		}
	}
	for _, r := range m.Resources {
		if r.Migration != "" {
			newest = max(newest, migrationVersion(r.Migration))
		}
		if r.VersionMigration != "" {
			newest = max(newest, migrationVersion(r.VersionMigration))
		}
		for _, c := range r.FieldChanges {
			newest = max(newest, migrationVersion(c.Migration.Path))
		}
		for _, rn := range r.FieldRenames {
			newest = max(newest, migrationVersion(rn.Migration.Path))
		}
		for _, rn := range r.ResourceRenames {
			newest = max(newest, migrationVersion(rn.Migration.Path))
		}
	}
	return newest
}

// numberProjectMigrations gives each migration of the project templates that has no version
// in its name (db/migrations/NAME.sql: a change to a table of the templates, such as the
// users table, made after projects with resources exist) the path gingen.yaml records for
// it, or else the next free version: after every migration rendered, recorded or, in an
// upgrade, on disk (Manifest.MigrationsOnDisk). A new project gets it right after its first
// migrations; an existing one from gingen upgrade, after its own, so that goose runs it once
// on every database, old or new. byPath is renamed in place.
func numberProjectMigrations(m Manifest, byPath map[string]File, resources []Resource) error {
	var unnumbered []string
	for p := range byPath {
		if path.Dir(p) == MigrationsDir && path.Ext(p) == ".sql" && !isMigrationFile(path.Base(p)) {
			unnumbered = append(unnumbered, p)
		}
	}
	if len(unnumbered) == 0 {
		return nil
	}
	slices.Sort(unnumbered)
	newest := max(newestRecordedMigration(Manifest{Resources: resources}, byPath), m.MigrationsOnDisk)
	for _, p := range unnumbered {
		name := strings.TrimSuffix(path.Base(p), ".sql")
		target := ""
		for _, f := range m.Files {
			if path.Dir(f.Path) == MigrationsDir && migrationVersion(f.Path) > 0 && strings.HasSuffix(path.Base(f.Path), "_"+name+".sql") &&
				strings.TrimLeft(strings.TrimSuffix(path.Base(f.Path), "_"+name+".sql"), "0123456789") == "" {
				target = f.Path
			}
		}
		if target == "" {
			newest++
			target = migrationPath(newest, name)
		}
		if _, taken := byPath[target]; taken {
			return inputErrorf("%s records the migration %s, which another migration of the project has too; remove it from %s", ManifestName, target, ManifestName)
		}
		f := byPath[p]
		delete(byPath, p)
		f.Path = target
		byPath[target] = f
	}
	return nil
}

// renameTable is the Up part of a rename resource migration: the table renamed from table to
// to, its rows kept, with what gingen named after it (the indexes of fields, idx_TABLE_COLUMN,
// and its own foreign keys, fk_TABLE_FIELD, as gorm names them), so that the schema is what
// a create migration under the new name makes. The foreign keys of the tables that reference
// it follow the table on every database: PostgreSQL keeps them by the table's identity,
// InnoDB (MySQL, MariaDB) rewrites their parent on RENAME TABLE, and SQLite 3.26 and later
// rewrites their REFERENCES clauses (always so with foreign_keys on, which projects set).
// fields are the table's fields with an index or a foreign key; targetTable names the table
// a references field points to (MySQL creates a renamed foreign key again).
func (d sqlDialect) renameTable(table, to string, fields []Field, targetTable func(Field) string) []string {
	out := []string{fmt.Sprintf("ALTER TABLE %s RENAME TO %s;", d.quote(table), d.quote(to))}
	if d == DBPostgres {
		// The names PostgreSQL gave the id's sequence (bigserial) and the primary key, after
		// the table: a table created later under the old name must find them free.
		out = append(out,
			fmt.Sprintf("ALTER SEQUENCE %s RENAME TO %s;", d.quote(table+"_id_seq"), d.quote(to+"_id_seq")),
			fmt.Sprintf("ALTER INDEX %s RENAME TO %s;", d.quote(table+"_pkey"), d.quote(to+"_pkey")))
	}
	var fks []Field
	for _, f := range fields {
		if f.Type == TypeReferences {
			fks = append(fks, f)
		}
		oldIndex, _ := index(table, f)
		if oldIndex == "" {
			continue
		}
		newIndex, _ := index(to, f)
		switch d {
		case DBPostgres:
			out = append(out, fmt.Sprintf("ALTER INDEX %s RENAME TO %s;", d.quote(oldIndex), d.quote(newIndex)))
		case DBMySQL:
			out = append(out, fmt.Sprintf("ALTER TABLE %s RENAME INDEX %s TO %s;", d.quote(to), d.quote(oldIndex), d.quote(newIndex)))
		default:
			// SQLite cannot rename an index: it goes, and comes back under the new name.
			out = append(out, fmt.Sprintf("DROP INDEX %s;", d.quote(oldIndex)), d.createIndex(to, f))
		}
	}
	if len(fks) == 0 {
		return out
	}
	switch d {
	case DBPostgres:
		for _, f := range fks {
			out = append(out, fmt.Sprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s;", d.quote(to), d.quote("fk_"+table+"_"+f.Name), d.quote("fk_"+to+"_"+f.Name)))
		}
	case DBMySQL:
		// MySQL renames no foreign key: it is dropped and added again under the new name,
		// on the column's index, which the rows already satisfy.
		for _, f := range fks {
			out = append(out,
				fmt.Sprintf("ALTER TABLE %s DROP FOREIGN KEY %s;", d.quote(to), d.quote("fk_"+table+"_"+f.Name)),
				fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s(%s);", d.quote(to), d.quote("fk_"+to+"_"+f.Name), d.quote(f.column()), d.quote(targetTable(f)), d.quote("id")))
		}
	default:
		// A constraint's name is only text in the table's CREATE statement, which SQLite
		// keeps in sqlite_master and never rewrites for a rename; a rebuild of the table
		// would copy every row and lose the columns gingen does not know. The documented
		// way (sqlite.org/lang_altertable.html, "other kinds of table schema changes") edits
		// that text, here only the names, and RESET reloads the schema.
		out = append(out, "PRAGMA writable_schema = ON;")
		for _, f := range fks {
			out = append(out, fmt.Sprintf("UPDATE sqlite_master SET sql = replace(sql, 'CONSTRAINT %s ', 'CONSTRAINT %s ') WHERE type = 'table' AND name = '%s';",
				d.quote("fk_"+table+"_"+f.Name), d.quote("fk_"+to+"_"+f.Name), to))
		}
		out = append(out, "PRAGMA writable_schema = RESET;")
	}
	return out
}

// renameCommand is the command line that renames resource from (plural fromPlural) to to
// (plural toPlural): --plural only when to's plural is not the one gingen derives.
func renameCommand(from, to, toPlural string) string {
	s := "gingen rename resource " + from + " " + to
	if toPlural != Plural(to) {
		s += " --plural " + toPlural
	}
	return s
}

// renameResourceMigration renders the migration that renames the table of resource before
// (its name, plural and the fields with an index or a foreign key, as they are before the
// rename) to the table of name and plural, as p; its down renames everything back. m is the
// manifest of the time, for the tables the foreign keys point to.
func renameResourceMigration(tfs fs.FS, m Manifest, before Resource, name, plural, p string) (File, error) {
	d := sqlDialect(m.DB)
	target := func(f Field) string {
		t, _ := m.refTarget(f)
		return t.Plural
	}
	up := d.renameTable(before.Plural, plural, before.Fields, target)
	down := d.renameTable(plural, before.Plural, before.Fields, target)
	if before.Events {
		// The resource's outbox events follow it: its stream under the new name replays
		// them, and a client resumes with the ids it has.
		up = append(up, d.renameOutboxResource(before.Plural, plural))
		down = append(down, d.renameOutboxResource(plural, before.Plural))
	}
	return renderMigration(tfs, "rename_resource", p, MigrationData{
		Command: renameCommand(before.Name, name, plural),
		Undo:    renameCommand(name, before.Name, before.Plural),
		Table:   before.Plural,
		Model:   Camel(before.Name),
		Fields:  []string{plural, Camel(name)},
		Up:      up,
		Down:    down,
	})
}

// renameOutboxResource moves the outbox events of the resource with plural from to the
// plural to (plurals are identifiers: nothing to escape).
func (d sqlDialect) renameOutboxResource(from, to string) string {
	return fmt.Sprintf("UPDATE %s SET %s = '%s' WHERE %s = '%s';", d.quote(OutboxTable), d.quote("resource"), to, d.quote("resource"), from)
}

// renamedFields are the fields of a table a rename resource migration renames something of:
// those with an index or a foreign key named after the table.
func renamedFields(fields []Field) []Field {
	var out []Field
	for _, f := range fields {
		if name, _ := index("t", f); name != "" || f.Type == TypeReferences {
			out = append(out, f)
		}
	}
	return out
}

// recordedResourceRenameMigration renders again the migration of rn, a rename of r (recorded
// in m under its name of today), as it was written: with the names of then.
func recordedResourceRenameMigration(tfs fs.FS, m Manifest, r Resource, rn ResourceRename) (File, error) {
	v := migrationVersion(rn.Migration.Path)
	mv, after := m.resourceAt(r, v)
	before := Resource{Name: rn.Name, Plural: rn.Plural, Events: r.Events}
	for _, spec := range rn.Fields {
		f, err := ParseField(spec)
		if err != nil {
			return File{}, fmt.Errorf("%s: resource %s: %w", ManifestName, r.Name, err)
		}
		before.Fields = append(before.Fields, f)
	}
	return renameResourceMigration(tfs, mv, before, after.Name, after.Plural, rn.Migration.Path)
}
