package middleware

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

func TestALongURLIsAnswered414(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(URLLimit())
	r.GET("/items/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	for _, tc := range []struct {
		name   string
		target string
		want   int
	}{
		{"a URL at the limit", "/items/" + strings.Repeat("a", MaxURLBytes-len("/items/")), http.StatusNoContent},
		{"a path past the limit", "/items/" + strings.Repeat("a", MaxURLBytes), http.StatusRequestURITooLong},
		{"a query past the limit", "/items/1?q=" + strings.Repeat("a", MaxURLBytes), http.StatusRequestURITooLong},
		{"an unrouted path past the limit", "/" + strings.Repeat("a", 1<<20), http.StatusRequestURITooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if rec.Code != tc.want {
				t.Errorf("GET (%d bytes) = %d, want %d", len(tc.target), rec.Code, tc.want)
			}
		})
	}
}

func TestTheAccessLogCutsALongPath(t *testing.T) {
	r, buf := newLoggedEngine(t)
	long := "/items/" + strings.Repeat("é", 3000) // 6000 bytes, cut inside no character
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, long, nil))
	lines := logLines(t, buf)
	path, _ := lines[len(lines)-1]["path"].(string)
	if len(path) > MaxLogValueBytes+32 || !strings.HasSuffix(path, "more bytes]") || !utf8.ValidString(path) {
		t.Errorf("logged path of %d bytes = %.80q..., want at most %d bytes, valid UTF-8 and marked", len(path), path, MaxLogValueBytes)
	}
	if cut := strings.LastIndex(path, "...["); cut < 0 || !strings.HasPrefix(long, path[:cut]) {
		t.Errorf("logged path %.80q... is not the start of the request's", path)
	}
}

func TestLogLinesBoundEveryString(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	huge := strings.Repeat("x", 100_000)
	logger.Error(huge, "value", huge, "error", errors.New(huge), slog.Group("g", "inner", huge), "stack", huge, "short", "kept")
	lines := logLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("want one line, got %d", len(lines))
	}
	line := lines[0]
	g, _ := line["g"].(map[string]any)
	for name, v := range map[string]any{"msg": line["msg"], "value": line["value"], "error": line["error"], "g.inner": g["inner"]} {
		if s, _ := v.(string); len(s) > maxLogStringBytes+32 || !strings.HasSuffix(s, "more bytes]") {
			t.Errorf("%s has %d bytes, want at most %d and marked", name, len(s), maxLogStringBytes)
		}
	}
	if s, _ := line["stack"].(string); len(s) != len(huge) {
		t.Errorf("stack has %d bytes, want it whole (%d)", len(s), len(huge))
	}
	if line["short"] != "kept" {
		t.Errorf("short = %v, want kept", line["short"])
	}
}
