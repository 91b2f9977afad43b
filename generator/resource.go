package generator

import (
	"fmt"
	"slices"
	"strings"
)

// Field types `add resource` accepts.
const (
	TypeString     = "string"     // a short string, at most 255 characters
	TypeText       = "text"       // a string of any length
	TypeInt        = "int"        // int
	TypeInt64      = "int64"      // int64
	TypeUint       = "uint"       // uint
	TypeFloat      = "float"      // float64
	TypeBool       = "bool"       // bool
	TypeTime       = "time"       // time.Time, RFC 3339 in JSON
	TypeReferences = "references" // a foreign key to another resource, named after it
)

// FieldTypes lists the field types in the order help texts show them.
func FieldTypes() []string {
	return []string{TypeString, TypeText, TypeInt, TypeInt64, TypeUint, TypeFloat, TypeBool, TypeTime, TypeReferences}
}

// Field modifiers, the optional third part of a field spec.
const (
	ModUnique   = "unique"   // a unique index: a taken value is answered 409
	ModIndex    = "index"    // a plain index
	ModRequired = "required" // the request must set the field (default for string, text, references)
	ModOptional = "optional" // the request may leave the field out (default for the other types)
	ModSearch   = "search"   // lists search the field with ?q= (string and text fields)
	// ModOwner marks the references field to the users table of --auth jwt that owns a row:
	// create sets it from the token, and every route sees only the caller's rows.
	ModOwner = "owner"
)

// FieldModifiers lists the modifiers.
func FieldModifiers() []string {
	return []string{ModUnique, ModIndex, ModRequired, ModOptional, ModSearch, ModOwner}
}

// maxStringLen is the length limit of string fields, in characters: the column's size and
// the request's validation.
const maxStringLen = 255

// Field is one field of a resource: what `add resource` reads as name:type[:modifier...] and
// gingen.yaml records.
type Field struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Target is the resource a references field points to when it is not the field's name:
	// author:references:user points to the users table of --auth jwt.
	Target    string   `yaml:"target,omitempty"`
	Modifiers []string `yaml:"modifiers,omitempty"`
}

// String returns the field as it is written on the command line.
func (f Field) String() string {
	parts := []string{f.Name, f.Type}
	if f.Target != "" {
		parts = append(parts, f.Target)
	}
	return strings.Join(append(parts, f.Modifiers...), ":")
}

// RefTarget is the name of the resource a references field points to: its Target, or else
// its name (article:references points to article).
func (f Field) RefTarget() string {
	if f.Target != "" {
		return f.Target
	}
	return f.Name
}

// usersTarget is the target name of the users table that --auth jwt creates.
const usersTarget = "user"

// reservedFieldNames are the query parameters of lists, which a field's filter would shadow.
func reservedFieldNames() []string { return []string{"page", "page_size", "sort", "include", "q"} }

// Has reports whether the field carries the modifier.
func (f Field) Has(mod string) bool { return slices.Contains(f.Modifiers, mod) }

// owner reports whether the field is the owner of its rows (the owner modifier).
func (f Field) owner() bool { return f.Has(ModOwner) }

// Required reports whether requests must set the field: strings and references must, unless
// marked optional; other types need not, unless marked required.
func (f Field) Required() bool {
	switch {
	case f.Has(ModRequired):
		return true
	case f.Has(ModOptional):
		return false
	}
	return f.Type == TypeString || f.Type == TypeText || f.Type == TypeReferences
}

// generatedColumns are the columns every resource has.
func generatedColumns() []string { return []string{"id", "created_at", "updated_at"} }

const fieldSpecHelp = "write fields as name:type[:modifier], e.g. title:string or name:string:unique"

