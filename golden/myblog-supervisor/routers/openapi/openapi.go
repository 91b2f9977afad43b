// Package openapi serves the API's OpenAPI 3.1 document, openapi.json beside this file.
//
// gingen writes the document from gingen.yaml, and every gingen command that changes the
// resources renders it again, merging edits of the file into the new text (an edit that
// conflicts stops the command): change the resources rather than the file. Every resource
// test checks its real requests and responses against it (internal/apitest).
package openapi

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// document is openapi.json, embedded at build time (a string: it cannot be changed).
//
//go:embed openapi.json
var document string

// JSON returns the document.
func JSON() []byte { return []byte(document) }

// Handler serves the document, as GET /openapi.json does.
func Handler(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", []byte(document))
}
