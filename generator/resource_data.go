package generator

import (
	"fmt"
	"slices"
	"strings"
)

// resourceTemplates is the template tree of a resource, laid over a project.
const resourceTemplates = "resource"

// ResourceData is what the resource templates see. Everything a template prints is computed
// here; templates only print, branch and loop.
type ResourceData struct {
	Module       string
	Name         string // singular snake_case: blog_post
	Plural       string // blog_posts
	Camel        string // BlogPost: the model type
	CamelPlural  string // BlogPosts: in RegisterBlogPosts
	Lower        string // blogPost: prefix of the handler's unexported names
	Human        string // "blog post", for messages
	Command      string // the add command that generated the files
	MaxStringLen int
	Fields       []FieldData
	Unique       []FieldData // fields with a unique index
	References   []FieldData // foreign keys
	Required     []FieldData // fields a request must set
	Strings      []FieldData // length-limited string fields
	RequestTime  bool        // the request struct has a time field
	// Nested are the references to API resources: each gets a nested list route,
	// /api/v1/<target plural>/:id/<plural>.
	Nested []FieldData
	// Filters are the fields lists filter by (every field but text ones).
	Filters []FieldData
	// Nullable are the filters whose column may hold NULL (optional times): ?field=null.
	Nullable []FieldData
	// Search are the fields ?q searches (the search modifier).
	Search []FieldData
	// Pair are the first two fields, which the test of concurrent PATCHes writes one each;
	// fewer for a resource with fewer fields.
	Pair []FieldData
	// Owner is the field that owns the rows (the owner modifier), or nil. It is in none of
	// the lists above: clients neither send nor filter it; the token's user is its value.
	Owner *FieldData
	// OwnedRefs are the references to resources whose rows have an owner: a write must name
	// a row of the caller's, or a client could hang its rows under (and ?include) another
	// user's.
	OwnedRefs []FieldData
	// Events: the resource's writes record outbox events, served at PLURAL/events.
	Events bool
	// Time is the first time field, which the time zone test filters and sorts by; nil for a
	// resource without one.
	Time *FieldData
}

// FieldData is one column of a resource as the templates see it.
type FieldData struct {
	Spec      string // as given: title:string:unique
	Name      string // column and JSON key: title, article_id
	GoName    string // Title, ArticleID
	Type      string
	ModelType string // the model field's type
	GormTag   string
	ReqType   string // the request field's type
	Validate  string // the request field's validate tag
	Deref     bool   // the request field is a pointer to the model's type
	Nullable  bool   // JSON null is a value of the field (an optional time): NULL
	Ref       *RefData
	// Filter is the kind of the field's list filter, a Go constant of the generated
	// routers/api/v1/query.go (filterInt...), or "" for a field lists do not filter by (text).
	Filter string
	// Ranged: lists filter the field by ranges too (views_gte): numbers and times.
	Ranged bool
	// Go expressions for the tests, where t (*testing.T), db (*gorm.DB) and n (int) are in
	// scope: a valid model value, a valid JSON value and a JSON value of the wrong type.
	SampleGo   string
	SampleJSON string
	WrongJSON  string
	// src is the field as gingen.yaml records it.
	src Field
}

// RefData describes the resource a references field points to.
type RefData struct {
	Name   string // article, user: the target resource
	Camel  string // Article, User: the target's model type
	Lower  string
	Human  string
	Plural string
	// Relation is the model's field holding the loaded record (Article, Author for
	// author:references:user), and Include its JSON key and ?include name (article, author).
	Relation string
	Include  string
	// Routed: the target is a resource of the API (not the users table), with routes under
	// /api/v1/<Plural> and a createTest<Camel> test helper.
	Routed bool
	// Owner is the column of the target's owner field, or "" when its rows have no owner:
	// a route under one of its rows sees only the caller's.
	Owner string
}

func newResourceData(m Manifest, r Resource) ResourceData {
	d := ResourceData{
		Module:       m.Module,
		Name:         r.Name,
		Plural:       r.Plural,
		Camel:        Camel(r.Name),
		CamelPlural:  Camel(r.Plural),
		Lower:        LowerCamel(r.Name),
		Human:        Human(r.Name),
		Command:      addCommand(r),
		MaxStringLen: maxStringLen,
		Events:       r.Events,
	}
	for _, f := range r.Fields {
		fd := newFieldData(m, f)
		if f.owner() {
			d.Owner = &fd
			continue
		}
		d.Fields = append(d.Fields, fd)
		if f.Has(ModUnique) {
			d.Unique = append(d.Unique, fd)
		}
		if fd.Ref != nil {
			d.References = append(d.References, fd)
			if fd.Ref.Owner != "" {
				d.OwnedRefs = append(d.OwnedRefs, fd)
			}
		}
		if f.Required() {
			d.Required = append(d.Required, fd)
		}
		if f.Type == TypeString {
			d.Strings = append(d.Strings, fd)
		}
		if f.Type == TypeTime {
			d.RequestTime = true
			if d.Time == nil {
				d.Time = &fd
			}
		}
		if len(d.Pair) < 2 {
			d.Pair = append(d.Pair, fd)
		}
		// One nested route per target: a second reference to the same resource (source,
		// article) is filtered by its column instead (?source_id=5).
		if fd.Ref != nil && fd.Ref.Routed && !slices.ContainsFunc(d.Nested, func(n FieldData) bool { return n.Ref.Name == fd.Ref.Name }) {
			d.Nested = append(d.Nested, fd)
		}
		if fd.Filter != "" {
			d.Filters = append(d.Filters, fd)
			if strings.HasPrefix(fd.ModelType, "*") {
				d.Nullable = append(d.Nullable, fd)
			}
		}
		if f.Has(ModSearch) {
			d.Search = append(d.Search, fd)
		}
	}
	return d
}

