package generator

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestRenderOpenAPIDescribesEveryRoute(t *testing.T) {
	m := manifestWith()
	m.Auth = AuthJWT
	for _, opts := range []ResourceOptions{
		{Name: "article", Fields: []string{"author:references:user", "title:string", "views:int"}},
		{Name: "comment", Fields: []string{"article:references", "body:text"}},
	} {
		res, err := opts.resolve(m)
		if err != nil {
			t.Fatal(err)
		}
		m.Resources = append(m.Resources, res)
	}
	b, err := RenderOpenAPI(m)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := RenderOpenAPI(m)
	if !bytes.Equal(b, again) {
		t.Error("two renders of one manifest differ")
	}
	var doc struct {
		OpenAPI    string                    `json:"openapi"`
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas         map[string]any `json:"schemas"`
			SecuritySchemes map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	for path, methods := range map[string][]string{
		"/healthz":                       {"get"},
		"/readyz":                        {"get"},
		"/openapi.json":                  {"get"},
		"/auth":                          {"post"},
		"/api/v1/me":                     {"get"},
		"/api/v1/articles":               {"get", "post"},
		"/api/v1/articles/{id}":          {"get", "put", "patch", "delete"},
		"/api/v1/comments/{id}":          {"get", "put", "patch", "delete"},
		"/api/v1/articles/{id}/comments": {"get"},
	} {
		for _, method := range methods {
			if doc.Paths[path][method] == nil {
				t.Errorf("%s %s is not described", method, path)
			}
		}
	}
	if doc.Paths["/users/{id}/articles"] != nil {
		t.Error("the users table, which has no routes, got a nested route")
	}
	for _, s := range []string{"Error", "User", "Article", "ArticleInput", "ArticlePatch", "ArticleList", "Comment"} {
		if doc.Components.Schemas[s] == nil {
			t.Errorf("schema %s is missing", s)
		}
	}
	if doc.Components.SecuritySchemes["bearer"] == nil {
		t.Error("a jwt project's document has no bearer security scheme")
	}
}
