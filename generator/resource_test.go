package generator

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseFieldReadsNameTypeAndModifiers(t *testing.T) {
	for spec, want := range map[string]Field{
		"title:string":                         {Name: "title", Type: TypeString},
		"name:string:unique":                   {Name: "name", Type: TypeString, Modifiers: []string{ModUnique}},
		"views:int:required:index":             {Name: "views", Type: TypeInt, Modifiers: []string{ModRequired, ModIndex}},
		"article:references":                   {Name: "article", Type: TypeReferences},
		"type:string":                          {Name: "type", Type: TypeString},
		"published_at:time:optional":           {Name: "published_at", Type: TypeTime, Modifiers: []string{ModOptional}},
		"author:references:user":               {Name: "author", Type: TypeReferences, Target: "user"},
		"reply_to:references:article:required": {Name: "reply_to", Type: TypeReferences, Target: "article", Modifiers: []string{ModRequired}},
		"title:string:search":                  {Name: "title", Type: TypeString, Modifiers: []string{ModSearch}},
		"body:text:optional:search":            {Name: "body", Type: TypeText, Modifiers: []string{ModOptional, ModSearch}},
		"owner:references:user:owner":          {Name: "owner", Type: TypeReferences, Target: "user", Modifiers: []string{ModOwner}},
	} {
		got, err := ParseField(spec)
		if err != nil {
			t.Errorf("ParseField(%q): %v", spec, err)
			continue
		}
		if got.Name != want.Name || got.Type != want.Type || got.Target != want.Target || !slices.Equal(got.Modifiers, want.Modifiers) {
			t.Errorf("ParseField(%q) = %+v, want %+v", spec, got, want)
		}
		if got.String() != spec {
			t.Errorf("ParseField(%q).String() = %q, want the spec back", spec, got.String())
		}
	}
}

func TestFieldRequiredDefaultsByType(t *testing.T) {
	for spec, want := range map[string]bool{
		"a:string": true, "a:text": true, "a:references": true,
		"a:string:optional": false, "a:text:optional": false,
		"a:int": false, "a:bool": false, "a:time": false, "a:float": false,
		"a:int:required": true, "a:time:required": true,
	} {
		f, err := ParseField(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Required(); got != want {
			t.Errorf("%s: Required() = %v, want %v", spec, got, want)
		}
	}
}

// wantInputError checks that err is a one-line InputError that says every part of want.
func wantInputError(t *testing.T, err error, want ...string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v (%T), want an *InputError", err, err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("message spans lines: %q", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q does not say %q", err, w)
		}
	}
}

func TestParseFieldRejectsBadSpecsNamingTheFix(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{"title", []string{`"title"`, "name:type", "string, text"}},
		{":string", []string{"name:type"}},
		{"title:", []string{"name:type"}},
		{"title:varchar", []string{`unknown field type "varchar"`, "string, text, int, int64, uint, float, bool, time, references"}},
		{"Title:string", []string{`invalid field name "Title"`, "snake_case", "e.g. title"}},
		{"publishedAt:time", []string{`"publishedAt"`, "e.g. published_at"}},
		{"published-at:time", []string{"e.g. published_at"}},
		{"address_2:string", []string{`"address_2"`, "snake_case"}},
		{"id:int", []string{`field "id"`, "generated for every resource", "remove it"}},
		{"created_at:time", []string{`"created_at"`, "generated"}},
		{"updated_at:time", []string{`"updated_at"`, "generated"}},
		{"table_name:string", []string{"TableName method", "rename"}},
		{"name:string:uniq", []string{`unknown modifier "uniq"`, "unique, index, required, optional"}},
		{"name:string:unique:unique", []string{`"unique" is given twice`}},
		{"name:string:required:optional", []string{"both required and optional"}},
		{"name:string:unique:index", []string{"unique already creates an index"}},
		{"article:references:optional", []string{"always required"}},
		{"active:bool:unique", []string{"unique bool", "drop the unique modifier"}},
		{"author:references:User", []string{`invalid target "User"`, "author:references:user"}},
		{"sort:int", []string{`field "sort"`, "query parameter of every list", "rename"}},
		{"page:int", []string{`field "page"`, "query parameter"}},
		{"include:string", []string{`field "include"`, "query parameter"}},
		{"q:string", []string{`field "q"`, "query parameter"}},
		{"views:int:search", []string{"only string and text fields can be searched", "drop the search modifier"}},
		{"published_at:time:search", []string{"only string and text fields can be searched"}},
		{"article:references:search", []string{"only string and text fields can be searched"}},
		{"title:string:search:search", []string{`"search" is given twice`}},
		{"owner:int:owner", []string{"only a reference to the users table can be the owner", "owner:references:user:owner"}},
		{"article:references:owner", []string{"only a reference to the users table can be the owner"}},
		{"owner:references:article:owner", []string{"only a reference to the users table can be the owner"}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := ParseField(tc.spec)
			wantInputError(t, err, tc.want...)
		})
	}
}