// addCommand is the command line that adds r.
func addCommand(r Resource) string {
	parts := []string{"gingen add resource", r.Name}
	if r.Plural != Plural(r.Name) {
		parts = append(parts, "--plural", r.Plural)
	}
	for _, f := range r.Fields {
		parts = append(parts, f.String())
	}
	if r.Events {
		parts = append(parts, "--events")
	}
	return strings.Join(parts, " ")
}

func newFieldData(m Manifest, f Field) FieldData {
	fd := FieldData{Spec: f.String(), Name: f.column(), GoName: Camel(f.column()), Type: f.Type, src: f}
	required := f.Required()
	tag := []string{"column:" + fd.Name}
	var goType string
	str := fmt.Sprintf("fmt.Sprintf(%q, n)", Human(f.Name)+" %d")
	switch f.Type {
	case TypeString:
		goType, fd.SampleGo, fd.WrongJSON = "string", str, "12345"
		tag = append(tag, fmt.Sprintf("size:%d", maxStringLen), "not null")
		fd.Validate = fmt.Sprintf("max=%d", maxStringLen)
		if required {
			fd.Validate = "required,notblank," + fd.Validate
		}
	case TypeText:
		goType, fd.SampleGo, fd.WrongJSON = "string", str, "true"
		tag = append(tag, "type:text", "not null")
		if required {
			fd.Validate = "required,notblank"
		}
	case TypeInt:
		goType, fd.SampleGo, fd.WrongJSON = "int", "n", `"not a number"`
	case TypeInt64:
		goType, fd.SampleGo, fd.WrongJSON = "int64", "int64(n)", `"not a number"`
	case TypeUint:
		goType, fd.SampleGo, fd.WrongJSON = "uint", "uint(n)", "-1"
	case TypeFloat:
		goType, fd.SampleGo, fd.WrongJSON = "float64", "float64(n) + 0.5", `"not a number"`
	case TypeBool:
		goType, fd.SampleGo, fd.WrongJSON = "bool", "n%2 == 1", `"yes"`
	case TypeTime:
		goType, fd.SampleGo, fd.WrongJSON = "time.Time", "testTime(n)", `"yesterday"`
	case TypeReferences:
		target, routed := m.refTarget(f)
		fd.Ref = &RefData{Name: target.Name, Camel: Camel(target.Name), Lower: LowerCamel(target.Name), Human: Human(target.Name), Plural: target.Plural,
			Relation: Camel(f.Name), Include: f.Name, Routed: routed}
		for _, tf := range target.Fields {
			if tf.owner() {
				fd.Ref.Owner = tf.column()
			}
		}
		goType = "uint"
		fd.SampleGo = fmt.Sprintf("createTest%s(t, db, n).ID", fd.Ref.Camel)
		if f.owner() {
			// The tests' rows belong to the user the test API's requests come from.
			fd.SampleGo = "testOwner(t, db).ID"
		}
		fd.WrongJSON = `"first"`
		fd.Validate = "required"
	}
	fd.ModelType, fd.ReqType, fd.SampleJSON = goType, goType, fd.SampleGo
	switch f.Type {
	case TypeString, TypeText, TypeReferences:
		// A string's or an id's zero value fails "required" by itself.
	case TypeTime:
		if required {
			fd.Validate = "required"
			tag = append(tag, "not null")
		} else {
			// An optional time is NULL when unset rather than the year 1.
			fd.ModelType, fd.ReqType, fd.Nullable = "*time.Time", "*time.Time", true
			fd.SampleGo = "ptr(testTime(n))"
		}
	default:
		tag = append(tag, "not null")
		if required {
			// A pointer tells a field left out from one set to its zero value.
			fd.ReqType, fd.Deref, fd.Validate = "*"+goType, true, "required"
		}
	}
	if f.Type == TypeReferences {
		tag = append(tag, "not null")
	}
	switch {
	case f.Has(ModUnique):
		tag = append(tag, "uniqueIndex")
	case f.Has(ModIndex) || f.Type == TypeReferences:
		tag = append(tag, "index")
	}
	fd.GormTag = strings.Join(tag, ";")
	fd.Filter = map[string]string{
		TypeString: "filterString", TypeInt: "filterInt", TypeInt64: "filterInt", TypeUint: "filterUint",
		TypeFloat: "filterFloat", TypeBool: "filterBool", TypeTime: "filterTime", TypeReferences: "filterUint",
	}[f.Type]
	fd.Ranged = f.ranged()
	return fd
}

// refTarget is the resource a references field points to, and whether it is a recorded
// resource (with routes of its own); otherwise it is the users table of --auth jwt, which
// resolve accepts as the one unrecorded target.
func (m Manifest) refTarget(f Field) (Resource, bool) {
	if target, ok := m.resource(f.RefTarget()); ok {
		return target, true
	}
	return Resource{Name: usersTarget, Plural: Plural(usersTarget)}, false
}
