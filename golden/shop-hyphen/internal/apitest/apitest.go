// Package apitest checks real requests and responses of the API against its OpenAPI document
// (routers/openapi), with pb33f/libopenapi-validator, and the items of comma-separated list
// parameters, which that validator checks only for their type, with pb33f/jsonschema (the
// JSON Schema library it uses itself). Only tests import it.
//
// Its exported API, and the fields of its types, use only the standard library: a package
// that imports it then compiles without reading the libraries' export data. Importing
// libopenapi costs the compiler about 18 CPU-seconds in every package that does (its
// export data is tens of megabytes); here only this package pays it, once.
package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/errors"

	"github.com/acme/my-shop/routers/openapi"
)

// Checker holds a validator built from the document.
type Checker struct {
	// request and response check an exchange against the document, one problem a line
	// (closures over libopenapi-validator's validator; see the package comment).
	request  func(req *http.Request) []string
	response func(req *http.Request, resp *http.Response) []string
	// lists are the comma-separated list parameters (style form, explode false) of each
	// operation, by path template and method: the validator checks only the type of their
	// items, these schemas check them whole (bounds, formats, number of items).
	lists map[string]map[string][]listParam
	// multi are the query parameters that may be given more than once (exploded arrays),
	// by path template and method; any other given twice breaks the document.
	multi map[string]map[string][]string
}

// listParam is a query parameter whose value is a comma-separated list.
type listParam struct {
	name     string
	validate func(v any) error // the schema's Validate
	strings  bool              // its items are strings, where \, is a comma and \\ a backslash
	numbers  bool              // its items are numbers
	bools    bool
}

// shared is the Checker of every test of a test binary, built once: building one compiles
// every schema of the document (about a third of a second). It is set once and holds no
// state that a check changes.
var shared = sync.OnceValues(newChecker) //nolint:gochecknoglobals // an immutable cache, set once per test binary

// New returns the Checker of the embedded document, failing t when the document is not
// valid OpenAPI.
func New(t testing.TB) *Checker {
	t.Helper()
	c, err := shared()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newChecker() (*Checker, error) {
	doc, err := libopenapi.NewDocument(openapi.JSON())
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	// Tokens are the middleware's business (and its tests'); formats (date-time) are checked.
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions(), config.WithoutSecurityValidation())
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi.json: %v", errs)
	}
	lists, multi, err := listParams(openapi.JSON())
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	return &Checker{
		request: func(req *http.Request) []string {
			if ok, verrs := v.ValidateHttpRequest(req); !ok {
				return describe(verrs)
			}
			return nil
		},
		response: func(req *http.Request, resp *http.Response) []string {
			if ok, verrs := v.ValidateHttpResponse(req, resp); !ok {
				return describe(verrs)
			}
			return nil
		},
		lists: lists,
		multi: multi,
	}, nil
}

// Document parses the embedded document and checks it against the OpenAPI schema of its
// version. It returns the version the document declares, and what in it breaks that schema,
// one problem a line; err when it does not parse or does not build a model.
func Document() (version string, problems []string, err error) {
	doc, err := libopenapi.NewDocument(openapi.JSON())
	if err != nil {
		return "", nil, fmt.Errorf("openapi.json does not parse: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return doc.GetVersion(), nil, fmt.Errorf("openapi.json does not build a model: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			problems = append(problems, fmt.Sprintf("%s: %s", e.Message, e.Reason))
		}
	}
	return doc.GetVersion(), problems, nil
}

