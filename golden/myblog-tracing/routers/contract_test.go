package routers

// The contract test: requests made up from routers/openapi/openapi.json, valid and invalid
// (values of the wrong type, out of bounds, unknown and repeated parameters, bad bodies),
// sent to the whole router over the test database, each exchange checked by the document's
// validator (internal/apitest). It fails on
//   - a 5xx;
//   - a status, header or body the document does not describe for the operation;
//   - a request the server accepts (2xx) that the document forbids;
//   - a request the document allows, with only the parameters it declares, that the server
//     refuses with 400 (a body naming a missing referenced record excepted).
// The requests come from a seeded generator: the same every run. FuzzContract runs the same
// generator from seeds that go test -fuzz finds.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"myblog/internal/apitest"
	"myblog/internal/dbtest"
	"myblog/models"
	"myblog/routers/openapi"
)

// contractRequests is the number of requests of one run of TestTheServerKeepsTheOpenAPIContract.
const contractRequests = 3000

func TestTheServerKeepsTheOpenAPIContract(t *testing.T) {
	n := contractRequests
	if testing.Short() {
		n /= 10
	}
	c := newContract(t)
	r := rand.New(rand.NewPCG(17, 2024))
	stats := map[string]int{}
	for i := range n {
		if c.failures >= 20 {
			t.Fatalf("stopped after request %d of %d: too many failures", i, n)
		}
		stats[c.run(t, r, fmt.Sprintf("request %d (seed 17,2024)", i))]++
	}
	t.Logf("%d requests: %v", n, stats)
	// The generator must reach both sides of the contract, or it proves little: 2xx on one
	// request in 20, and 400 on one in 20 of those sent to operations that take parameters
	// or a body (operations are picked evenly). A document whose operations take none (no
	// resource yet) has no 400 to reach.
	withInput := 0
	for _, op := range c.ops {
		if len(op.params) > 0 || op.body != nil {
			withInput++
		}
	}
	want := map[string]int{"2xx": n / 20, "400": n * withInput / len(c.ops) / 20}
	for _, class := range []string{"2xx", "400"} {
		if stats[class] < want[class] {
			t.Errorf("only %d of %d requests answered %s, want %d or more; the generator misses that side of the contract", stats[class], n, class, want[class])
		}
	}
}

// FuzzContract sends a few requests made up from each seed, with the checks of
// TestTheServerKeepsTheOpenAPIContract: go test -fuzz FuzzContract ./routers explores seeds.
func FuzzContract(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 17, 2024, math.MaxUint64} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		c := newContract(t)
		r := rand.New(rand.NewPCG(seed, seed>>1))
		for i := range 20 {
			c.run(t, r, fmt.Sprintf("request %d of seed %d", i, seed))
		}
	})
}

// contract is the router under test, the document's operations and the checker.
type contract struct {
	h        http.Handler
	check    *apitest.Checker
	ops      []operation
	schemas  map[string]any
	token    string
	failures int
}

// operation is one method of one path of the document.
type operation struct {
	method, path string
	params       []map[string]any
	body         map[string]any // the request body's schema, resolved; nil: none
	statuses     map[string]bool
	secured      bool
}

