package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
)

// generateBlog writes a project as `gingen new myblog --strategy S` and the three
// `gingen add resource` commands would, through the same generator calls, and returns its root.
func generateBlog(t *testing.T, strategy string) string {
	t.Helper()
	return generateProject(t, generator.Options{Name: "myblog", Strategy: strategy, Port: generator.DefaultPort}, blogResources()...)
}

// apiClient sends JSON requests to a running server and decodes the answers.
type apiClient struct {
	t       *testing.T
	ctx     context.Context
	baseURL string
	http    *http.Client
}

// call sends body (a string as is, anything else as JSON, nil for none) and returns the
// status and the decoded JSON answer (nil for an empty body).
func (c *apiClient) call(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var payload io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		payload = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		payload = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, c.baseURL+path, payload)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if len(raw) == 0 {
		return resp.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s = %d with a body that is not a JSON object: %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// expect sends a request and fails the test unless the status is want.
func (c *apiClient) expect(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	got, out := c.call(method, path, body)
	if got != want {
		c.t.Fatalf("%s %s = %d %v, want %d", method, path, got, out, want)
	}
	return out
}

// expectError sends a request that must fail with status want and, if field is not empty,
// an error that names field.
func (c *apiClient) expectError(want int, field, method, path string, body any) {
	c.t.Helper()
	out := c.expect(want, method, path, body)
	if msg, _ := out["error"].(string); msg == "" {
		c.t.Errorf("%s %s = %d %v: no error message", method, path, want, out)
	}
	if field == "" {
		return
	}
	fields, _ := out["fields"].(map[string]any)
	if fields[field] == nil {
		c.t.Errorf("%s %s = %d %v: the error does not name %s", method, path, want, out, field)
	}
}

// TestCRUDResourcesOverHTTP generates a project with the resources in every
// strategy, starts the real server as its deploy files would, and drives the CRUD endpoints
// with a real HTTP client: pagination, the 400/404/409 paths, a foreign key, and the data
// surviving a SIGHUP restart.
//
// The strategies' runs overlap, and the test with the package's other parallel ones: each
// builds a project of its own in a folder of its own, on a free port, with its SQLite file
// in its working folder, and no load.
func TestCRUDResourcesOverHTTP(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("generates, builds and runs projects")
	}
	for _, strategy := range []string{restarttest.Fork, restarttest.Supervisor, restarttest.Systemd} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			project := generateBlog(t, strategy)
			work := t.TempDir()
			bin := filepath.Join(work, "myblog")
			if err := restarttest.Build(ctx, project, bin, "v1"); err != nil {
				t.Fatal(err)
			}
			srv, err := restarttest.Start(ctx, restarttest.ServerConfig{
				Strategy:        strategy,
				Binary:          bin,
				ConfigFile:      filepath.Join(project, "conf", "app.ini"),
				WorkDir:         work,
				EnvPrefix:       "MYBLOG",
				ShutdownTimeout: 10 * time.Second,
				ReadyTimeout:    10 * time.Second,
				Log:             logFile(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Kill)
			api := &apiClient{t: t, ctx: ctx, baseURL: srv.BaseURL + "/api/v1", http: &http.Client{Timeout: 10 * time.Second}}
			exerciseCRUD(t, api, srv)
		})
	}
}