// ParseField reads one field spec, name:type[:modifier...].
func ParseField(spec string) (Field, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return Field{}, inputErrorf("malformed field %q: %s; types: %s", spec, fieldSpecHelp, strings.Join(FieldTypes(), ", "))
	}
	f := Field{Name: parts[0], Type: parts[1]}
	if !IsSnake(f.Name) {
		return Field{}, inputErrorf("invalid field name %q in %q: use snake_case (lower-case letters and digits, words joined by '_', each starting with a letter), e.g. %s", f.Name, spec, snakeSuggestion(f.Name, "title"))
	}
	if slices.Contains(generatedColumns(), f.Name) {
		return Field{}, inputErrorf("field %q in %q is generated for every resource (%s); remove it from the command", f.Name, spec, strings.Join(generatedColumns(), ", "))
	}
	if Camel(f.Name) == "TableName" {
		return Field{}, inputErrorf("field %q in %q would clash with the model's TableName method; rename the field", f.Name, spec)
	}
	if !slices.Contains(FieldTypes(), f.Type) {
		return Field{}, inputErrorf("unknown field type %q in %q; use one of %s", f.Type, spec, strings.Join(FieldTypes(), ", "))
	}
	if slices.Contains(reservedFieldNames(), f.Name) {
		return Field{}, inputErrorf("field %q in %q is a query parameter of every list (%s); rename the field", f.Name, spec, strings.Join(reservedFieldNames(), ", "))
	}
	rest := parts[2:]
	if f.Type == TypeReferences && len(rest) > 0 && !slices.Contains(FieldModifiers(), rest[0]) {
		if !IsSnake(rest[0]) {
			return Field{}, inputErrorf("invalid target %q in %q: name the referenced resource in snake_case, e.g. author:references:user", rest[0], spec)
		}
		if rest[0] != f.Name {
			f.Target = rest[0]
		}
		rest = rest[1:]
	}
	for _, m := range rest {
		switch {
		case !slices.Contains(FieldModifiers(), m):
			return Field{}, inputErrorf("unknown modifier %q in %q; use one of %s", m, spec, strings.Join(FieldModifiers(), ", "))
		case f.Has(m):
			return Field{}, inputErrorf("modifier %q is given twice in %q; give it once", m, spec)
		}
		f.Modifiers = append(f.Modifiers, m)
	}
	switch {
	case f.Has(ModRequired) && f.Has(ModOptional):
		return Field{}, inputErrorf("field %q cannot be both required and optional; keep one of the two modifiers", spec)
	case f.Has(ModUnique) && f.Has(ModIndex):
		return Field{}, inputErrorf("field %q: unique already creates an index; drop the index modifier", spec)
	case f.Type == TypeBool && f.Has(ModUnique):
		return Field{}, inputErrorf("field %q: a unique bool allows only two rows in the whole table; drop the unique modifier", spec)
	case f.Type == TypeReferences && f.Has(ModOptional):
		return Field{}, inputErrorf("field %q: references fields are always required (the foreign key is NOT NULL); drop the optional modifier", spec)
	case f.Has(ModSearch) && f.Type != TypeString && f.Type != TypeText:
		return Field{}, inputErrorf("field %q: only string and text fields can be searched; drop the search modifier, or filter the field by its value", spec)
	case f.Has(ModOwner) && (f.Type != TypeReferences || f.RefTarget() != usersTarget):
		return Field{}, inputErrorf("field %q: only a reference to the users table can be the owner; write it as %s:references:%s:owner", spec, f.Name, usersTarget)
	}
	return f, nil
}

// snakeSuggestion proposes the snake_case spelling of a bad name, or an example.
func snakeSuggestion(bad, example string) string {
	if s := ToSnake(bad); IsSnake(s) {
		return s
	}
	return example
}

// ranged reports whether lists filter the field by ranges (views_gte): numbers and times.
func (f Field) ranged() bool {
	switch f.Type {
	case TypeInt, TypeInt64, TypeUint, TypeFloat, TypeTime:
		return true
	}
	return false
}

// rangeSuffixes are the suffixes of range filters: views_gt, views_gte, views_lt, views_lte.
func rangeSuffixes() []string { return []string{"_gt", "_gte", "_lt", "_lte"} }

// column is the name of the field's column and JSON key: a references field "article" is
// stored as article_id.
func (f Field) column() string {
	if f.Type == TypeReferences {
		return f.Name + "_id"
	}
	return f.Name
}