func manifestWith(resources ...Resource) Manifest {
	return Manifest{Schema: manifestSchema, Name: "myblog", Module: "myblog", Strategy: StrategyFork, DB: DBSQLite, Port: 8000, Resources: resources}
}

func TestResolveAcceptsGoodResources(t *testing.T) {
	m := manifestWith(Resource{Name: "article", Plural: "articles"})
	for _, tc := range []struct {
		name       string
		opts       ResourceOptions
		wantPlural string
	}{
		{"a plain resource", ResourceOptions{Name: "tag", Fields: []string{"name:string:unique"}}, "tags"},
		{"an irregular plural", ResourceOptions{Name: "person"}, "people"},
		{"a -y plural", ResourceOptions{Name: "category"}, "categories"},
		{"an explicit plural", ResourceOptions{Name: "person", Plural: "persons"}, "persons"},
		{"a compound name", ResourceOptions{Name: "blog_post"}, "blog_posts"},
		{"a word the library sees as plural, with --plural", ResourceOptions{Name: "data", Plural: "data"}, "data"},
		{"a reference to an existing resource", ResourceOptions{Name: "comment", Fields: []string{"article:references", "body:text"}}, "comments"},
		{"Go keywords as names", ResourceOptions{Name: "type", Fields: []string{"func:string", "range:int", "go:bool"}}, "types"},
		{"no fields", ResourceOptions{Name: "ping"}, "pings"},
		{"two references to one resource", ResourceOptions{Name: "link", Fields: []string{"article:references", "source:references:article"}}, "links"},
		{"a reference naming its own target", ResourceOptions{Name: "note", Fields: []string{"article:references:article"}}, "notes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.opts.resolve(m)
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if res.Plural != tc.wantPlural {
				t.Errorf("plural = %q, want %q", res.Plural, tc.wantPlural)
			}
			if len(res.Fields) != len(tc.opts.Fields) {
				t.Errorf("fields = %v, want %d", res.Fields, len(tc.opts.Fields))
			}
		})
	}
}

func TestResolveRejectsBadResourcesNamingTheFix(t *testing.T) {
	m := manifestWith(Resource{Name: "article", Plural: "articles"}, Resource{Name: "person", Plural: "people"})
	for _, tc := range []struct {
		name string
		opts ResourceOptions
		want []string
	}{
		{"an existing resource", ResourceOptions{Name: "article"}, []string{`resource "article" already exists`, "gingen destroy resource article"}},
		{"a name whose plural is taken", ResourceOptions{Name: "entry", Plural: "people"}, []string{`"people"`, "--plural"}},
		{"a name that is another's plural", ResourceOptions{Name: "people", Plural: "peoples"}, []string{"share routes"}},
		{"an empty name", ResourceOptions{Name: ""}, []string{"resource name is empty", "gingen add resource article"}},
		{"a CamelCase name", ResourceOptions{Name: "BlogPost"}, []string{`invalid resource name "BlogPost"`, "e.g. blog_post"}},
		{"a hyphenated name", ResourceOptions{Name: "blog-post"}, []string{"e.g. blog_post"}},
		{"a plural name", ResourceOptions{Name: "tags"}, []string{`"tags" looks plural`, "gingen add resource tag", "--plural"}},
		{"a _test name", ResourceOptions{Name: "load_test"}, []string{"_test", "test file"}},
		{"a name ending in a system", ResourceOptions{Name: "server_linux"}, []string{"system name", "server_linux.go"}},
		{"a name ending in an architecture", ResourceOptions{Name: "build_arm64"}, []string{"system name"}},
		{"a bad plural", ResourceOptions{Name: "tag", Plural: "Tags"}, []string{`invalid --plural "Tags"`, "e.g. tags"}},
		{"a reference to a missing resource", ResourceOptions{Name: "comment", Fields: []string{"post:references"}}, []string{`references resource "post"`, "gingen add resource post"}},
		{"a reference to itself", ResourceOptions{Name: "node", Fields: []string{"node:references"}}, []string{"cannot reference itself"}},
		{"a field given twice", ResourceOptions{Name: "tag", Fields: []string{"name:string", "name:text"}}, []string{`"name:text"`, `"name:string"`, "rename one"}},
		{"a field clashing with a foreign key", ResourceOptions{Name: "comment", Fields: []string{"article:references", "article_id:int"}}, []string{`"article_id:int"`, "article_id"}},
		{"a field clashing with a relation", ResourceOptions{Name: "comment", Fields: []string{"article:string", "article:references"}}, []string{"clashes"}},
		{"a bad field", ResourceOptions{Name: "tag", Fields: []string{"name:strng"}}, []string{`unknown field type "strng"`}},
		{"the users table without --auth jwt", ResourceOptions{Name: "note", Fields: []string{"author:references:user"}}, []string{"users table", "--auth jwt"}},
		{"a reference to a missing target", ResourceOptions{Name: "note", Fields: []string{"source:references:post"}}, []string{`references resource "post"`, "gingen add resource post"}},
		{"a field named as another's range filter", ResourceOptions{Name: "stat", Fields: []string{"views:int", "views_gte:int"}}, []string{`"views_gte:int"`, "views_gte"}},
		{"a field named as a generated column's filter", ResourceOptions{Name: "stat", Fields: []string{"created_at_lt:int"}}, []string{"created_at_lt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.resolve(m)
			wantInputError(t, err, tc.want...)
		})
	}
}