// listParams compiles the schemas of the document's comma-separated list parameters, and
// lists the parameters that may be repeated.
func listParams(raw []byte) (map[string]map[string][]listParam, map[string]map[string][]string, error) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]map[string]any `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, err
	}
	lists := map[string]map[string][]listParam{}
	multi := map[string]map[string][]string{}
	compiler := jsonschema.NewCompiler()
	compiler.AssertFormat()
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			var op struct {
				Parameters []map[string]any `json:"parameters"`
			}
			if method == "parameters" || json.Unmarshal(rawOp, &op) != nil {
				continue
			}
			for i, p := range op.Parameters {
				if ref, ok := p["$ref"].(string); ok {
					p = doc.Components.Parameters[strings.TrimPrefix(ref, "#/components/parameters/")]
				}
				schema, _ := p["schema"].(map[string]any)
				m := strings.ToUpper(method)
				if p["in"] == "query" && p["explode"] != false && schema["type"] == "array" {
					if multi[path] == nil {
						multi[path] = map[string][]string{}
					}
					multi[path][m] = append(multi[path][m], fmt.Sprint(p["name"]))
				}
				if p["in"] != "query" || p["explode"] != false || schema["type"] != "array" {
					continue
				}
				loc := fmt.Sprintf("urn:apitest:%s:%s:%d", method, path, i)
				if err := compiler.AddResource(loc, schema); err != nil {
					return nil, nil, fmt.Errorf("%s %s ?%s: %w", method, path, p["name"], err)
				}
				compiled, err := compiler.Compile(loc)
				if err != nil {
					return nil, nil, fmt.Errorf("%s %s ?%s: %w", method, path, p["name"], err)
				}
				items, _ := schema["items"].(map[string]any)
				lp := listParam{name: p["name"].(string), validate: compiled.Validate}
				switch items["type"] {
				case "integer", "number":
					lp.numbers = true
				case "boolean":
					lp.bools = true
				case "string":
					lp.strings = true
				}
				if lists[path] == nil {
					lists[path] = map[string][]listParam{}
				}
				lists[path][m] = append(lists[path][m], lp)
			}
		}
	}
	return lists, multi, nil
}

// checkQuery checks what the validator leaves out: that no parameter but an exploded array
// is given twice, and the values of req's list parameters against their schemas.
func (c *Checker) checkQuery(req *http.Request) []string {
	var problems []string
	query := req.URL.Query()
	for name, values := range query {
		if len(values) < 2 {
			continue
		}
		multi := false
		for path, ops := range c.multi {
			multi = multi || (matchPath(path, req.URL.Path) && slices.Contains(ops[req.Method], name))
		}
		if !multi {
			problems = append(problems, fmt.Sprintf("  - query parameter %s is given %d times; the document declares one value\n", name, len(values)))
		}
	}
	for path, ops := range c.lists {
		if !matchPath(path, req.URL.Path) {
			continue
		}
		for _, p := range ops[req.Method] {
			values, ok := query[p.name]
			if !ok || len(values) != 1 {
				continue
			}
			var items []any
			for _, part := range splitList(values[0], p.strings) {
				switch {
				case p.numbers && json.Valid([]byte(part)) && strings.Trim(part, "-0123456789.eE+") == "":
					items = append(items, json.Number(part))
				case p.bools && (part == "true" || part == "false"):
					items = append(items, part == "true")
				default:
					items = append(items, part)
				}
			}
			if err := p.validate(items); err != nil {
				problems = append(problems, fmt.Sprintf("  - query parameter %s=%s: %v\n", p.name, values[0], err))
			}
		}
	}
	return problems
}

// matchPath reports whether path matches the template, whose {name} segments match any
// non-empty segment.
func matchPath(template, path string) bool {
	want, got := strings.Split(template, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if strings.HasPrefix(want[i], "{") {
			if got[i] == "" {
				return false
			}
		} else if want[i] != got[i] {
			return false
		}
	}
	return true
}

// splitList splits a list parameter's value at its commas; in strings, \, is a comma and \\ a
// backslash (as the server reads them).
func splitList(s string, escaped bool) []string {
	if !escaped {
		return strings.Split(s, ",")
	}
	var parts []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && (s[i+1] == ',' || s[i+1] == '\\'):
			i++
			b.WriteByte(s[i])
		case s[i] == ',':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(parts, b.String())
}

// Serve sends req to h and checks the exchange against the document: the response always,
// and the request too when the server accepted it (2xx), as a refused request need not
// match. A mismatch fails t, naming what differs. It returns the recorded response.
func (c *Checker) Serve(t testing.TB, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	ex, err := c.Exchange(h, req)
	if err != nil {
		t.Fatal(err)
	}
	problems := ex.Response
	if ex.Accepted() {
		problems = append(slices.Clip(ex.Request), problems...)
	}
	if len(problems) > 0 {
		t.Errorf("%s %s -> %d %s\ndoes not match the OpenAPI document (routers/openapi/openapi.json):\n%s",
			req.Method, req.URL.RequestURI(), ex.Recorder.Code, ex.Recorder.Body, strings.Join(problems, ""))
	}
	return ex.Recorder
}

// Exchange is a request sent to the handler, its response, and what in each does not match
// the document.
type Exchange struct {
	Recorder *httptest.ResponseRecorder
	// Request lists what the document forbids in the request (it may still have been
	// refused, rightly); Response what it does not describe in the response. Each problem
	// is a line, ending in a newline.
	Request, Response []string
}

// Accepted reports whether the server accepted the request: a 2xx.
func (e Exchange) Accepted() bool { return e.Recorder.Code >= 200 && e.Recorder.Code < 300 }

// Exchange sends req to h as a server does (a HEAD's answer loses its body, as net/http
// drops it) and checks both the request and the response against the document.
func (c *Checker) Exchange(h http.Handler, req *http.Request) (Exchange, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return Exchange{}, fmt.Errorf("read request body: %w", err)
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if req.Method == http.MethodHead {
		rec.Body.Reset()
	}

	ex := Exchange{Recorder: rec}
	check := req.Clone(req.Context())
	check.Body = io.NopCloser(bytes.NewReader(body))
	ex.Request = append(c.request(check), c.checkQuery(req)...)
	check = req.Clone(req.Context())
	check.Body = io.NopCloser(bytes.NewReader(body))
	ex.Response = c.response(check, rec.Result())
	return ex, nil
}

// describe lists validation errors, one a line, with their reasons and schema errors.
func describe(verrs []*errors.ValidationError) []string {
	var lines []string
	for _, e := range verrs {
		var b strings.Builder
		fmt.Fprintf(&b, "  - %s: %s\n", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "      %s: %s\n", se.FieldPath, se.Reason)
		}
		lines = append(lines, b.String())
	}
	return lines
}
