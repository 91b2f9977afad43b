package routers

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"

	"myblog/models"
	"myblog/pkg/setting"
)

func newTestRouter(t *testing.T) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.TestMode)
	db, err := models.Open(setting.Database{Type: "sqlite", DSN: filepath.Join(t.TempDir(), "test.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	if err := models.Migrate(db); err != nil {
		t.Fatal(err)
	}
	return New(Deps{DB: db, Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func get(t *testing.T, h http.Handler, method, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body.String(), err)
	}
	return rec.Code, body
}

func TestHealthzReportsVersionAndPid(t *testing.T) {
	code, body := get(t, newTestRouter(t), http.MethodGet, "/healthz")
	if code != http.StatusOK {
		t.Fatalf("status = %d, want 200", code)
	}
	if body["status"] != "ok" || body["version"] != "test" || body["pid"] != float64(os.Getpid()) {
		t.Errorf("body = %v, want status ok, version test, pid %d", body, os.Getpid())
	}
}

func TestReadyzPingsTheDatabase(t *testing.T) {
	code, body := get(t, newTestRouter(t), http.MethodGet, "/readyz")
	if code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("GET /readyz = %d %v, want 200 ok", code, body)
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	h := newTestRouter(t)
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"an unknown path is 404", http.MethodGet, "/api/v1/nothing-here", http.StatusNotFound},
		{"a wrong method is 405", http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, h, tc.method, tc.path)
			if code != tc.want || body["error"] == nil {
				t.Errorf("%s %s = %d %v, want %d with an error message", tc.method, tc.path, code, body, tc.want)
			}
		})
	}
}
