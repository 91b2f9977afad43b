package v1

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"
)

// conditional is a gin context of a request with the given If-Match and If-None-Match values.
func conditional(ifMatch, ifNoneMatch []string) (*gin.Context, *httptest.ResponseRecorder) {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	for _, v := range ifMatch {
		c.Request.Header.Add("If-Match", v)
	}
	for _, v := range ifNoneMatch {
		c.Request.Header.Add("If-None-Match", v)
	}
	return c, rec
}

func TestEntityTagsKeepWellFormedTagsOnly(t *testing.T) {
	got := entityTags([]string{`"3.7", W/"3.8" ,*`, `3.9, "a"b", "", W/x`})
	want := []string{`"3.7"`, `W/"3.8"`, `*`, `""`}
	if !slices.Equal(got, want) {
		t.Errorf("entityTags = %q, want %q", got, want)
	}
	if tag := etag(3, 7); tag != `"3.7"` {
		t.Errorf(`etag(3, 7) = %s, want "3.7"`, tag)
	}
}

func TestIfMatchComparesStronglyAndOnlyForItsRow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		header  []string
		version uint64
		want    bool
	}{
		{"no If-Match", nil, 7, true},
		{"the current version", []string{`"3.7"`}, 7, true},
		{"a stale version", []string{`"3.6"`}, 7, false},
		{"one of several tags", []string{`"3.5", "3.7"`}, 7, true},
		{"a weak tag never matches a write", []string{`W/"3.7"`}, 7, false},
		{"another row's tag", []string{`"4.7"`}, 7, false},
		{"any version", []string{`*`}, 7, true},
		{"only malformed tags", []string{`3.7`}, 7, false},
	} {
		c, _ := conditional(tc.header, nil)
		if got := ifMatch(c, 3).check(tc.version); got != tc.want {
			t.Errorf("%s: If-Match %q on row 3 at version %d = %v, want %v", tc.name, tc.header, tc.version, got, tc.want)
		}
	}
}

func TestIfNoneMatchComparesWeakly(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{`"3.7"`}, true},
		{[]string{`W/"3.7"`}, true},
		{[]string{`"3.6", "3.7"`}, true},
		{[]string{`"3.6"`}, false},
		{[]string{`*`}, true},
	} {
		c, _ := conditional(nil, tc.header)
		if got := notModified(c, etag(3, 7)); got != tc.want {
			t.Errorf("If-None-Match %q against %s = %v, want %v", tc.header, etag(3, 7), got, tc.want)
		}
	}
	c, rec := conditional(nil, nil)
	respondNotModified(c, 3, 7)
	if rec.Code != http.StatusNotModified || rec.Header().Get("ETag") != `"3.7"` || rec.Body.Len() != 0 {
		t.Errorf("respondNotModified: %d, ETag %q, body %q; want 304, \"3.7\", none", rec.Code, rec.Header().Get("ETag"), rec.Body)
	}
}

func TestSentFieldIsEveryFieldWithoutAList(t *testing.T) {
	if !sentField(nil, "title") || !sentField([]string{"title"}, "title") || sentField([]string{"views"}, "title") {
		t.Error("sentField: want every field for nil, and only the listed ones otherwise")
	}
}
