package v1

// Conditional requests (RFC 9110 section 13): every row carries a version its writes
// increase by one, and its entity tag is made of its id and that version, "<id>.<version>".
//
//	GET     If-None-Match: "3.7"   304 Not Modified while the row is at version 7
//	PUT, PATCH, DELETE  If-Match: "3.7"   412 Precondition Failed once another write
//	        moved the row past version 7; the write happens only in the same statement
//	        that checks the version (UPDATE ... WHERE id = ? AND version = ?), so two
//	        clients holding "3.7" cannot both succeed
//
// A write without If-Match still changes only what it sends, in one statement.

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// etag is the strong entity tag of the row id at version.
func etag(id uint, version uint64) string {
	return `"` + strconv.FormatUint(uint64(id), 10) + "." + strconv.FormatUint(version, 10) + `"`
}

// setETag sets the ETag header of a response showing the row id at version. The key is
// written as Header.Set would canonicalize it ("Etag"), without spelling it out anew on every
// response.
func setETag(c *gin.Context, id uint, version uint64) {
	c.Writer.Header()["Etag"] = []string{etag(id, version)}
}

// entityTags splits the values of an If-Match or If-None-Match header into their entity
// tags ("*", "x" or W/"x"), dropping the malformed ones, which match nothing.
func entityTags(values []string) []string {
	var out []string
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			opaque := strings.TrimPrefix(t, "W/")
			if t == "*" || len(opaque) >= 2 && opaque[0] == '"' && opaque[len(opaque)-1] == '"' && !strings.Contains(opaque[1:len(opaque)-1], `"`) {
				out = append(out, t)
			}
		}
	}
	return out
}

// precondition is what the If-Match header of a write to one row asks.
type precondition struct {
	present  bool     // the request has If-Match
	any      bool     // If-Match: * (any version, as long as the row exists)
	versions []uint64 // the versions of the row its tags name
}

// check reports whether a write may proceed on the row at version.
func (p precondition) check(version uint64) bool {
	return !p.present || p.any || slices.Contains(p.versions, version)
}

// ifMatch reads the If-Match header of a write to the row id. Tags compare strongly: a weak
// tag (W/"...") or a tag of another row names no version, so a header of only such tags
// fails.
func ifMatch(c *gin.Context, id uint) precondition {
	values := c.Request.Header.Values("If-Match")
	if len(values) == 0 {
		return precondition{}
	}
	p := precondition{present: true}
	prefix := `"` + strconv.FormatUint(uint64(id), 10) + "."
	for _, t := range entityTags(values) {
		if t == "*" {
			p.any = true
			continue
		}
		rest, ok := strings.CutPrefix(t, prefix)
		if !ok {
			continue
		}
		if v, err := strconv.ParseUint(strings.TrimSuffix(rest, `"`), 10, 64); err == nil {
			p.versions = append(p.versions, v)
		}
	}
	return p
}

// notModified reports whether the If-None-Match header of a GET names tag, compared weakly
// (W/"3.7" matches "3.7"), or is "*".
func notModified(c *gin.Context, tag string) bool {
	for _, t := range entityTags(c.Request.Header.Values("If-None-Match")) {
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}

// respondNotModified answers 304 with the row's ETag and no body.
func respondNotModified(c *gin.Context, id uint, version uint64) {
	setETag(c, id, version)
	c.Status(http.StatusNotModified)
	c.Writer.WriteHeaderNow()
}

// sentField reports whether a write set the field name: every field (sent is nil) for POST
// and PUT, the fields of its body for PATCH.
func sentField(sent []string, name string) bool {
	return sent == nil || slices.Contains(sent, name)
}