func TestResolveRefusesAnIndexedTextFieldOnMySQLOnly(t *testing.T) {
	for _, spec := range []string{"body:text:unique", "body:text:index"} {
		t.Run(spec, func(t *testing.T) {
			m := manifestWith()
			m.DB = DBMySQL
			_, err := ResourceOptions{Name: "note", Fields: []string{spec}}.resolve(m)
			wantInputError(t, err, "MySQL cannot index a text column", "use string")
			for _, db := range []string{DBSQLite, DBPostgres} {
				m.DB = db
				if _, err := (ResourceOptions{Name: "note", Fields: []string{spec}}).resolve(m); err != nil {
					t.Errorf("on %s: %v, want it accepted", db, err)
				}
			}
		})
	}
}

func TestResolveAcceptsTheUsersTableWithJWT(t *testing.T) {
	m := manifestWith()
	m.Auth = AuthJWT
	res, err := ResourceOptions{Name: "note", Fields: []string{"author:references:user", "body:text"}}.resolve(m)
	if err != nil {
		t.Fatal(err)
	}
	d := newResourceData(m, res)
	ref := d.Fields[0].Ref
	if d.Fields[0].Name != "author_id" || ref == nil || ref.Camel != "User" || ref.Relation != "Author" || ref.Include != "author" || ref.Routed {
		t.Errorf("author:references:user = %+v, ref %+v; want author_id to the unrouted User, included as author", d.Fields[0], ref)
	}
	if len(d.Nested) != 0 {
		t.Errorf("nested routes = %v, want none under the users table (it has no routes)", d.Nested)
	}
}

func TestResolveRefusesAnOwnerWithoutJWTOrTwice(t *testing.T) {
	m := manifestWith()
	_, err := ResourceOptions{Name: "note", Fields: []string{"owner:references:user:owner"}}.resolve(m)
	wantInputError(t, err, "only projects made with --auth jwt", "drop the owner modifier")
	m.Auth = AuthJWT
	_, err = ResourceOptions{Name: "note", Fields: []string{"owner:references:user:owner", "editor:references:user:owner"}}.resolve(m)
	wantInputError(t, err, "already has the owner field owner", "one owner")
}

func TestResourceDataKeepsTheOwnerOutOfTheRequest(t *testing.T) {
	m := manifestWith()
	m.Auth = AuthJWT
	note, err := ResourceOptions{Name: "note", Fields: []string{"title:string", "owner:references:user:owner"}}.resolve(m)
	if err != nil {
		t.Fatal(err)
	}
	m.Resources = append(m.Resources, note)
	d := newResourceData(m, note)
	if d.Owner == nil || d.Owner.Name != "owner_id" || d.Owner.SampleGo != "testOwner(t, db).ID" {
		t.Fatalf("owner = %+v, want owner_id owned by the test user", d.Owner)
	}
	for name, list := range map[string][]FieldData{"fields": d.Fields, "references": d.References, "required": d.Required, "filters": d.Filters, "pair": d.Pair} {
		for _, f := range list {
			if f.Name == "owner_id" {
				t.Errorf("%s hold the owner, which requests neither send nor filter", name)
			}
		}
	}
	reminder, err := ResourceOptions{Name: "reminder", Fields: []string{"note:references"}}.resolve(m)
	if err != nil {
		t.Fatal(err)
	}
	if ref := newResourceData(m, reminder).Nested[0].Ref; ref.Owner != "owner_id" {
		t.Errorf("a reference to an owned resource: owner %q, want owner_id", ref.Owner)
	}
}

func TestResourceDataNestsOneRoutePerTarget(t *testing.T) {
	m := manifestWith(Resource{Name: "article", Plural: "articles"})
	res, err := ResourceOptions{Name: "link", Fields: []string{"article:references", "source:references:article", "note:text", "views:int"}}.resolve(m)
	if err != nil {
		t.Fatal(err)
	}
	d := newResourceData(m, res)
	if len(d.Nested) != 1 || d.Nested[0].Name != "article_id" {
		t.Errorf("nested = %+v, want only article_id", d.Nested)
	}
	var filters []string
	for _, f := range d.Filters {
		filters = append(filters, f.Name)
	}
	if want := []string{"article_id", "source_id", "views"}; !slices.Equal(filters, want) {
		t.Errorf("filters = %v, want %v (not the text field)", filters, want)
	}
}
