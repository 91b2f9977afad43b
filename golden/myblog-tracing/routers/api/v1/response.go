package v1

// The response shape every resource of the API shares:
//
//	list    200  {"items": [...], "total": 42, "page": 2, "page_size": 10}
//	one     200 (201 on create)  the item itself: {"id": 1, "created_at": "...", ...}
//	delete  204  no body
//	error   4xx, 5xx  {"error": "validation failed", "fields": {"title": "is required"}}
//	        503 (with Retry-After) while the database cannot be reached
//
// "fields" names each offending field by its JSON name; it is present for invalid request
// bodies and query parameters (400) and for conflicts with existing records (409).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"
	"github.com/go-playground/validator/v10/non-standard/validators"
	"gorm.io/gorm"

	"myblog/models"
)

const (
	// DefaultPageSize is the page size of a list request without page_size.
	DefaultPageSize = 20
	// MaxPageSize bounds page_size, so that no request reads a whole table at once.
	MaxPageSize = 100
	// MaxBodyBytes bounds a request body; a larger one is answered 413.
	MaxBodyBytes = 1 << 20
)

// ListResponse is the body of a list response: one page of items, the number of items in
// all pages, and the page's place.
type ListResponse[T any] struct {
	Items    []T   `json:"items"`
	Total    int64 `json:"total"`
	Page     int   `json:"page"`
	PageSize int   `json:"page_size"`
}

// ErrorResponse is the body of every error response.
type ErrorResponse struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields,omitempty"`
}

// respondError aborts the request with an error response. Its text is not HTML-escaped
// (gin's PureJSON): a message quoting `<b>` reads `<b>`, not `\u003cb\u003e`.
func respondError(c *gin.Context, status int, msg string, fields map[string]string) {
	c.Abort()
	c.PureJSON(status, ErrorResponse{Error: msg, Fields: fields})
}

// unavailableRetryAfter is the Retry-After of a 503: about when a database that is down is
// worth trying again.
const unavailableRetryAfter = "5"

// StatusClientClosedRequest is the status the access log and the metrics record for a request
// whose client went away before its answer: nginx's 499, not a server error.
const StatusClientClosedRequest = 499

// respondInternal logs err and answers 500 without revealing it, or 503 when err says that
// the database is unreachable or shutting down (models.IsUnavailable): the same request may
// succeed once it is back. An err caused by the end of the request's context (the client
// went away) is StatusClientClosedRequest, logged at info level.
func respondInternal(c *gin.Context, err error) {
	if ctxErr := c.Request.Context().Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		// The client went away (or the server's own deadline passed) before the answer: no
		// fault of the server's, and nobody reads the answer.
		slog.InfoContext(c.Request.Context(), "request abandoned",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Any("error", err))
		c.AbortWithStatus(StatusClientClosedRequest)
		return
	}
	if models.IsUnavailable(err) {
		slog.WarnContext(c.Request.Context(), "database unavailable",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Any("error", err))
		c.Header("Retry-After", unavailableRetryAfter)
		respondError(c, http.StatusServiceUnavailable, "database unavailable; try again later", nil)
		return
	}
	slog.ErrorContext(c.Request.Context(), "request failed",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Any("error", err))
	respondError(c, http.StatusInternalServerError, "internal error", nil)
}

// pagination is the page a list request asks for; page counts from 1.
type pagination struct {
	page, size int
}

func (p pagination) offset() int { return (p.page - 1) * p.size }

// totalOf returns the total number of items when a page of n items of p tells it, without
// counting: a page with fewer items than its size is the last one (n > 0), and an empty first
// page means no items. A full page, or an empty one after the first, does not tell.
func (p pagination) totalOf(n int) (int64, bool) {
	if n < p.size && (n > 0 || p.page == 1) {
		return int64(p.offset() + n), true
	}
	return 0, false
}

// setListHeaders sets the headers of a list response: X-Total-Count, the number of items in
// all pages, and Link (RFC 8288), the first, previous, next and last pages as URI references
// relative to the request, with its other parameters kept. prev and next are left out on the
// first and last page; a page past the end has a prev, the last page.
func setListHeaders(c *gin.Context, p pagination, total int64) {
	c.Header("X-Total-Count", strconv.FormatInt(total, 10))
	last := max(1, (total+int64(p.size)-1)/int64(p.size))
	// The path and the parameters are read once; each link sets its page in them.
	path := (&url.URL{Path: c.Request.URL.Path}).RequestURI()
	q := c.Request.URL.Query()
	var links strings.Builder
	link := func(page int64, rel string) {
		if links.Len() > 0 {
			links.WriteString(", ")
		}
		q.Set("page", strconv.FormatInt(page, 10))
		links.WriteString("<" + path + "?" + q.Encode() + `>; rel="` + rel + `"`)
	}
	page := int64(p.page)
	link(1, "first")
	if page > 1 {
		link(min(page-1, last), "prev")
	}
	if page < last {
		link(page+1, "next")
	}
	link(last, "last")
	c.Header("Link", links.String())
}