func exerciseCRUD(t *testing.T, api *apiClient, srv *restarttest.Server) {
	// Create: the issue's own example, sent without a JSON Content-Type as curl -d sends it.
	first := api.expect(http.StatusCreated, http.MethodPost, "/articles", `{"title":"Hi","body":"..."}`)
	if first["id"] != float64(1) || first["title"] != "Hi" || first["published"] != false || first["published_at"] != nil {
		t.Errorf("created article = %v, want id 1, title Hi, unpublished, no published_at", first)
	}
	for n := 2; n <= 25; n++ {
		api.expect(http.StatusCreated, http.MethodPost, "/articles", map[string]any{"title": fmt.Sprintf("article %d", n), "body": "text", "views": n})
	}

	// List: the page asked for, with the total.
	page := api.expect(http.StatusOK, http.MethodGet, "/articles?page=2&page_size=10", nil)
	items, _ := page["items"].([]any)
	if page["total"] != float64(25) || page["page"] != float64(2) || page["page_size"] != float64(10) || len(items) != 10 {
		t.Fatalf("page 2 of 10 = total %v, page %v, page_size %v, %d items; want 25, 2, 10, 10", page["total"], page["page"], page["page_size"], len(items))
	}
	if item, _ := items[0].(map[string]any); item["id"] != float64(11) {
		t.Errorf("page 2 of 10 starts with %v, want article 11", items[0])
	}
	if last := api.expect(http.StatusOK, http.MethodGet, "/articles?page=3&page_size=10", nil); len(last["items"].([]any)) != 5 {
		t.Errorf("page 3 of 10 has %d items, want 5", len(last["items"].([]any)))
	}

	// Read and replace.
	if got := api.expect(http.StatusOK, http.MethodGet, "/articles/1", nil); got["title"] != "Hi" {
		t.Errorf("GET /articles/1 = %v, want title Hi", got)
	}
	update := map[string]any{"title": "Hello", "body": "edited", "published": true, "views": 7, "published_at": "2024-05-01T10:00:00Z"}
	got := api.expect(http.StatusOK, http.MethodPut, "/articles/1", update)
	for k, v := range map[string]any{"title": "Hello", "published": true, "views": float64(7), "published_at": "2024-05-01T10:00:00Z"} {
		if got[k] != v {
			t.Errorf("PUT /articles/1: %s = %v, want %v", k, got[k], v)
		}
	}

	// PATCH changes the fields sent and keeps the others.
	got = api.expect(http.StatusOK, http.MethodPatch, "/articles/1", map[string]any{"views": 8})
	if got["views"] != float64(8) || got["title"] != "Hello" || got["published"] != true || got["published_at"] != "2024-05-01T10:00:00Z" {
		t.Errorf("PATCH /articles/1 {views: 8} = %v, want views 8 and the rest as PUT left it", got)
	}

	// Filters, ranges and sorting (views: article n has n views, article 1 now 8).
	ids := func(path string) []any {
		t.Helper()
		out := api.expect(http.StatusOK, http.MethodGet, path, nil)
		var got []any
		for _, item := range out["items"].([]any) {
			got = append(got, item.(map[string]any)["id"])
		}
		return got
	}
	if got := ids("/articles?published=true"); fmt.Sprint(got) != "[1]" {
		t.Errorf("?published=true: ids %v, want [1]", got)
	}
	if got := ids("/articles?views_gte=23&sort=-views"); fmt.Sprint(got) != "[25 24 23]" {
		t.Errorf("?views_gte=23&sort=-views: ids %v, want [25 24 23]", got)
	}
	if got := ids("/articles?views_gt=3&views_lt=8&sort=-id"); fmt.Sprint(got) != "[7 6 5 4]" {
		t.Errorf("?views_gt=3&views_lt=8&sort=-id: ids %v, want [7 6 5 4]", got)
	}
	if got := ids("/articles?views=8&sort=-id"); fmt.Sprint(got) != "[8 1]" {
		t.Errorf("?views=8&sort=-id: ids %v, want [8 1]", got)
	}
	if got := ids("/articles?views_lte=3&sort=-title"); fmt.Sprint(got) != "[3 2]" {
		t.Errorf("?views_lte=3&sort=-title: ids %v, want [3 2]", got)
	}
	api.expectError(http.StatusBadRequest, "views_gte", http.MethodGet, "/articles?views_gte=many", nil)
	api.expectError(http.StatusBadRequest, "sort", http.MethodGet, "/articles?sort=body", nil)
	api.expectError(http.StatusBadRequest, "published", http.MethodGet, "/articles?published=yes", nil)
	api.expectError(http.StatusBadRequest, "titel", http.MethodGet, "/articles?titel=Hello", nil)

	// The error paths.
	api.expectError(http.StatusBadRequest, "titel", http.MethodPost, "/articles", map[string]any{"titel": "typo", "body": "b"})
	api.expectError(http.StatusBadRequest, "title", http.MethodPost, "/articles", map[string]any{"title": "   ", "body": "b"})
	api.expectError(http.StatusBadRequest, "title", http.MethodPatch, "/articles/1", map[string]any{"title": ""})
	api.expectError(http.StatusBadRequest, "", http.MethodPost, "/articles", `{"title":`)
	api.expectError(http.StatusBadRequest, "title", http.MethodPost, "/articles", map[string]any{"body": "no title"})
	api.expectError(http.StatusBadRequest, "views", http.MethodPost, "/articles", map[string]any{"title": "t", "body": "b", "views": "many"})
	api.expectError(http.StatusBadRequest, "published_at", http.MethodPut, "/articles/1", map[string]any{"title": "t", "body": "b", "published_at": "yesterday"})
	api.expectError(http.StatusNotFound, "", http.MethodGet, "/articles/9999", nil)
	api.expectError(http.StatusNotFound, "", http.MethodPut, "/articles/9999", update)
	api.expectError(http.StatusNotFound, "", http.MethodDelete, "/articles/9999", nil)
	api.expectError(http.StatusBadRequest, "id", http.MethodGet, "/articles/abc", nil)
	api.expectError(http.StatusBadRequest, "page_size", http.MethodGet, "/articles?page_size=1000", nil)

	// A unique field, enforced by the database, answered 409.
	api.expect(http.StatusCreated, http.MethodPost, "/tags", map[string]any{"name": "go"})
	api.expectError(http.StatusConflict, "name", http.MethodPost, "/tags", map[string]any{"name": "go"})

	// A foreign key: to an existing article only, and the article stays while referenced.
	comment := api.expect(http.StatusCreated, http.MethodPost, "/comments", map[string]any{"article_id": 1, "author": "ann", "body": "nice"})
	api.expectError(http.StatusBadRequest, "article_id", http.MethodPost, "/comments", map[string]any{"article_id": 9999, "author": "bob", "body": "lost"})
	api.expectError(http.StatusConflict, "", http.MethodDelete, "/articles/1", nil)
	api.expect(http.StatusCreated, http.MethodPost, "/comments", map[string]any{"article_id": 2, "author": "cy", "body": "elsewhere"})
	withArticle := api.expect(http.StatusOK, http.MethodGet, fmt.Sprintf("/comments/%v?include=article", comment["id"]), nil)
	if article, _ := withArticle["article"].(map[string]any); article["title"] != "Hello" {
		t.Errorf("GET /comments/%v?include=article = %v, want the article in it", comment["id"], withArticle)
	}
	nested := api.expect(http.StatusOK, http.MethodGet, "/articles/1/comments?include=article", nil)
	if items, _ := nested["items"].([]any); nested["total"] != float64(1) || len(items) != 1 || items[0].(map[string]any)["id"] != comment["id"] {
		t.Errorf("GET /articles/1/comments = %v, want only comment %v", nested, comment["id"])
	}
	api.expectError(http.StatusNotFound, "", http.MethodGet, "/articles/9999/comments", nil)

	// The OpenAPI document, at the root, describes what was just called.
	doc := (&apiClient{t: t, ctx: api.ctx, baseURL: srv.BaseURL, http: api.http}).expect(http.StatusOK, http.MethodGet, "/openapi.json", nil)
	if paths, _ := doc["paths"].(map[string]any); doc["openapi"] != "3.1.0" || paths["/api/v1/articles/{id}/comments"] == nil {
		t.Errorf("GET /openapi.json: openapi %v, paths %v; want 3.1.0 describing /api/v1/articles/{id}/comments", doc["openapi"], paths)
	}

	// The data outlives a zero-downtime restart onto the same binary.
	before, err := srv.Health(api.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitFor(api.ctx, 20*time.Second, func(h restarttest.Health) bool { return h.PID != before.PID }); err != nil {
		t.Fatalf("after SIGHUP: %v", err)
	}
	if got := api.expect(http.StatusOK, http.MethodGet, "/articles/1", nil); got["title"] != "Hello" {
		t.Errorf("GET /articles/1 after the restart = %v, want the updated article", got)
	}

	// Delete: the comment, then the article it protected.
	api.expect(http.StatusNoContent, http.MethodDelete, fmt.Sprintf("/comments/%v", comment["id"]), nil)
	api.expect(http.StatusNoContent, http.MethodDelete, "/articles/1", nil)
	api.expectError(http.StatusNotFound, "", http.MethodGet, "/articles/1", nil)
	if list := api.expect(http.StatusOK, http.MethodGet, "/articles", nil); list["total"] != float64(24) {
		t.Errorf("total after one delete = %v, want 24", list["total"])
	}
}
