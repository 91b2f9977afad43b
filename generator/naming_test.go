package generator

import "testing"

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