// parsePage reads the page and page_size query parameters. On a bad value it answers 400,
// naming the parameter, and returns false.
func parsePage(c *gin.Context) (pagination, bool) {
	p := pagination{page: 1, size: DefaultPageSize}
	fields := map[string]string{}
	if s, ok := c.GetQuery("page"); ok {
		// 32 bits keep the offset, (page-1)*page_size, far from overflowing.
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n < 1 {
			fields["page"] = "must be a whole number from 1 up"
		}
		p.page = int(n)
	}
	if s, ok := c.GetQuery("page_size"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			fields["page_size"] = fmt.Sprintf("must be a whole number from 1 to %d", MaxPageSize)
		}
		p.size = n
	}
	if len(fields) > 0 {
		respondError(c, http.StatusBadRequest, "invalid query parameters", fields)
		return pagination{}, false
	}
	return p, true
}

// parseID reads the :id path parameter. On a bad value it answers 400 and returns false.
func parseID(c *gin.Context) (uint, bool) {
	// 63 bits: every database stores ids as signed 64-bit integers.
	id, err := strconv.ParseUint(c.Param("id"), 10, 63)
	if err != nil || id == 0 {
		respondError(c, http.StatusBadRequest, "invalid id", map[string]string{"id": "must be a whole number from 1 up"})
		return 0, false
	}
	return uint(id), true
}

// binder decodes and validates request bodies. Its validator is its own, not gin's shared
// one, and names fields by their JSON names, as clients spell them.
type binder struct {
	validate *validator.Validate
	// readOnly are keys of the resource that bodies must not set, with the reason: fields
	// the server fills in itself (an owner, from the token).
	readOnly map[string]string
}

// readOnlyField is a key request bodies must not set, and the reason told to the client.
type readOnlyField struct{ key, why string }

// readOnly names a field newBinder's bodies must not set.
func readOnly(key, why string) readOnlyField { return readOnlyField{key: key, why: why} }

func newBinder(fixed ...readOnlyField) *binder {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(jsonName)
	// notblank refuses a string of spaces only, which "required" lets through.
	if err := v.RegisterValidation("notblank", validators.NotBlank); err != nil {
		panic(fmt.Sprintf("register notblank: %v", err)) // only a programming error: a bad tag name
	}
	b := &binder{validate: v, readOnly: map[string]string{}}
	for _, f := range fixed {
		b.readOnly[f.key] = f.why
	}
	return b
}

// jsonName is a struct field's name in JSON, or "" for a field JSON skips.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// bindJSON decodes the request body, a JSON object whatever the Content-Type, into dst (a
// pointer to a struct with json and validate tags) and validates it. On failure it answers
// 400 (413 for a body over MaxBodyBytes) naming every offending field, and returns false.
func (b *binder) bindJSON(c *gin.Context, dst any) bool {
	_, ok := b.bind(c, dst, false)
	return ok
}

// bindJSONUnder is bindJSON for a create under a parent the path names
// (POST /api/v1/articles/:id/comments): key, the reference to the parent, takes the path's
// id. A body that sets key is refused naming it, even to that id: the document leaves key
// out of the body, and the server accepts what the document allows, no more.
func (b *binder) bindJSONUnder(c *gin.Context, dst any, key string, id uint) bool {
	_, status, resp := b.decodeFields(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes), dst, false, &pathValue{key: key, id: id})
	if resp != nil {
		respondError(c, status, resp.Error, resp.Fields)
		return false
	}
	return true
}

// pathValue is a field a create under a parent takes from the path: its key and the id.
type pathValue struct {
	key string
	id  uint
}

// bindPatch is bindJSON for a PATCH body, which may leave fields out: it validates only the
// fields the body sets and returns their JSON names.
func (b *binder) bindPatch(c *gin.Context, dst any) ([]string, bool) {
	return b.bind(c, dst, true)
}

func (b *binder) bind(c *gin.Context, dst any, partial bool) ([]string, bool) {
	sent, status, resp := b.decodeFields(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes), dst, partial, nil)
	if resp != nil {
		respondError(c, status, resp.Error, resp.Fields)
		return nil, false
	}
	return sent, true
}

// decode is bindJSON without gin: it returns the status and body of the error response, or
// a nil body when dst is filled and valid.
func (b *binder) decode(r io.Reader, dst any) (int, *ErrorResponse) {
	_, status, resp := b.decodeFields(r, dst, false, nil)
	return status, resp
}

// nullable reports whether a field accepts JSON null: a pointer that is not required (an
// optional time, which the document declares nullable). Any other null is refused by name
// rather than read as the zero value.
func nullable(sf reflect.StructField) bool {
	return sf.Type.Kind() == reflect.Pointer && !slices.Contains(strings.Split(sf.Tag.Get("validate"), ","), "required")
}

