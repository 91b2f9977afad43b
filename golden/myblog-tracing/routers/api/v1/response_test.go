package v1

import (
	"bufio"
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"myblog/internal/apitest"
	"myblog/internal/dbtest"
	"myblog/middleware"
)

// The helpers below are shared by the tests of every resource (routers/api/v1/*_test.go).

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// newTestDB returns a database of the test's own with every model migrated (see
// internal/dbtest).
func newTestDB(t *testing.T) *gorm.DB {
	t.Helper()
	db := dbtest.Open(t)
	// The tests provoke failing queries on purpose; they check the errors themselves.
	return db.Session(&gorm.Session{Logger: db.Logger.LogMode(logger.Silent)})
}

// newTestAPI returns a handler serving every resource under /api/v1, as the server does.
func newTestAPI(t *testing.T, db *gorm.DB) http.Handler {
	t.Helper()
	r := gin.New()
	Register(r.Group("/api/v1"), db)
	return r
}

// do sends a request to h: body is nil (no body), a string (sent as is) or a value sent as
// JSON. The response, and the request when it is accepted, must match the OpenAPI document
// (see internal/apitest).
func do(t *testing.T, h http.Handler, method, target string, body any) *httptest.ResponseRecorder {
	t.Helper()
	return doWith(t, h, method, target, body, nil)
}

// doWith is do with these request headers too.
func doWith(t *testing.T, h http.Handler, method, target string, body any, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	var payload []byte
	switch b := body.(type) {
	case nil:
	case string:
		payload = []byte(b)
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, target, bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	return apitest.New(t).Serve(t, h, req)
}

// queryValue is a value of a JSON response as a query parameter's value.
func queryValue(v any) string {
	switch v := v.(type) {
	case float64:
		return url.QueryEscape(strconv.FormatFloat(v, 'f', -1, 64))
	case string:
		return url.QueryEscape(v)
	}
	return url.QueryEscape(fmt.Sprint(v))
}

// decodeBody decodes a JSON response body.
func decodeBody[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("response body %q is not the JSON expected: %v", rec.Body.String(), err)
	}
	return v
}

// assertFields checks that every key of want has the same value in got, comparing the JSON
// forms (so that a time.Time sent matches the RFC 3339 string returned).
func assertFields(t *testing.T, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		b, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		var norm any
		if err := json.Unmarshal(b, &norm); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[k], norm) {
			t.Errorf("%s = %#v, want %#v", k, got[k], norm)
		}
	}
}

// testTime returns the n-th hour of 2024, in UTC and whole seconds, so that it survives the
// round trip through JSON and the database unchanged.
func testTime(n int) time.Time {
	return time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
}

func ptr[T any](v T) *T { return &v }

// withValue returns body with key set to value.
func withValue(body map[string]any, key string, value any) map[string]any {
	body[key] = value
	return body
}

// withoutKey returns body without key.
func withoutKey(body map[string]any, key string) map[string]any {
	delete(body, key)
	return body
}

func TestParsePageReadsPageAndPageSize(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        pagination
		bad         []string // the parameters a 400 must name
	}{
		{"no parameters give the first page of the default size", "", pagination{1, DefaultPageSize}, nil},
		{"both parameters are read", "page=3&page_size=10", pagination{3, 10}, nil},
		{"the maximum page size is accepted", "page_size=100", pagination{1, MaxPageSize}, nil},
		{"page 0 is refused", "page=0", pagination{}, []string{"page"}},
		{"a page that is not a number is refused", "page=two", pagination{}, []string{"page"}},
		{"a page beyond 32 bits is refused", "page=9999999999", pagination{}, []string{"page"}},
		{"a page size above the maximum is refused", "page_size=101", pagination{}, []string{"page_size"}},
		{"a negative page size is refused", "page_size=-1", pagination{}, []string{"page_size"}},
		{"both bad parameters are named", "page=x&page_size=0", pagination{}, []string{"page", "page_size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodGet, "/items?"+tc.query, nil)
			got, ok := parsePage(c)
			if len(tc.bad) == 0 {
				if !ok || got != tc.want {
					t.Fatalf("parsePage = %+v, %v; want %+v", got, ok, tc.want)
				}
				return
			}
			if ok || rec.Code != http.StatusBadRequest {
				t.Fatalf("parsePage = %+v, %v, status %d; want a 400", got, ok, rec.Code)
			}
			body := decodeBody[ErrorResponse](t, rec)
			for _, f := range tc.bad {
				if body.Fields[f] == "" {
					t.Errorf("the 400 %+v does not name %s", body, f)
				}
			}
		})
	}
	if off := (pagination{page: 3, size: 10}).offset(); off != 20 {
		t.Errorf("offset of page 3 of 10 = %d, want 20", off)
	}
}

