// Package apitest checks real requests and responses of the API against its OpenAPI document
// (routers/openapi), with pb33f/libopenapi-validator. Only tests import it.
package apitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/errors"

	"myblog/routers/openapi"
)

// Checker holds a validator built from the document.
type Checker struct {
	v validator.Validator
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
	return &Checker{v: v}, nil
}

// Serve sends req to h and checks the exchange against the document: the response always,
// and the request too when the server accepted it (2xx), as a refused request need not
// match. A mismatch fails t, naming what differs. It returns the recorded response.
func (c *Checker) Serve(t testing.TB, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			t.Fatalf("read request body: %v", err)
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	check := req.Clone(req.Context())
	check.Body = io.NopCloser(bytes.NewReader(body))
	resp := rec.Result()
	var ok bool
	var verrs []*errors.ValidationError
	if rec.Code >= 200 && rec.Code < 300 {
		ok, verrs = c.v.ValidateHttpRequestResponse(check, resp)
	} else {
		ok, verrs = c.v.ValidateHttpResponse(check, resp)
	}
	if !ok {
		t.Errorf("%s %s -> %d %s\ndoes not match the OpenAPI document (routers/openapi/openapi.json):\n%s",
			req.Method, req.URL.RequestURI(), rec.Code, rec.Body, describe(verrs))
	}
	return rec
}

// describe lists validation errors, one a line, with their reasons and schema errors.
func describe(verrs []*errors.ValidationError) string {
	var b strings.Builder
	for _, e := range verrs {
		fmt.Fprintf(&b, "  - %s: %s\n", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "      %s: %s\n", se.FieldPath, se.Reason)
		}
	}
	return b.String()
}