// ResourceOptions describe a resource to add.
type ResourceOptions struct {
	// Name is the singular, snake_case name: article, blog_post.
	Name string
	// Plural overrides the plural the inflection library derives from Name.
	Plural string
	// Fields are the field specs, name:type[:modifier...].
	Fields []string
	// Events: every create, update and delete of the resource writes an event to the
	// project's outbox table in its transaction, served live at /api/v1/PLURAL/events
	// (server-sent events) and /api/v1/PLURAL/events/ws (a websocket).
	Events bool
	// Force: the template's text wins over an edited file whose merge with the change
	// conflicts (a registration file edited beside its marker), the user's text kept as
	// FILE.gingen-old (see reconcile).
	Force bool
}

// resolve validates the options against the project's manifest and returns the resource to
// record. Every problem is a one-line InputError naming the fix.
func (o ResourceOptions) resolve(m Manifest) (Resource, error) {
	name := strings.TrimSpace(o.Name)
	if err := validateResourceName(name, o.Plural != ""); err != nil {
		return Resource{}, err
	}
	plural := strings.TrimSpace(o.Plural)
	if plural == "" {
		plural = Plural(name)
	} else if !IsSnake(plural) {
		return Resource{}, inputErrorf("invalid --plural %q: use snake_case like the resource name, e.g. %s", plural, snakeSuggestion(plural, Plural(name)))
	}
	if slices.Contains(apiRoutes(m.Auth), plural) {
		suggestion := Plural(name)
		if suggestion == plural {
			suggestion = name + "_items"
		}
		return Resource{}, inputErrorf("resource %q: its routes /api/v1/%s would clash with GET /api/v1/%s, which the project's %s auth serves; pick another name or --plural, e.g. --plural %s", name, plural, plural, m.Auth, suggestion)
	}
	if Camel(plural) == Camel(name) && plural != name {
		return Resource{}, inputErrorf("plural %q and name %q spell the same Go name; pick a plural that differs in letters", plural, name)
	}
	for _, r := range m.Resources {
		switch {
		case r.Name == name:
			return Resource{}, inputErrorf("resource %q already exists (see %s); destroy it first with: gingen destroy resource %s", name, ManifestName, name)
		case r.Plural == plural || r.Name == plural || r.Plural == name:
			return Resource{}, inputErrorf("resource %q (plural %q) would share routes or names with resource %q (plural %q); pick another name or --plural", name, plural, r.Name, r.Plural)
		}
	}
	if plural == OutboxTable && (o.Events || m.HasEvents() || m.KeepsOutbox()) {
		return Resource{}, inputErrorf("resource %q would use the table %s, which holds the project's resource events; pick another name or --plural", name, OutboxTable)
	}
	if o.Events && slices.ContainsFunc(m.Resources, func(r Resource) bool { return r.Plural == OutboxTable }) {
		return Resource{}, inputErrorf("--events needs the table %s, which a resource of the project uses; rename that resource first (gingen rename resource)", OutboxTable)
	}
	res := Resource{Name: name, Plural: plural, Events: o.Events}
	columns := map[string]string{} // column or Go name -> the field spec that uses it
	for _, c := range generatedColumns() {
		columns[c] = "the generated " + c
		columns[Camel(c)] = "the generated " + c
		for _, op := range rangeSuffixes() {
			columns[c+op] = "the filter " + c + op
		}
	}
	for _, spec := range o.Fields {
		f, err := ParseField(strings.TrimSpace(spec))
		if err != nil {
			return Resource{}, err
		}
		if f.owner() {
			if err := checkOwner(m, res, f); err != nil {
				return Resource{}, err
			}
			if o.Events {
				return Resource{}, inputErrorf("field %q: the events of a resource with an owner would show every user's %s to every subscriber; drop --events or the owner modifier", f, plural)
			}
		}
		if m.DB == DBMySQL && f.Type == TypeText && (f.Has(ModUnique) || f.Has(ModIndex)) {
			return Resource{}, inputErrorf("field %q: MySQL cannot index a text column (no length limit); use string, at most %d characters, for a unique or indexed field", f, maxStringLen)
		}
		if f.Type == TypeReferences {
			target := f.RefTarget()
			if target == name {
				return Resource{}, inputErrorf("field %q: a resource cannot reference itself; remove the field", f)
			}
			_, ok := m.resource(target)
			switch {
			case ok:
			case target == usersTarget && m.Auth == AuthJWT:
				// The users table of --auth jwt.
			case target == usersTarget:
				return Resource{}, inputErrorf("field %q references the users table, which only projects made with --auth jwt have; reference a resource instead", f)
			default:
				return Resource{}, inputErrorf("field %q references resource %q, which %s does not record; add it first: gingen add resource %s ...", f, target, ManifestName, target)
			}
		}
		// A field takes its column (and JSON key) and its Go name; a references field also
		// takes the relation's Go name.
		taken := []string{f.column(), Camel(f.column())}
		if f.Type == TypeReferences {
			taken = append(taken, Camel(f.Name))
		}
		// A range filter (views_gte) must not be another field's name.
		if f.ranged() {
			for _, op := range rangeSuffixes() {
				taken = append(taken, f.column()+op)
			}
		}
		for _, n := range taken {
			if other, dup := columns[n]; dup {
				return Resource{}, inputErrorf("field %q clashes with %s (both use %q); rename one of them", f, other, n)
			}
			columns[n] = fmt.Sprintf("field %q", f)
		}
		res.Fields = append(res.Fields, f)
	}
	if err := checkIdentifiers(res); err != nil {
		return Resource{}, err
	}
	return res, nil
}

