package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"myblog/pkg/setting"
)

func TestCORSFollowsTheSettings(t *testing.T) {
	gin.SetMode(gin.TestMode)
	if h, err := CORS(setting.Default().CORS); h != nil || err != nil {
		t.Fatalf("CORS of the defaults = %v, %v; want no middleware: same-origin only", h, err)
	}
	cfg := setting.Default().CORS
	cfg.AllowOrigins = "https://app.example.com"
	h, err := CORS(cfg)
	if err != nil || h == nil {
		t.Fatalf("CORS(%+v) = %v, %v", cfg, h, err)
	}
	r := gin.New()
	r.Use(h)
	r.GET("/api/v1/items", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	for _, tc := range []struct {
		origin, want string
	}{
		{"https://app.example.com", "https://app.example.com"},
		{"https://evil.example.net", ""},
	} {
		req := httptest.NewRequest(http.MethodOptions, "/api/v1/items", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodGet)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin = %q, want %q", tc.origin, got, tc.want)
		}
	}
}