func TestAPageTellsTheTotalOnlyWhenItIsTheLastOrAnEmptyFirst(t *testing.T) {
	for _, tc := range []struct {
		page, size, n int
		total         int64
		known         bool
	}{
		{1, 20, 0, 0, true},    // nothing at all
		{1, 20, 3, 3, true},    // the only page
		{3, 10, 4, 24, true},   // the last page
		{1, 20, 20, 0, false},  // a full page: more may follow
		{2, 10, 10, 0, false},  // the same after the first
		{5, 10, 0, 0, false},   // beyond the last page: the total is unknown
		{1, 100, 99, 99, true}, // one short of the largest page
	} {
		total, known := pagination{page: tc.page, size: tc.size}.totalOf(tc.n)
		if total != tc.total || known != tc.known {
			t.Errorf("page %d of %d with %d items: total %d, %v; want %d, %v", tc.page, tc.size, tc.n, total, known, tc.total, tc.known)
		}
	}
}

func TestParseIDAcceptsOnlyPositiveWholeNumbers(t *testing.T) {
	for param, want := range map[string]uint{"1": 1, "42": 42, "0": 0, "-1": 0, "abc": 0, "1.5": 0} {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Params = gin.Params{gin.Param{Key: "id", Value: param}}
		got, ok := parseID(c)
		switch {
		case want != 0 && (!ok || got != want):
			t.Errorf("parseID(%q) = %d, %v; want %d", param, got, ok, want)
		case want == 0 && (ok || rec.Code != http.StatusBadRequest || decodeBody[ErrorResponse](t, rec).Fields["id"] == ""):
			t.Errorf("parseID(%q) = %d, %v, status %d; want a 400 naming id", param, got, ok, rec.Code)
		}
	}
}

// sampleBody exercises the binder with every kind of field a resource has.
type sampleBody struct {
	Title string     `json:"title" validate:"required,notblank,max=5"`
	Views *int       `json:"views" validate:"required"`
	Score float64    `json:"score"`
	Seen  bool       `json:"seen"`
	At    *time.Time `json:"at"`
	Owner uint       `json:"owner_id"`
}

func TestBinderRefusesReadOnlyFieldsByName(t *testing.T) {
	b := newBinder(readOnly("owner_id", "is set by the server"))
	var req sampleBody
	status, resp := b.decode(strings.NewReader(`{"title": "a", "views": 1, "owner_id": 2}`), &req)
	if resp == nil || status != http.StatusBadRequest || resp.Fields["owner_id"] != "is set by the server" {
		t.Fatalf("decode of a body setting owner_id = %d %+v, want 400 naming owner_id", status, resp)
	}
	if status, resp := b.decode(strings.NewReader(`{"title": "a", "views": 1}`), &req); resp != nil {
		t.Errorf("decode of a body without owner_id = %d %+v, want it accepted", status, resp)
	}
}

