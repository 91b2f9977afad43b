package routers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"myblog/internal/apitest"
	"myblog/models"
)

// TestTheRoutesAnswerAsTheOpenAPIDocumentSays checks the real answers of the routes every
// project has against routers/openapi/openapi.json; the resources' tests check theirs.
func TestTheRoutesAnswerAsTheOpenAPIDocumentSays(t *testing.T) {
	h := newTestRouter(t, &testDB{state: models.DBState{Up: true}})
	check := apitest.New(t)
	for _, tc := range []struct {
		method, target string
		body           string
		want           int
	}{
		{http.MethodGet, "/healthz", "", http.StatusOK},
		{http.MethodGet, "/readyz", "", http.StatusOK},
		{http.MethodGet, "/openapi.json", "", http.StatusOK},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			if rec := check.Serve(t, h, req); rec.Code != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.target, rec.Code, rec.Body, tc.want)
			}
		})
	}
}
