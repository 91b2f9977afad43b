// Package apitest checks real requests and responses of the API against its OpenAPI document
// (routers/openapi), with getkin/kin-openapi's openapi3filter, and the items of
// comma-separated list parameters as the server reads them (a \, inside a string item is a
// comma, not a separator), with santhosh-tekuri/jsonschema (the JSON Schema library
// kin-openapi validates OpenAPI 3.1 schemas with). Only tests import it.
//
// Its exported API, and the fields of its types, use only the standard library: a package
// that imports it then compiles without reading the libraries' export data.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"myblog/routers/openapi"
)

// Checker holds a validator built from the document.
type Checker struct {
	// check checks an exchange against the document: what in the request, and what in
	// the response, it does not allow, one problem a line (a closure over kin-openapi's
	// router and validator; see the package comment).
	check func(req *http.Request, resp *http.Response) (request, response []string)
	// lists are the comma-separated list parameters (style form, explode false) of each
	// operation, by path template and method: the validator splits their values at every
	// comma, these schemas check the items as the server reads them (bounds, formats,
	// number of items).
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

// shared is the Checker of every test of a test binary, built once: building one loads,
// validates and routes the document and compiles its list parameters' schemas. It is set
// once and holds no state that a check changes.
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
	doc, err := load()
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: routes: %w", err)
	}
	lists, multi, err := listParams(openapi.JSON())
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	// Tokens are the middleware's business (and its tests'); every problem is reported, not
	// only the first; a status the operation does not list is one.
	opts := &openapi3filter.Options{
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
	}
	return &Checker{
		check: func(req *http.Request, resp *http.Response) ([]string, []string) {
			route, params, err := router.FindRoute(req)
			if err != nil {
				problems := describe([]error{fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)})
				return problems, problems
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
			request := describe(slices.DeleteFunc(errorsOf(openapi3filter.ValidateRequest(req.Context(), in)), emptyList))
			return request, describe(errorsOf(openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in,
				Status:                 resp.StatusCode,
				Header:                 resp.Header,
				Body:                   resp.Body,
				Options:                opts,
			})))
		},
		lists: lists,
		multi: multi,
	}, nil
}

// load parses the embedded document into kin-openapi's model, its $refs resolved.
func load() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.JSON())
	if err != nil {
		return nil, fmt.Errorf("openapi.json does not load: %w", err)
	}
	return doc, nil
}

// Document parses the embedded document and validates it as OpenAPI of its version (the
// structure, every schema, every example against its schema, $refs, path parameters). It
// returns the version the document declares, and what in it is not valid, one problem a
// line; err when it does not parse.
func Document() (version string, problems []string, err error) {
	doc, err := load()
	if err != nil {
		return "", nil, err
	}
	for _, e := range errorsOf(doc.Validate(context.Background())) {
		problems = append(problems, message(e))
	}
	return doc.OpenAPI, problems, nil
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
	request, response := c.check(check, rec.Result())
	ex.Request = append(request, c.checkQuery(req)...)
	ex.Response = response
	return ex, nil
}

// emptyList reports whether err is kin-openapi's refusal of an empty value of a query
// parameter whose value is a comma-separated list (style form, explode false), such as
// ?title=. RFC 6570 writes the empty list and the list of one empty item alike; kin-openapi
// reads the first (no value), the server the second. The request checks leave it out:
// checkQuery checks the items of every such parameter as the server reads them.
func emptyList(err error) bool {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) || !errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue) || re.Parameter == nil {
		return false
	}
	p := re.Parameter
	return p.In == openapi3.ParameterInQuery && p.Explode != nil && !*p.Explode &&
		p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is("array")
}

// errorsOf lists the errors err holds: each of a MultiError's, nested ones flattened; none
// for nil.
func errorsOf(err error) []error {
	var multi openapi3.MultiError
	if !errors.As(err, &multi) {
		if err == nil {
			return nil
		}
		return []error{err}
	}
	var all []error
	for _, e := range multi {
		all = append(all, errorsOf(e)...)
	}
	return all
}

// message is what err says is wrong and where: a schema error's text goes on with the whole
// schema and value, which it leaves out.
func message(err error) string {
	msg, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\nSchema:")
	return msg
}

// describe lists errs, one problem a line.
func describe(errs []error) []string {
	var lines []string
	for _, e := range errs {
		lines = append(lines, "  - "+strings.ReplaceAll(message(e), "\n", "\n      ")+"\n")
	}
	return lines
}