// decodeFields is decode, which also returns the JSON names of the fields the body sets;
// partial validates only those (PATCH), not the fields it leaves out; under, when not nil,
// is a field the path sets (bindJSONUnder).
func (b *binder) decodeFields(r io.Reader, dst any, partial bool, under *pathValue) ([]string, int, *ErrorResponse) {
	body, err := io.ReadAll(r)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge, &ErrorResponse{Error: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
		}
		// The body came too slowly ([server] BodyMinRate): the connection is closed after this.
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, http.StatusRequestTimeout, &ErrorResponse{Error: "request body arrived too slowly"}
		}
		return nil, http.StatusBadRequest, &ErrorResponse{Error: "cannot read request body: " + err.Error()}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, http.StatusBadRequest, &ErrorResponse{Error: "request body is empty; send a JSON object"}
	}
	// Decode field by field, so that a value of the wrong type is reported under its field's
	// name (encoding/json does not name the field of a time that fails to parse).
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			return nil, http.StatusBadRequest, &ErrorResponse{Error: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
		}
		return nil, http.StatusBadRequest, &ErrorResponse{Error: "request body must be a JSON object"}
	}
	if raw == nil {
		return nil, http.StatusBadRequest, &ErrorResponse{Error: "request body must be a JSON object"}
	}
	fields := map[string]string{}
	if under != nil {
		if _, ok := raw[under.key]; ok {
			fields[under.key] = "is the id in the path; leave it out"
		}
		raw[under.key] = json.RawMessage(strconv.FormatUint(uint64(under.id), 10))
	}
	var sent, sentGo []string
	v := reflect.ValueOf(dst).Elem()
	known := map[string]bool{}
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		if !sf.IsExported() || jsonName(sf) == "" {
			continue
		}
		known[jsonName(sf)] = true
		value, ok := raw[jsonName(sf)]
		if !ok {
			continue
		}
		sent, sentGo = append(sent, jsonName(sf)), append(sentGo, sf.Name)
		if bytes.Equal(bytes.TrimSpace(value), []byte("null")) && !nullable(sf) {
			fields[jsonName(sf)] = "must not be null"
			continue
		}
		if err := json.Unmarshal(value, v.Field(i).Addr().Interface()); err != nil {
			fields[jsonName(sf)] = typeHint(sf.Type)
		}
	}
	// A key the resource does not have is refused rather than dropped: a typo (titel) would
	// otherwise be a silent no-op, and a generated field (id, created_at) is not the client's.
	for key := range raw {
		switch why, fixed := b.readOnly[key]; {
		case fixed:
			fields[key] = why
		case !known[key]:
			fields[key] = "is not a field of this resource"
		}
	}
	msg := "invalid fields"
	if len(fields) == 0 {
		msg = "validation failed"
	}
	// Validate too, so that one answer names every offending field; a field whose value had
	// the wrong type keeps that message.
	validate := func() error { return b.validate.Struct(dst) }
	if partial {
		validate = func() error {
			if len(sentGo) == 0 {
				return nil
			}
			return b.validate.StructPartial(dst, sentGo...)
		}
	}
	if err := validate(); err != nil {
		ves, ok := errors.AsType[validator.ValidationErrors](err)
		if !ok {
			return nil, http.StatusInternalServerError, &ErrorResponse{Error: "internal error"}
		}
		for _, fe := range ves {
			if _, seen := fields[fe.Field()]; !seen {
				fields[fe.Field()] = fieldMessage(fe)
			}
		}
	}
	if len(fields) > 0 {
		return nil, http.StatusBadRequest, &ErrorResponse{Error: msg, Fields: fields}
	}
	return sent, 0, nil
}

// typeHint says what a field of type t accepts, for a value of the wrong type.
func typeHint(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "must be a time in RFC 3339 format, e.g. 2006-01-02T15:04:05Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "must be a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "must be a whole number from 0 up"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	}
	return "has the wrong type"
}

// fieldMessage turns a failed validation rule into words.
func fieldMessage(fe validator.FieldError) string {
	unit := ""
	if fe.Kind() == reflect.String {
		unit = " characters"
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "notblank":
		return "must not be blank"
	case "max", "lte":
		return fmt.Sprintf("must be at most %s%s", fe.Param(), unit)
	case "min", "gte":
		return fmt.Sprintf("must be at least %s%s", fe.Param(), unit)
	case "email":
		return "must be an email address"
	case "oneof":
		return "must be one of " + fe.Param()
	}
	return fmt.Sprintf("fails the %q rule", fe.Tag())
}

// translateDBError maps the database driver's constraint errors to gorm's portable ones,
// gorm.ErrDuplicatedKey and gorm.ErrForeignKeyViolated, whether or not the gorm.Config
// enables TranslateError.
func translateDBError(db *gorm.DB, err error) error {
	if t, ok := db.Dialector.(gorm.ErrorTranslator); ok {
		return t.Translate(err)
	}
	return err
}

// exists reports whether model's table holds a row with this id.
func exists(ctx context.Context, db *gorm.DB, model any, id uint) (bool, error) {
	var n int64
	if err := db.WithContext(ctx).Model(model).Where("id = ?", id).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up id %d: %w", id, err)
	}
	return n > 0, nil
}

// taken reports whether a row of model's table other than the one with this id (0 for a row
// not yet created) holds value in column.
func taken(ctx context.Context, db *gorm.DB, model any, column string, value any, id uint) (bool, error) {
	var n int64
	err := db.WithContext(ctx).Model(model).Where(map[string]any{column: value}).Where("id <> ?", id).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", column, err)
	}
	return n > 0, nil
}