func newContract(t *testing.T) *contract {
	t.Helper()
	gin.SetMode(gin.TestMode)
	db := dbtest.Open(t)
	deps := Deps{
		DB:      db,
		DBState: func() models.DBState { return models.DBState{Up: true} },
		Version: "test",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	c := &contract{check: apitest.New(t)}
	c.h = New(deps)

	var doc map[string]any
	if err := json.Unmarshal(openapi.JSON(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	components, _ := doc["components"].(map[string]any)
	c.schemas, _ = components["schemas"].(map[string]any)
	parameters, _ := components["parameters"].(map[string]any)
	_, globalSecurity := doc["security"].([]any)
	globalSecured := globalSecurity && len(doc["security"].([]any)) > 0
	paths := doc["paths"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item := paths[path].(map[string]any)
		shared := resolveParams(item["parameters"], parameters)
		for _, method := range slices.Sorted(maps.Keys(item)) {
			o, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			op := operation{method: strings.ToUpper(method), path: path, statuses: map[string]bool{}, secured: globalSecured}
			op.params = append(slices.Clone(shared), resolveParams(o["parameters"], parameters)...)
			if sec, ok := o["security"].([]any); ok {
				op.secured = len(sec) > 0
			}
			if rb, ok := o["requestBody"].(map[string]any); ok {
				schema := rb["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
				op.body = c.resolve(schema)
			}
			for status := range o["responses"].(map[string]any) {
				op.statuses[status] = true
			}
			c.ops = append(c.ops, op)
		}
	}
	if len(c.ops) == 0 {
		t.Fatal("openapi.json has no operation")
	}
	return c
}

// resolveParams resolves the parameters' $refs to #/components/parameters.
func resolveParams(v any, components map[string]any) []map[string]any {
	list, _ := v.([]any)
	var params []map[string]any
	for _, p := range list {
		m := p.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			m = components[strings.TrimPrefix(ref, "#/components/parameters/")].(map[string]any)
		}
		params = append(params, m)
	}
	return params
}

// resolve follows a $ref to #/components/schemas.
func (c *contract) resolve(schema map[string]any) map[string]any {
	if ref, ok := schema["$ref"].(string); ok {
		return c.schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
	return schema
}

// run makes up one request, sends it and checks the exchange. It returns the class of the
// answer: 2xx, or the status.
func (c *contract) run(t testing.TB, r *rand.Rand, name string) string {
	t.Helper()
	op := c.ops[r.IntN(len(c.ops))]
	req, declaredOnly := c.request(r, op)
	target := req.URL.RequestURI()
	var sent []byte
	if req.Body != nil {
		sent, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(sent))
	}
	ex, err := c.check.Exchange(c.h, req)
	if err != nil {
		t.Fatal(err)
	}
	rec := ex.Recorder
	var problems []string
	switch status := strconv.Itoa(rec.Code); {
	case rec.Code >= 500:
		problems = append(problems, "  - a server error\n")
	case !op.statuses[status] && !op.statuses["default"]:
		problems = append(problems, fmt.Sprintf("  - status %s is not among the operation's responses\n", status))
	}
	problems = append(problems, ex.Response...)
	switch {
	case ex.Accepted() && len(ex.Request) > 0:
		problems = append(problems, "  - the server accepted a request the document forbids:\n")
		problems = append(problems, ex.Request...)
	case rec.Code == http.StatusBadRequest && len(ex.Request) == 0 && declaredOnly && !refusedForAMissingReference(rec.Body.Bytes()):
		problems = append(problems, "  - the server refused (400) a request the document allows\n")
	}
	if len(problems) > 0 {
		c.failures++
		t.Errorf("%s: %s %s %s\n-> %d %s\n%s", name, req.Method, target, sent, rec.Code, rec.Body, strings.Join(problems, ""))
	}
	if ex.Accepted() {
		return "2xx"
	}
	return strconv.Itoa(rec.Code)
}

// refusedForAMissingReference reports whether a 400's body names a referenced record that
// does not exist: the document cannot know which ids exist.
func refusedForAMissingReference(body []byte) bool {
	var e struct {
		Fields map[string]string `json:"fields"`
	}
	if json.Unmarshal(body, &e) != nil {
		return false
	}
	for _, msg := range e.Fields {
		if strings.HasPrefix(msg, "no ") && strings.Contains(msg, " has id ") {
			return true
		}
	}
	return false
}

// request makes up a request of op. declaredOnly: it has only the parameters op declares,
// each once, and a JSON body when op takes one.
func (c *contract) request(r *rand.Rand, op operation) (*http.Request, bool) {
	declaredOnly := true
	path := op.path
	query := url.Values{}
	var raw []string // query parts added as they are: repeated parameters
	for _, p := range op.params {
		name, _ := p["name"].(string)
		schema, _ := p["schema"].(map[string]any)
		switch p["in"] {
		case "path":
			v := paramValue(r, schema)
			if v == "" {
				// An empty segment is another path (gin redirects /articles/ to /articles).
				v = "x"
			}
			path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
		case "query":
			if r.IntN(4) != 0 && p["required"] != true {
				continue
			}
			v := paramValue(r, schema)
			query.Set(name, v)
			if r.IntN(40) == 0 {
				raw = append(raw, url.QueryEscape(name)+"="+url.QueryEscape(paramValue(r, schema)))
				declaredOnly = false
			}
		}
	}
	if r.IntN(30) == 0 {
		query.Set(pick(r, "unknown", "pagesize", "Sort", "q", "id[]", "views_between"), pick(r, "1", "x", ""))
		declaredOnly = false
	}
	target := path
	if q := strings.Join(append([]string{query.Encode()}, raw...), "&"); q != "" && q != "&" {
		target += "?" + strings.TrimPrefix(q, "&")
	}
	var body io.Reader
	if op.body != nil {
		b, valid := c.body(r, op.body)
		body = bytes.NewReader(b)
		declaredOnly = declaredOnly && valid
	}
	req := httptest.NewRequest(op.method, target, body)
	if op.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if op.secured && c.token != "" {
		switch r.IntN(20) {
		case 0:
			// No token: 401.
		case 1:
			req.Header.Set("Authorization", "Bearer not-a-token")
		default:
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
	}
	return req, declaredOnly
}

// paramValue makes up a parameter's value as it appears in the URL: valid for its schema
// most of the time, else of the wrong type, out of bounds or malformed. The validator, not
// this function, says which.
func paramValue(r *rand.Rand, schema map[string]any) string {
	if r.IntN(6) == 0 {
		return pick(r, "", "abc", "-1", "0", "1.5", "null", "true", "9223372036854775808", "2147483648",
			"2024-13-01T00:00:00Z", "%", "_", "a,b", `a\,b`, "'; DROP TABLE x; --", strings.Repeat("x", 300), "é")
	}
	if schema["type"] == "array" {
		items, _ := schema["items"].(map[string]any)
		count := 1 + r.IntN(3)
		if r.IntN(20) == 0 {
			count = 101
		}
		values := make([]string, count)
		for i := range values {
			values[i] = paramValue(r, items)
		}
		return strings.Join(values, ",")
	}
	v := schemaValue(r, schema)
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// body makes up a request body for schema, an object: valid most of the time, else with a
// field missing, of the wrong type or null, an unknown field, or not an object at all. It
// reports whether it meant the body to be valid.
func (c *contract) body(r *rand.Rand, schema map[string]any) ([]byte, bool) {
	obj, _ := schemaValue(r, schema).(map[string]any)
	props, _ := schema["properties"].(map[string]any)
	names := slices.Sorted(maps.Keys(props))
	valid := true
	switch r.IntN(12) {
	case 0:
		return []byte(pick(r, "", "{", "[]", `"text"`, "null", "{}{}", `{"a":}`)), false
	case 1:
		obj["unknown_field"] = 1
		valid = false
	case 2, 3:
		if len(names) > 0 {
			// null too: the server refuses it for every field the document says is not
			// nullable; whether it was allowed is for the document's validator to say.
			obj[names[r.IntN(len(names))]] = pick[any](r, "text", 12345, -1, 1.5, true, []any{}, map[string]any{}, strings.Repeat("y", 300), "", nil)
			valid = false
		}
	case 4:
		if len(names) > 0 {
			delete(obj, names[r.IntN(len(names))])
			valid = false
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return b, valid
}

// schemaValue makes up a value that the schema allows (for the schemas gingen writes).
func schemaValue(r *rand.Rand, schema map[string]any) any {
	if c, ok := schema["const"]; ok {
		return c
	}
	if branches, ok := schema["anyOf"].([]any); ok {
		return schemaValue(r, branches[r.IntN(len(branches))].(map[string]any))
	}
	if ex, ok := schema["examples"].([]any); ok && len(ex) > 0 {
		return ex[r.IntN(len(ex))]
	}
	typ := schema["type"]
	if types, ok := typ.([]any); ok {
		typ = types[r.IntN(len(types))]
	}
	lo, hasLo := schema["minimum"].(float64)
	hi, hasHi := schema["maximum"].(float64)
	switch typ {
	case "null":
		return nil
	case "boolean":
		return r.IntN(2) == 0
	case "integer":
		switch {
		case hasHi && r.IntN(10) == 0:
			return int64(math.Min(hi, math.MaxInt64/2))
		case hasLo:
			return int64(lo) + r.Int64N(5)
		}
		return r.Int64N(2001) - 1000
	case "number":
		return float64(r.IntN(20001)-10000) / 4
	case "string":
		if schema["format"] == "date-time" {
			at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(5*365*24)) * time.Hour)
			return at.In(time.FixedZone("", (r.IntN(25)-12)*3600)).Format(time.RFC3339)
		}
		maxLen := 40
		if m, ok := schema["maxLength"].(float64); ok && int(m) < maxLen {
			maxLen = int(m)
		}
		if maxLen == 0 {
			return ""
		}
		const letters = "abcdefghijklmnopqrstuvwxyz ABC%_!,-'\"\\é日"
		runes := []rune(letters)
		var b strings.Builder
		for range 1 + r.IntN(maxLen) {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		if schema["pattern"] == `\S` {
			b.WriteString("x")
		}
		return b.String()
	case "object":
		props, _ := schema["properties"].(map[string]any)
		obj := map[string]any{}
		required, _ := schema["required"].([]any)
		for _, name := range slices.Sorted(maps.Keys(props)) {
			if slices.Contains(required, any(name)) || r.IntN(2) == 0 {
				obj[name] = schemaValue(r, props[name].(map[string]any))
			}
		}
		return obj
	case "array":
		return []any{}
	}
	return nil
}

func pick[T any](r *rand.Rand, values ...T) T { return values[r.IntN(len(values))] }