func TestBindJSONUnderTakesTheParentFromThePath(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
		message    string
	}{
		{"left out", `{"title": "a", "views": 1}`, true, ""},
		{"another id", `{"title": "a", "views": 1, "owner_id": 8}`, false, "is the id in the path; leave it out"},
		{"the same id", `{"title": "a", "views": 1, "owner_id": 7}`, false, "is the id in the path; leave it out"},
		{"null", `{"title": "a", "views": 1, "owner_id": null}`, false, "is the id in the path; leave it out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			var req sampleBody
			ok := newBinder().bindJSONUnder(c, &req, "owner_id", 7)
			switch {
			case ok != tc.ok:
				t.Fatalf("bindJSONUnder = %v (%d %s), want %v", ok, rec.Code, rec.Body, tc.ok)
			case ok && req.Owner != 7:
				t.Errorf("owner_id = %d, want 7 from the path", req.Owner)
			case !ok && (rec.Code != http.StatusBadRequest || decodeBody[ErrorResponse](t, rec).Fields["owner_id"] != tc.message):
				t.Errorf("answer %d %s, want 400 with owner_id: %s", rec.Code, rec.Body, tc.message)
			}
		})
	}
}

func TestBinderNamesEveryOffendingField(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		fields     map[string]string // the fields the error must name, with their message
		errorHas   string            // a part of the error message
	}{
		{"an empty body", "", http.StatusBadRequest, nil, "empty"},
		{"malformed JSON", `{"title":`, http.StatusBadRequest, nil, "malformed JSON"},
		{"an array", `[1]`, http.StatusBadRequest, nil, "JSON object"},
		{"null", `null`, http.StatusBadRequest, nil, "JSON object"},
		{"a missing required field", `{"views": 1}`, http.StatusBadRequest, map[string]string{"title": "is required"}, "validation failed"},
		{"a required pointer left out", `{"title": "a"}`, http.StatusBadRequest, map[string]string{"views": "is required"}, "validation failed"},
		{"a string too long", `{"title": "abcdef", "views": 1}`, http.StatusBadRequest, map[string]string{"title": "must be at most 5 characters"}, "validation failed"},
		{"a number for a string", `{"title": 5, "views": 1}`, http.StatusBadRequest, map[string]string{"title": "must be a string"}, "invalid fields"},
		{"a string for a number", `{"title": "a", "views": "many"}`, http.StatusBadRequest, map[string]string{"views": "must be a whole number"}, "invalid fields"},
		{"a fraction for a whole number", `{"title": "a", "views": 1.5}`, http.StatusBadRequest, map[string]string{"views": "must be a whole number"}, "invalid fields"},
		{"a negative unsigned number", `{"title": "a", "views": 1, "owner_id": -1}`, http.StatusBadRequest, map[string]string{"owner_id": "must be a whole number from 0 up"}, "invalid fields"},
		{"a bad boolean", `{"title": "a", "views": 1, "seen": "yes"}`, http.StatusBadRequest, map[string]string{"seen": "must be true or false"}, "invalid fields"},
		{"a bad time", `{"title": "a", "views": 1, "at": "yesterday"}`, http.StatusBadRequest, map[string]string{"at": "must be a time in RFC 3339 format, e.g. 2006-01-02T15:04:05Z"}, "invalid fields"},
		{"two bad fields at once", `{"title": 1, "score": "x", "views": 1}`, http.StatusBadRequest, map[string]string{"title": "must be a string", "score": "must be a number"}, "invalid fields"},
		{"a bad type and a missing field at once", `{"views": "many"}`, http.StatusBadRequest, map[string]string{"views": "must be a whole number", "title": "is required"}, "invalid fields"},
		{"an unknown field", `{"title": "a", "views": 1, "titel": "b"}`, http.StatusBadRequest, map[string]string{"titel": "is not a field of this resource"}, "invalid fields"},
		{"a generated field", `{"title": "a", "views": 1, "id": 5}`, http.StatusBadRequest, map[string]string{"id": "is not a field of this resource"}, "invalid fields"},
		{"a required string of spaces only", `{"title": " \t ", "views": 1}`, http.StatusBadRequest, map[string]string{"title": "must not be blank"}, "validation failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req sampleBody
			status, resp := newBinder().decode(strings.NewReader(tc.body), &req)
			if resp == nil || status != tc.status {
				t.Fatalf("decode(%q) = %d %+v, want %d", tc.body, status, resp, tc.status)
			}
			if !strings.Contains(resp.Error, tc.errorHas) {
				t.Errorf("error %q does not say %q", resp.Error, tc.errorHas)
			}
			if len(resp.Fields) != len(tc.fields) {
				t.Errorf("fields = %v, want %v", resp.Fields, tc.fields)
			}
			for f, msg := range tc.fields {
				if resp.Fields[f] != msg {
					t.Errorf("fields[%s] = %q, want %q", f, resp.Fields[f], msg)
				}
			}
		})
	}
}

