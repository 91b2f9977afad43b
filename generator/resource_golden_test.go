package generator

import (
	"io/fs"
	"maps"
	"slices"
	"testing/fstest"
)

// goldenResources are the resources added, in this order, to a golden case's new project,
// as `gingen add resource` would add them.
func goldenResources() map[string][]ResourceOptions {
	return map[string][]ResourceOptions{
		"myblog-article": {
			{Name: "article", Fields: []string{"title:string:search", "body:text:search", "published:bool", "views:int", "published_at:time"}},
			{Name: "tag", Fields: []string{"name:string:unique"}},
			{Name: "comment", Fields: []string{"article:references", "author:string", "body:text"}},
			// Every type and modifier, a Go keyword as a field name, an initialism, an
			// irregular plural.
			{Name: "person", Fields: []string{
				"name:string", "type:string:optional:index", "bio:text:optional:search", "score:float",
				"visits:uint:required", "balance:int64:index", "active:bool:required",
				"born_at:time:required", "api_key:string:unique", "tag:references",
			}},
		},
		"myblog-tracing": {
			{Name: "article", Fields: []string{"title:string:search", "body:text", "published_at:time:optional"}},
		},
		"myblog-events": {
			{Name: "note", Fields: []string{"title:string", "body:text:optional"}, Events: true},
		},
		"myblog-jwt-article": {
			{Name: "article", Fields: []string{"author:references:user", "title:string:search", "body:text", "views:int", "published_at:time:optional"}, Events: true},
			{Name: "comment", Fields: []string{"article:references", "author:references:user", "reply_to:references:article", "body:text"}},
			// Rows owned by their creator, and a resource under them.
			{Name: "note", Fields: []string{"owner:references:user:owner", "title:string:search", "article:references", "due_at:time:optional"}},
			{Name: "reminder", Fields: []string{"note:references", "text:string"}},
		},
	}
}

// planGolden plans a golden case: the new project, then its resources added one by one to
// the plan in memory.
func planGolden(name string, opts Options) ([]File, error) {
	files, err := PlanProject(opts, goldenTemplates())
	if err != nil {
		return nil, err
	}
	for _, r := range goldenResources()[name] {
		plan, err := PlanAddResource(memFS(files), r, goldenTemplates())
		if err != nil {
			return nil, err
		}
		files = applyInMemory(files, plan)
	}
	return files, nil
}

// memFS serves files as a read-only file system.
func memFS(files []File) fs.FS {
	m := fstest.MapFS{}
	for _, f := range files {
		m[f.Path] = &fstest.MapFile{Data: f.Body, Mode: f.Mode}
	}
	return m
}

// applyInMemory returns files as plan leaves them, sorted by path.
func applyInMemory(files []File, plan Plan) []File {
	byPath := map[string]File{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	for _, f := range plan.Writes {
		byPath[f.Path] = f
	}
	for _, p := range plan.Deletes {
		delete(byPath, p)
	}
	out := make([]File, 0, len(byPath))
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		out = append(out, byPath[p])
	}
	return out
}