// checkOwner checks an owner field against the project and the fields of res before it:
// owners exist only where tokens name users, and a row has one owner.
func checkOwner(m Manifest, res Resource, f Field) error {
	if m.Auth != AuthJWT {
		return inputErrorf("field %q: only projects made with --auth jwt have users to own rows; drop the owner modifier", f)
	}
	for _, prev := range res.Fields {
		if prev.owner() {
			return inputErrorf("field %q: resource %s already has the owner field %s; a row has one owner, drop one owner modifier", f, res.Name, prev.Name)
		}
	}
	return nil
}

// validateResourceName checks a resource name: it becomes a Go type, file names, a table and
// a route.
func validateResourceName(name string, pluralGiven bool) error {
	switch {
	case name == "":
		return inputErrorf("resource name is empty; give a singular snake_case name, e.g. gingen add resource article title:string")
	case !IsSnake(name):
		return inputErrorf("invalid resource name %q: use a singular snake_case name (lower-case letters and digits, words joined by '_', each starting with a letter), e.g. %s", name, snakeSuggestion(name, "article"))
	case len(name) > 64:
		return inputErrorf("resource name %q is longer than 64 characters; pick a shorter name", name)
	}
	if s := Singular(name); s != name && Plural(s) == name && !pluralGiven {
		return inputErrorf("resource name %q looks plural; name the resource in the singular (gingen add resource %s ...), or, if %q is the singular you mean, pass --plural", name, s, name)
	}
	return checkFileName(name, "resource name")
}

// checkFileName rejects names that would make a Go file special: NAME_test.go is a test, and
// NAME_linux.go or NAME_arm64.go build only on that system.
func checkFileName(name, what string) error {
	words := strings.Split(name, "_")
	if len(words) > 1 && words[len(words)-1] == "test" {
		return inputErrorf("%s %q ends in _test, which makes %s.go a test file; pick another name", what, name, name)
	}
	if systemSuffix(name) {
		return inputErrorf("%s %q ends in a system name, which makes %s.go build only on that system; pick another name", what, name, name)
	}
	return nil
}

// The operating systems and architectures go/build reads in a file name (Go 1.26's
// internal/syslist): a suffix _GOOS, _GOARCH or _GOOS_GOARCH restricts the file to them.
// TestSystemSuffixIsGoBuilds keeps them so against go/build and go tool dist list. Not
// go/build itself: its package initialization (internal/platform, internal/buildcfg) took
// about 1 ms of every gingen command's start, for this one check.
const (
	knownOS   = "aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris wasip1 windows zos"
	knownArch = "386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm"
)

// systemSuffix reports whether NAME.go builds only on some systems, as go/build reads a file
// name: the last word after the first '_' (a trailing _test aside) is a GOOS or a GOARCH.
func systemSuffix(name string) bool {
	_, rest, ok := strings.Cut(name, "_")
	if !ok {
		return false
	}
	words := strings.Split(rest, "_")
	if n := len(words); n > 1 && words[n-1] == "test" {
		words = words[:n-1]
	}
	last := words[len(words)-1]
	return slices.Contains(strings.Fields(knownOS), last) || slices.Contains(strings.Fields(knownArch), last)
}
