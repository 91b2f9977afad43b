package generator

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/module"
)

// validate checks a manifest read from disk (m, decoded from b), key by key, with the rules
// gingen new and gingen add resource applied when they wrote it: a hand-edited or damaged
// gingen.yaml is refused with one line naming the key, the problem and the fix, before a
// command acts on it. Unknown keys (a misspelt one would be ignored) are refused, and paths
// must name files inside the project.
func (m Manifest) validate(b []byte) error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%s: key %s: %s", ManifestName, key, fmt.Sprintf(format, args...))
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(new(Manifest)); err != nil && !errors.Is(err, io.EOF) {
		return yamlError(err)
	}
	if err := ValidateName(m.Name); err != nil {
		return bad("name", "%v; set it to the project's name (its folder and binary)", err)
	}
	if err := module.CheckImportPath(m.Module); err != nil {
		return bad("module", "invalid module path %q (%s); set it to the module line of go.mod", m.Module, moduleReason(err))
	}
	if problem := moduleProblem(m.Module); problem != "" {
		return bad("module", "module path %q %s; set it to the module line of go.mod", m.Module, problem)
	}
	for _, e := range m.Ejected {
		if e != EjectRestart {
			return bad("ejected", "%q is not a library gingen ejects; the only one is %s", e, EjectRestart)
		}
	}
	if !slices.Contains(Strategies(), m.Strategy) {
		return bad("strategy", "%q is not a restart strategy; set it to the one the project was generated with: %s", m.Strategy, strings.Join(Strategies(), ", "))
	}
	if !slices.Contains(Databases(), m.DB) {
		return bad("db", "%q is not a database; set it to the one the project was generated with: %s", m.DB, strings.Join(Databases(), ", "))
	}
	if m.Auth != "" && !slices.Contains(Auths(), m.Auth) {
		return bad("auth", "%q is not an auth scheme; set it to %s, or remove the key for none", m.Auth, AuthJWT)
	}
	if m.Port < 1 || m.Port > 65535 {
		return bad("port", "%d is out of range; set it to the port in conf/app.ini, from 1 to 65535", m.Port)
	}
	if strings.ContainsRune(m.Templates, 0) {
		return bad("templates", "the folder name holds a NUL byte; set it to a templates folder, or remove the key")
	}
	for i, r := range m.Resources {
		key := fmt.Sprintf("resources[%d]", i)
		if err := validateResourceName(r.Name, true); err != nil {
			return bad(key+".name", "%v; restore the name gingen add resource recorded", err)
		}
		if !IsSnake(r.Plural) {
			return bad(key+".plural", "%q is not a snake_case plural; restore the plural gingen add resource recorded, e.g. %s", r.Plural, Plural(r.Name))
		}
		// Checked against the resources before it, as add resource checked it; the limits
		// later versions of gingen added for new resources are not applied to recorded ones.
		for _, prev := range m.Resources[:i] {
			if prev.Name == r.Name || prev.Plural == r.Plural {
				return bad(key, "resource %q (plural %q) is recorded twice; remove the duplicate entry", r.Name, r.Plural)
			}
		}
		for j, f := range r.Fields {
			k := fmt.Sprintf("%s.fields[%d]", key, j)
			if _, err := ParseField(f.String()); err != nil {
				return bad(k, "%v", err)
			}
			if f.owner() {
				if err := checkOwner(m, Resource{Name: r.Name, Fields: r.Fields[:j]}, f); err != nil {
					return bad(k, "%v", err)
				}
				if r.Events {
					return bad(key+".events", "resource %q has an owner (field %s) and events, which would show every user's %s to every subscriber; remove events: true", r.Name, f.Name, r.Plural)
				}
			}
			target := f.RefTarget()
			if f.Type == TypeReferences && (target != usersTarget || m.Auth != AuthJWT) && !slices.ContainsFunc(m.Resources[:i], func(prev Resource) bool { return prev.Name == target }) {
				return bad(k, "field %q references resource %q, which is not recorded before it; restore the resource's entry above this one", f, target)
			}
		}
		for j, g := range r.Files {
			if err := checkRecordedPath(g.Path); err != nil {
				return bad(fmt.Sprintf("%s.files[%d].path", key, j), "%v", err)
			}
			if b, err := hex.DecodeString(g.SHA256); err != nil || len(b) != 32 {
				return bad(fmt.Sprintf("%s.files[%d].sha256", key, j), "%q is not a SHA-256 in hex; restore the value gingen add resource recorded", g.SHA256)
			}
		}
		if r.Migration != "" {
			if err := checkRecordedPath(r.Migration); err != nil {
				return bad(key+".migration", "%v", err)
			}
		}
		if r.VersionMigration != "" {
			if err := checkRecordedPath(r.VersionMigration); err != nil {
				return bad(key+".version_migration", "%v", err)
			}
			if r.Versioned {
				return bad(key+".version_migration", "resource %s is versioned by its create migration already; remove version_migration or versioned", r.Name)
			}
		}
		for j, c := range r.FieldChanges {
			k := fmt.Sprintf("%s.field_changes[%d]", key, j)
			if err := checkRecordedPath(c.Migration.Path); err != nil {
				return bad(k+".migration.path", "%v", err)
			}
			if b, err := hex.DecodeString(c.Migration.SHA256); err != nil || len(b) != 32 {
				return bad(k+".migration.sha256", "%q is not a SHA-256 in hex; restore the value gingen add field recorded", c.Migration.SHA256)
			}
			for _, n := range c.Fields {
				if !slices.ContainsFunc(r.Fields, func(f Field) bool { return f.Name == n }) {
					return bad(k+".fields", "%q is not a field of resource %s; restore the names gingen add field recorded", n, r.Name)
				}
			}
		}
		for j, rn := range r.FieldRenames {
			k := fmt.Sprintf("%s.field_renames[%d]", key, j)
			if err := checkRecordedPath(rn.Migration.Path); err != nil {
				return bad(k+".migration.path", "%v", err)
			}
			if b, err := hex.DecodeString(rn.Migration.SHA256); err != nil || len(b) != 32 {
				return bad(k+".migration.sha256", "%q is not a SHA-256 in hex; restore the value gingen rename field recorded", rn.Migration.SHA256)
			}
			if _, err := ParseField(rn.Field); err != nil {
				return bad(k+".field", "%v; restore the field gingen rename field recorded", err)
			}
			if !IsSnake(rn.To) {
				return bad(k+".to", "%q is not a snake_case field name; restore the name gingen rename field recorded", rn.To)
			}
		}
		for j, rn := range r.ResourceRenames {
			k := fmt.Sprintf("%s.resource_renames[%d]", key, j)
			if err := checkRecordedPath(rn.Migration.Path); err != nil {
				return bad(k+".migration.path", "%v", err)
			}
			if b, err := hex.DecodeString(rn.Migration.SHA256); err != nil || len(b) != 32 {
				return bad(k+".migration.sha256", "%q is not a SHA-256 in hex; restore the value gingen rename resource recorded", rn.Migration.SHA256)
			}
			if err := validateResourceName(rn.Name, true); err != nil {
				return bad(k+".name", "%v; restore the name gingen rename resource recorded", err)
			}
			if !IsSnake(rn.Plural) {
				return bad(k+".plural", "%q is not a snake_case plural; restore the plural gingen rename resource recorded", rn.Plural)
			}
			for n, spec := range rn.Fields {
				if _, err := ParseField(spec); err != nil {
					return bad(fmt.Sprintf("%s.fields[%d]", k, n), "%v; restore the field gingen rename resource recorded", err)
				}
			}
		}
		for j, ins := range r.Inserts {
			k := fmt.Sprintf("%s.inserts[%d]", key, j)
			if err := checkRecordedPath(ins.Path); err != nil {
				return bad(k+".path", "%v", err)
			}
			if ins.Marker != MarkerModels && ins.Marker != MarkerRoutes {
				return bad(k+".marker", "%q is not a gingen marker; set it to %s or %s", ins.Marker, MarkerModels, MarkerRoutes)
			}
			if strings.TrimSpace(ins.Line) == "" || strings.ContainsAny(ins.Line, "\r\n") {
				return bad(k+".line", "%q is not one line of code; restore the line gingen add resource inserted", ins.Line)
			}
		}
	}
	return nil
}

