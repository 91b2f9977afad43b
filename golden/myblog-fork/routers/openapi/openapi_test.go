package openapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"myblog/internal/apitest"
	"myblog/routers/openapi"
)

// The document's validity is checked through apitest, the one package that imports the
// OpenAPI libraries (see its package comment).
func TestTheDocumentIsValidOpenAPI31(t *testing.T) {
	version, problems, err := apitest.Document()
	if err != nil {
		t.Fatal(err)
	}
	if version != "3.1.0" {
		t.Errorf("OpenAPI version = %q, want 3.1.0", version)
	}
	for _, p := range problems {
		t.Errorf("openapi.json breaks the OpenAPI 3.1 schema: %s", p)
	}
}

func TestHandlerServesTheDocument(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/openapi.json", openapi.Handler)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("GET /openapi.json = %d %q, want 200 JSON", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Errorf("GET /openapi.json: %v, openapi = %v; want the 3.1.0 document", err, doc["openapi"])
	}
}