func TestBinderFillsAValidRequest(t *testing.T) {
	var req sampleBody
	body := `{"title": "hi", "views": 0, "score": 1.5, "seen": true, "at": "2024-01-01T02:00:00Z", "owner_id": 7}`
	if status, resp := newBinder().decode(strings.NewReader(body), &req); resp != nil {
		t.Fatalf("decode = %d %+v, want success", status, resp)
	}
	want := sampleBody{Title: "hi", Views: ptr(0), Score: 1.5, Seen: true, At: ptr(testTime(2)), Owner: 7}
	if req.Title != want.Title || *req.Views != *want.Views || req.Score != want.Score || req.Seen != want.Seen ||
		!req.At.Equal(*want.At) || req.Owner != want.Owner {
		t.Errorf("decoded %+v, want %+v", req, want)
	}
}

func TestBindJSONAnswers413ForAnOversizedBody(t *testing.T) {
	r := gin.New()
	b := newBinder()
	r.POST("/", func(c *gin.Context) {
		var req sampleBody
		if b.bindJSON(c, &req) {
			c.Status(http.StatusNoContent)
		}
	})
	huge := `{"title": "` + strings.Repeat("x", MaxBodyBytes) + `"}`
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(huge)))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", rec.Code)
	}
	if body := decodeBody[ErrorResponse](t, rec); !strings.Contains(body.Error, "larger than") {
		t.Errorf("error = %q, want it to say the body is too large", body.Error)
	}
}

// A client that sends its headers and then trickles its body is cut off by the body's
// minimum rate (middleware.BodyDeadline) and told so with 408, not 400.
func TestASlowBodyIsAnswered408(t *testing.T) {
	r := gin.New()
	r.Use(middleware.BodyDeadline(1000, 200*time.Millisecond, 10*time.Second))
	b := newBinder()
	r.POST("/", func(c *gin.Context) {
		var req sampleBody
		if b.bindJSON(c, &req) {
			c.Status(http.StatusNoContent)
		}
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The test's bound, not a timing goal: the server must answer long before it.
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"title\": \""); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a trickled body: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status = %d, want 408", resp.StatusCode)
	}
}

func TestErrorsAreNotHTMLEscaped(t *testing.T) {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	respondError(c, http.StatusBadRequest, "bad <b>&</b>", map[string]string{"x": "a < b"})
	if got := rec.Body.String(); !strings.Contains(got, `"bad <b>&</b>"`) || !strings.Contains(got, `"a < b"`) {
		t.Errorf("error body = %s, want the text as is, not HTML-escaped", got)
	}
	if !c.IsAborted() {
		t.Error("respondError did not abort the request")
	}
}

