package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
)

// TestConcurrentPatchesLoseNoUpdateOnEveryDatabase runs a project with the article resource
// on SQLite (the golden myblog-article), PostgreSQL and MariaDB, its server under
// TZ=America/New_York, and sends 200 pairs of concurrent PATCHes over HTTP, one changing an
// article's title, the other its views: every article must keep both changes (version 3).
// Then a stale If-Match answers 412, a current If-None-Match 304, and a time sent with an
// offset is found by its instant in UTC.
func TestConcurrentPatchesLoseNoUpdateOnEveryDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs projects against every database")
	}
	for _, db := range []string{generator.DBSQLite, generator.DBPostgres, generator.DBMySQL} {
		t.Run(db, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
			defer cancel()
			work := t.TempDir()
			bin := filepath.Join(work, "myblog")
			var conf string
			if db == generator.DBSQLite {
				installGolden(t, ctx, "myblog-article", "v1", bin)
				ini, err := os.ReadFile(filepath.Join(fixtures.Golden, "myblog-article", "conf", "app.ini"))
				if err != nil {
					t.Fatal(err)
				}
				conf = string(ini)
			} else {
				server := requireServer(t, db)
				name := "gingen_e2e_writes"
				server.freshDatabase(t, name)
				conf = server.ini(name)
				project := generateProject(t, generator.Options{Name: "myblog", Strategy: restarttest.Fork, DB: db, Port: generator.DefaultPort}, blogResources()[0])
				if err := restarttest.Build(ctx, project, bin, "v1"); err != nil {
					t.Fatal(err)
				}
			}
			cfg := restarttest.ServerConfig{
				Strategy: restarttest.Fork, Binary: bin, WorkDir: work, EnvPrefix: "MYBLOG",
				ShutdownTimeout: 10 * time.Second, ReadyTimeout: 10 * time.Second,
				Env: []string{"TZ=America/New_York"}, Log: logFile(t),
			}
			cfg.ConfigFile = writeConfig(t, conf)
			srv, err := restarttest.Start(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Kill)
			client := &http.Client{Timeout: 30 * time.Second}
			api := &apiClient{t: t, ctx: ctx, baseURL: srv.BaseURL + "/api/v1", http: client}
			checkNoLostUpdate(t, ctx, api)
			checkConditionalRequests(t, ctx, api)
			checkTimesAreInstants(t, api)
		})
	}
}

// checkNoLostUpdate creates 200 articles and sends, all at once, two PATCHes to each: one
// sets its title, the other its views.
func checkNoLostUpdate(t *testing.T, ctx context.Context, api *apiClient) {
	t.Helper()
	const pairs = 200
	ids := make([]int, pairs)
	for i := range ids {
		out := api.expect(http.StatusCreated, http.MethodPost, "/articles", map[string]any{"title": fmt.Sprintf("first %d", i), "body": "b"})
		ids[i] = int(out["id"].(float64))
	}
	start := make(chan struct{})
	failures := make(chan string, 2*pairs)
	var wg sync.WaitGroup
	for i, id := range ids {
		for _, body := range []map[string]any{{"title": fmt.Sprintf("title %d", i)}, {"views": 1000 + i}} {
			wg.Go(func() {
				<-start
				code, err := send(ctx, api, http.MethodPatch, fmt.Sprintf("/articles/%d", id), body, nil)
				if err != nil || code != http.StatusOK {
					failures <- fmt.Sprintf("PATCH /articles/%d %v = %d (%v), want 200", id, body, code, err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	lost := 0
	for i, id := range ids {
		got := api.expect(http.StatusOK, http.MethodGet, fmt.Sprintf("/articles/%d", id), nil)
		if got["title"] != fmt.Sprintf("title %d", i) || got["views"] != float64(1000+i) || got["version"] != float64(3) {
			lost++
			t.Errorf("article %d after both PATCHes: title %v, views %v, version %v", id, got["title"], got["views"], got["version"])
		}
	}
	t.Logf("%d pairs of concurrent PATCHes, %d lost updates", pairs, lost)
}

// checkConditionalRequests: a stale If-Match is refused with 412 and changes nothing; a
// current If-None-Match answers 304.
func checkConditionalRequests(t *testing.T, ctx context.Context, api *apiClient) {
	t.Helper()
	out := api.expect(http.StatusCreated, http.MethodPost, "/articles", map[string]any{"title": "etag", "body": "b"})
	id := int(out["id"].(float64))
	path := fmt.Sprintf("/articles/%d", id)
	v1 := fmt.Sprintf(`"%d.1"`, id)
	if code, err := send(ctx, api, http.MethodPatch, path, map[string]any{"views": 1}, http.Header{"If-Match": {v1}}); err != nil || code != http.StatusOK {
		t.Fatalf("PATCH If-Match: %s = %d (%v), want 200", v1, code, err)
	}
	for _, method := range []string{http.MethodPatch, http.MethodDelete} {
		if code, err := send(ctx, api, method, path, map[string]any{"views": 2}, http.Header{"If-Match": {v1}}); err != nil || code != http.StatusPreconditionFailed {
			t.Errorf("%s with the stale If-Match %s = %d (%v), want 412", method, v1, code, err)
		}
	}
	if code, err := send(ctx, api, http.MethodGet, path, nil, http.Header{"If-None-Match": {fmt.Sprintf(`"%d.2"`, id)}}); err != nil || code != http.StatusNotModified {
		t.Errorf("GET with the current If-None-Match = %d (%v), want 304", code, err)
	}
	if got := api.expect(http.StatusOK, http.MethodGet, path, nil); got["views"] != float64(1) || got["version"] != float64(2) {
		t.Errorf("after the refused writes: views %v, version %v; want 1, 2", got["views"], got["version"])
	}
}

// checkTimesAreInstants: a time sent with an offset is stored as its instant, and a server
// not in UTC finds what it created a minute ago by created_at.
func checkTimesAreInstants(t *testing.T, api *apiClient) {
	t.Helper()
	before := time.Now().Add(-time.Minute)
	out := api.expect(http.StatusCreated, http.MethodPost, "/articles", map[string]any{"title": "time", "body": "b", "published_at": "2024-03-01T12:00:00+02:00"})
	if out["published_at"] != "2024-03-01T10:00:00Z" {
		t.Errorf("published_at sent as 2024-03-01T12:00:00+02:00 answered as %v, want 2024-03-01T10:00:00Z", out["published_at"])
	}
	for _, q := range []string{
		"published_at=2024-03-01T10:00:00Z",
		"published_at_gte=2024-03-01T09:59:59.5Z&published_at_lt=" + url.QueryEscape("2024-03-01T05:00:00.5-05:00"),
		"created_at_gte=" + url.QueryEscape(before.Format(time.RFC3339)) + "&published_at_gt=2024-01-01T00:00:00Z",
	} {
		list := api.expect(http.StatusOK, http.MethodGet, "/articles?"+q, nil)
		items, _ := list["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["id"] != out["id"] {
			t.Errorf("GET /articles?%s = %v, want the article %v only", q, items, out["id"])
		}
	}
}

// send sends a JSON request with header and returns the status; it may run in any
// goroutine.
func send(ctx context.Context, api *apiClient, method, path string, body any, header http.Header) (int, error) {
	var payload io.Reader
	if body != nil && method != http.MethodGet && method != http.MethodDelete {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		payload = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, api.baseURL+path, payload)
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := api.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}
