package generator

import (
	"strings"
	"testing"
)

func TestCamelSpellsGoNamesWithInitialisms(t *testing.T) {
	for in, want := range map[string][2]string{
		"title":        {"Title", "title"},
		"published_at": {"PublishedAt", "publishedAt"},
		"author_id":    {"AuthorID", "authorID"},
		"api_key":      {"APIKey", "apiKey"},
		"url":          {"URL", "url"},
		"blog_post":    {"BlogPost", "blogPost"},
		"sha256_sum":   {"Sha256Sum", "sha256Sum"},
		"type":         {"Type", "type"},
	} {
		if got := Camel(in); got != want[0] {
			t.Errorf("Camel(%q) = %q, want %q", in, got, want[0])
		}
		if got := LowerCamel(in); got != want[1] {
			t.Errorf("LowerCamel(%q) = %q, want %q", in, got, want[1])
		}
	}
}

func TestPluralAndSingularFollowTheInflectionLibrary(t *testing.T) {
	for singular, plural := range map[string]string{
		"article": "articles", "category": "categories", "person": "people", "blog_post": "blog_posts",
		"status": "statuses", "child": "children", "sheep": "sheep",
	} {
		if got := Plural(singular); got != plural {
			t.Errorf("Plural(%q) = %q, want %q", singular, got, plural)
		}
		if got := Singular(plural); got != singular {
			t.Errorf("Singular(%q) = %q, want %q", plural, got, singular)
		}
	}
}

func TestIsSnakeAcceptsOnlyWordsStartingWithALetter(t *testing.T) {
	for s, want := range map[string]bool{
		"title": true, "published_at": true, "line2": true, "a": true,
		"": false, "Title": false, "published-at": false, "_x": false, "x_": false, "a__b": false,
		"address_2": false, "2fa": false, "blogPost": false, "héllo": false,
	} {
		if got := IsSnake(s); got != want {
			t.Errorf("IsSnake(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestToSnakeSuggestsTheSnakeCaseSpelling(t *testing.T) {
	for in, want := range map[string]string{
		"BlogPost": "blog_post", "blog-post": "blog_post", "blogPost": "blog_post",
		"HTTPServer": "http_server", "APIKey": "api_key", "title": "title", "Blog Post": "blog_post",
	} {
		if got := ToSnake(in); got != want {
			t.Errorf("ToSnake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolveKeepsEveryIdentifierWithinWhatPostgreSQLKeeps(t *testing.T) {
	long := strings.Repeat("abcdefghi_", 6) + "abc" // 63 characters
	ref61 := long[:59] + "ab"                       // a resource whose foreign key column, ref61_id, is 64 characters
	m := manifestWith(Resource{Name: "article", Plural: "articles"}, Resource{Name: ref61, Plural: ref61 + "s"})
	for _, tc := range []struct {
		name string
		opts ResourceOptions
		want []string // nil: accepted
	}{
		{"a 63-character column", ResourceOptions{Name: "post", Fields: []string{long + ":string"}}, nil},
		{"a 64-character column", ResourceOptions{Name: "post", Fields: []string{long + "x:string"}}, []string{"is 64 characters", "at most 63 characters"}},
		{"a references field whose column passes 63", ResourceOptions{Name: "comment", Fields: []string{"article:references"}}, nil},
		{"a references field of 61 characters: a column of 64", ResourceOptions{Name: "comment", Fields: []string{ref61 + ":references"}}, []string{`column "` + ref61 + `_id" is 64 characters`, "at most 60 characters"}},
		{"an indexed 63-character column: gorm shortens the index name itself", ResourceOptions{Name: "tag", Fields: []string{long + ":string:unique"}}, nil},
		{"a 64-character table", ResourceOptions{Name: "thing", Plural: long + "s"}, []string{"table name", "is 64 characters", "--plural"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.resolve(m)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("resolve: %v, want it accepted", err)
				}
				return
			}
			wantInputError(t, err, tc.want...)
		})
	}
}

func TestResolveRefusesAPluralThatTakesAProjectRoute(t *testing.T) {
	m := manifestWith()
	m.Auth = AuthJWT
	_, err := ResourceOptions{Name: "profile", Plural: "me"}.resolve(m)
	wantInputError(t, err, "/api/v1/me would clash", "jwt", "--plural profiles")
	m.Auth = ""
	if _, err := (ResourceOptions{Name: "profile", Plural: "me"}).resolve(m); err != nil {
		t.Errorf("without auth: %v, want it accepted", err)
	}
}