func TestListResponseKeepsItsShape(t *testing.T) {
	b, err := json.Marshal(ListResponse[int]{Items: []int{}, Total: 0, Page: 1, PageSize: DefaultPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"items":[],"total":0,"page":1,"page_size":20}`; got != want {
		t.Errorf("list JSON = %s, want %s", got, want)
	}
	b, err = json.Marshal(ErrorResponse{Error: "validation failed", Fields: map[string]string{"title": "is required"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"error":"validation failed","fields":{"title":"is required"}}`; got != want {
		t.Errorf("error JSON = %s, want %s", got, want)
	}
}

// owner and pet are tables of this test only, related by a foreign key.
type owner struct {
	ID   uint
	Name string `gorm:"size:64;uniqueIndex"`
}

type pet struct {
	ID      uint
	OwnerID uint
	Owner   *owner
}

func TestDatabaseConstraintsAreReportedPortably(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	if err := db.AutoMigrate(&owner{}, &pet{}); err != nil {
		t.Fatal(err)
	}
	ann := owner{Name: "ann"}
	if err := db.Create(&ann).Error; err != nil {
		t.Fatal(err)
	}

	err := translateDBError(db, db.Create(&owner{Name: "ann"}).Error)
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Errorf("a second owner named ann: err = %v, want gorm.ErrDuplicatedKey", err)
	}
	if ok, err := taken(ctx, db, &owner{}, "name", "ann", 0); err != nil || !ok {
		t.Errorf("taken(name ann) for a new row = %v, %v; want true", ok, err)
	}
	if ok, err := taken(ctx, db, &owner{}, "name", "ann", ann.ID); err != nil || ok {
		t.Errorf("taken(name ann) for ann herself = %v, %v; want false", ok, err)
	}

	err = translateDBError(db, db.Create(&pet{OwnerID: ann.ID + 100}).Error)
	if !errors.Is(err, gorm.ErrForeignKeyViolated) {
		t.Errorf("a pet of a missing owner: err = %v, want gorm.ErrForeignKeyViolated (are foreign keys on?)", err)
	}
	if ok, err := exists(ctx, db, &owner{}, ann.ID+100); err != nil || ok {
		t.Errorf("exists(missing owner) = %v, %v; want false", ok, err)
	}
	if ok, err := exists(ctx, db, &owner{}, ann.ID); err != nil || !ok {
		t.Errorf("exists(ann) = %v, %v; want true", ok, err)
	}

	if err := db.Create(&pet{OwnerID: ann.ID}).Error; err != nil {
		t.Fatal(err)
	}
	err = translateDBError(db, db.Delete(&owner{}, ann.ID).Error)
	if !errors.Is(err, gorm.ErrForeignKeyViolated) {
		t.Errorf("deleting an owner with a pet: err = %v, want gorm.ErrForeignKeyViolated", err)
	}
}

func TestRespondInternalAnswers503WhileTheDatabaseIsUnreachable(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		want       int
		retryAfter string
	}{
		{"a broken connection", fmt.Errorf("list: %w", driver.ErrBadConn), http.StatusServiceUnavailable, unavailableRetryAfter},
		{"any other error", errors.New("no such column"), http.StatusInternalServerError, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/things", nil)
			respondInternal(c, tc.err)
			if rec.Code != tc.want || rec.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("status %d, Retry-After %q; want %d, %q", rec.Code, rec.Header().Get("Retry-After"), tc.want, tc.retryAfter)
			}
			body := decodeBody[ErrorResponse](t, rec)
			if body.Error == "" || strings.Contains(body.Error, tc.err.Error()) {
				t.Errorf("error %q: want a message that does not reveal the cause", body.Error)
			}
		})
	}
}

// TestRespondInternalRecordsAClientThatWentAway: an error caused by the end of the request's
// context is the client's doing, recorded as 499 and logged below error level.
func TestRespondInternalRecordsAClientThatWentAway(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/things", nil)
	respondInternal(c, fmt.Errorf("save thing: wait to write: %w", context.Canceled))
	if got := c.Writer.Status(); got != StatusClientClosedRequest {
		t.Errorf("status %d, want %d", got, StatusClientClosedRequest)
	}
	if !strings.Contains(logs.String(), `"level":"INFO"`) || strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("logged %q, want one info line", logs.String())
	}
	// The same error while the request is still on: a server error.
	rec = httptest.NewRecorder()
	c, _ = gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodPost, "/api/v1/things", nil)
	respondInternal(c, fmt.Errorf("save thing: %w", context.Canceled))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d for a canceled operation of a live request, want 500", rec.Code)
	}
}