// yamlError is a decoding error of gingen.yaml on one line: yaml lists its problems one a
// line, which become "; "-separated, with unknown keys named as such.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %s", ManifestName, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	// How yaml reports a key the type lacks; compiled here, on this error's path only, not
	// at every start of gingen.
	unknownFieldRE := regexp.MustCompile(`^(line \d+): field (\S+) not found in type \S+$`)
	problems := make([]string, len(te.Errors))
	for i, p := range te.Errors {
		if m := unknownFieldRE.FindStringSubmatch(p); m != nil {
			p = fmt.Sprintf("%s: unknown key %s; remove it or fix its spelling", m[1], m[2])
		}
		problems[i] = p
	}
	return fmt.Errorf("%s: %s", ManifestName, strings.Join(problems, "; "))
}

// checkRecordedPath refuses a recorded path that does not name a file inside the project:
// absolute, with "..", backslashes or empty elements, or the manifest itself.
func checkRecordedPath(p string) error {
	switch {
	case !fs.ValidPath(p) || p == "." || strings.Contains(p, `\`) || !filepath.IsLocal(filepath.FromSlash(p)):
		return fmt.Errorf("%q is not a slash-separated path inside the project; restore the path gingen add resource recorded", p)
	case p == ManifestName:
		return fmt.Errorf("%q is the manifest itself; restore the path gingen add resource recorded", p)
	}
	return nil
}
