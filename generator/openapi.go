package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// OpenAPIPath is where a project's OpenAPI document lives: written whole from gingen.yaml by
// new, add and destroy (never edited by hand), embedded by the routers/openapi package and
// served at /openapi.json.
const OpenAPIPath = "routers/openapi/openapi.json"

// openAPIVersion is the OpenAPI version of the documents gingen writes.
const openAPIVersion = "3.1.0"

// obj is a JSON object of the document; encoding/json sorts its keys, so that the same
// manifest always renders the same bytes.
type obj = map[string]any

// RenderOpenAPI returns the OpenAPI 3.1 document of the project m describes: the health
// checks, POST /auth and /api/v1/me with --auth jwt, and every route of every resource, with
// the schemas of their bodies and parameters.
func RenderOpenAPI(m Manifest) ([]byte, error) {
	jwt := m.Auth == AuthJWT
	paths := obj{
		"/healthz": obj{"get": obj{
			"summary":     "Liveness: the serving process, its version and the database's state as last probed",
			"operationId": "healthz",
			"tags":        []string{"health"},
			"responses": obj{"200": jsonResponse("Alive (also while the database is down)", obj{
				"type":                 "object",
				"required":             []string{"status", "version", "pid", "database"},
				"additionalProperties": false,
				"properties": obj{
					"status":   obj{"type": "string", "const": "ok"},
					"version":  obj{"type": "string"},
					"pid":      obj{"type": "integer", "minimum": 1},
					"database": obj{"type": "string", "enum": []string{"up", "down"}},
				},
			})},
		}},
		"/readyz": obj{"get": obj{
			"summary":     "Readiness: the database answers",
			"operationId": "readyz",
			"tags":        []string{"health"},
			"responses": obj{
				"200": jsonResponse("Ready", statusSchema()),
				"503": jsonResponse("The database does not answer", statusSchema()),
			},
		}},
		"/openapi.json": obj{"get": obj{
			"summary":     "This document",
			"operationId": "openapi",
			"tags":        []string{"meta"},
			"responses":   obj{"200": jsonResponse("The OpenAPI document of the API", obj{"type": "object"})},
		}},
	}
	schemas := obj{"Error": errorSchema()}
	if jwt {
		paths["/auth"] = obj{"post": obj{
			"summary":     "Trade a user's credentials for a token",
			"operationId": "login",
			"tags":        []string{"auth"},
			"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{
				"type":     "object",
				"required": []string{"username", "password"},
				"properties": obj{
					"username": obj{"type": "string"},
					"password": obj{"type": "string"},
				},
			}}}},
			"responses": obj{
				"200": jsonResponse("A token for the Authorization header: Bearer <token>", obj{
					"type":     "object",
					"required": []string{"token", "token_type", "expires_at"},
					"properties": obj{
						"token":      obj{"type": "string"},
						"token_type": obj{"type": "string", "const": "Bearer"},
						"expires_at": obj{"type": "string", "format": "date-time"},
					},
				}),
				"400": errorRef("The body is not a JSON object with username and password"),
				"401": errorRef("Wrong username or password"),
				"429": errorRef("Too many attempts; see Retry-After"),
				"500": errorRef("Internal error"),
				"503": errorRef("The database is unavailable; see Retry-After"),
			},
		}}
		paths["/api/v1/me"] = obj{"get": withAuth(obj{
			"summary":     "The user the token was issued to",
			"operationId": "me",
			"tags":        []string{"auth"},
			"responses": obj{"200": jsonResponse("The token's user", obj{
				"type":     "object",
				"required": []string{"id", "username", "expires_at"},
				"properties": obj{
					"id":         obj{"type": "integer", "minimum": 1},
					"username":   obj{"type": "string"},
					"expires_at": obj{"type": "string", "format": "date-time"},
				},
			})},
		})}
		schemas["User"] = obj{
			"type":                 "object",
			"description":          "A user of POST /auth, as ?include shows it.",
			"required":             []string{"id", "created_at", "updated_at", "username"},
			"additionalProperties": false,
			"properties": obj{
				"id":         idSchema(),
				"created_at": timeSchema(false),
				"updated_at": timeSchema(false),
				"username":   obj{"type": "string", "maxLength": 64},
			},
		}
	}
	for _, r := range m.Resources {
		addResourceOpenAPI(m, r, paths, schemas, jwt)
	}
	finishOperations(paths, jwt)
	headers, err := usedHeaders(paths)
	if err != nil {
		return nil, err
	}
	components := obj{
		"schemas": schemas,
		"headers": headers,
	}
	if len(m.Resources) > 0 {
		components["parameters"] = commonParameters()
	}
	if len(m.Resources) > 0 {
		parameters := components["parameters"].(obj)
		for k, v := range conditionalParameters() {
			parameters[k] = v
		}
	}
	if jwt {
		components["securitySchemes"] = obj{"bearer": obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
	}
	doc := obj{
		"openapi": openAPIVersion,
		"info": obj{
			"title":   m.Name,
			"version": "1.0.0",
			"description": "Written by gingen from gingen.yaml: every gingen command that changes the resources renders " +
				"it again and merges your edits of it into the new text (an edit that conflicts stops the command); " +
				"describe the API by changing the resources. Lists take ?page, ?page_size, ?sort (columns, - for " +
				"descending), ?include (references to load) and filters: ?column=value, ?column=a,b (any of them; " +
				"in a string's values a comma is written \\, and a backslash \\\\), ?column=null for nullable " +
				"columns (on a string column null is the literal text), and for numbers and times " +
				"?column_gt, _gte, _lt, _lte; ?q=text searches the fields marked searchable. A parameter given " +
				"twice is refused. Lists answer X-Total-Count and Link (RFC 8288: first, prev, next, last); " +
				"HEAD answers as GET does, without a body.",
		},
		// One server, relative to where the document is served: the API is on the same origin.
		"servers":    []any{obj{"url": "/"}},
		"paths":      paths,
		"components": components,
	}
	if jwt {
		// Every operation needs a token unless it says security: [] (finishOperations).
		doc["security"] = bearerSecurity()
	} else {
		doc["security"] = []any{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("render %s: %w", OpenAPIPath, err)
	}
	return buf.Bytes(), nil
}

// addResourceOpenAPI adds the paths and schemas of resource r.
func addResourceOpenAPI(m Manifest, r Resource, paths, schemas obj, jwt bool) {
	d := newResourceData(m, r)
	item, input, patch := d.Camel, d.Camel+"Input", d.Camel+"Patch"

	props := obj{"id": idSchema(), "created_at": timeSchema(false), "updated_at": timeSchema(false), "version": versionSchema()}
	required := []string{"id", "created_at", "updated_at", "version"}
	inProps := obj{}
	var inRequired []string
	if o := d.Owner; o != nil {
		s := fieldSchema(o.src)
		s["readOnly"] = true
		s["description"] = "the user who created it, from the token; only this user sees and changes it"
		props[o.Name] = s
		required = append(required, o.Name)
	}
	for _, fd := range d.Fields {
		f := fd.src
		s := fieldSchema(f)
		props[fd.Name] = s
		required = append(required, fd.Name)
		in := fieldSchema(f)
		if f.Required() && (f.Type == TypeString || f.Type == TypeText) {
			in["pattern"] = `\S`
			in["description"] = "not blank"
		}
		inProps[fd.Name] = in
		if f.Required() {
			inRequired = append(inRequired, fd.Name)
		}
		if fd.Ref != nil {
			props[fd.Ref.Include] = obj{"$ref": "#/components/schemas/" + fd.Ref.Camel, "description": "present with ?include=" + fd.Ref.Include}
		}
	}
	schemas[item] = obj{"type": "object", "required": required, "additionalProperties": false, "properties": props}
	inputSchema := obj{"type": "object", "additionalProperties": false, "properties": inProps,
		"description": "The body of POST and PUT: a field left out gets its zero value (PUT replaces the whole " + d.Human + ")."}
	if len(inRequired) > 0 {
		inputSchema["required"] = inRequired
	}
	schemas[input] = inputSchema
	schemas[patch] = obj{"type": "object", "additionalProperties": false, "properties": inProps,
		"description": "The body of PATCH: the fields to change; the others keep their values."}
	schemas[d.Camel+"List"] = obj{
		"type":                 "object",
		"required":             []string{"items", "total", "page", "page_size"},
		"additionalProperties": false,
		"properties": obj{
			"items":     obj{"type": "array", "items": ref(item)},
			"total":     obj{"type": "integer", "minimum": 0},
			"page":      obj{"type": "integer", "minimum": 1},
			"page_size": obj{"type": "integer", "minimum": 1, "maximum": 100},
		},
	}

	listParams := listParameters(d)
	listResponse := func(desc string) obj {
		r := jsonResponse(desc, ref(d.Camel+"List"))
		r["headers"] = obj{
			"X-Total-Count": obj{"$ref": "#/components/headers/X-Total-Count"},
			"Link":          obj{"$ref": "#/components/headers/Link"},
		}
		return r
	}
	op := func(id, summary string, o obj) obj {
		o["operationId"] = id
		o["summary"] = summary
		o["tags"] = []string{d.Plural}
		if jwt {
			o = withAuth(o)
		}
		return o
	}
	itemResp := withETag(jsonResponse("The "+d.Human, ref(item)))
	body := func(schema string) obj {
		return obj{"required": true, "content": obj{"application/json": obj{"schema": ref(schema)}}}
	}
	idParam := obj{"$ref": "#/components/parameters/id"}
	includeParam := includeParameter(d)
	collection := "/api/v1/" + d.Plural
	paths[collection] = obj{
		"get": op("list"+d.CamelPlural, "List "+Human(d.Plural)+", a page at a time", obj{
			"parameters": listParams,
			"responses":  errorsOf(obj{"200": listResponse("One page of " + Human(d.Plural))}, "400"),
		}),
		"post": op("create"+d.Camel, "Create a "+d.Human, obj{
			"requestBody": body(input),
			"responses": errorsOf(obj{"201": obj{
				"description": "The " + d.Human + " created",
				"headers":     obj{"Location": obj{"description": "The path of the new " + d.Human, "schema": obj{"type": "string"}}, "ETag": etagHeader()},
				"content":     obj{"application/json": obj{"schema": ref(item)}},
			}}, "400", "409", "413"),
		}),
	}
	paths[collection+"/{id}"] = obj{
		"parameters": []any{idParam},
		"get": op("get"+d.Camel, "Read a "+d.Human, conditionalGet(obj{
			"parameters": []any{includeParam},
			"responses":  errorsOf(obj{"200": itemResp}, "400", "404"),
		})),
		"put": op("replace"+d.Camel, "Replace every field of a "+d.Human, conditionalWrite(obj{
			"requestBody": body(input),
			"responses":   errorsOf(obj{"200": itemResp}, "400", "404", "409", "413"),
		})),
		"patch": op("update"+d.Camel, "Change the fields sent, keep the others", conditionalWrite(obj{
			"requestBody": body(patch),
			"responses":   errorsOf(obj{"200": itemResp}, "400", "404", "409", "413"),
		})),
		"delete": op("delete"+d.Camel, "Delete a "+d.Human, conditionalWrite(obj{
			"responses": errorsOf(obj{"204": obj{"description": "Deleted"}}, "400", "404", "409"),
		})),
	}
	if r.Events {
		addEventsOpenAPI(d, paths, schemas, op)
	}
	for _, n := range d.Nested {
		// The body of a create under the parent: without the reference, which the path sets.
		under := d.Camel + "InputOf" + n.Ref.Camel
		underProps := obj{}
		for k, v := range inProps {
			if k != n.Name {
				underProps[k] = v
			}
		}
		underSchema := obj{"type": "object", "additionalProperties": false, "properties": underProps,
			"description": "The body of a create under a " + n.Ref.Human + ": the fields of " + input + " but " + n.Name + ", the id in the path."}
		if req := slices.DeleteFunc(slices.Clone(inRequired), func(k string) bool { return k == n.Name }); len(req) > 0 {
			underSchema["required"] = req
		}
		schemas[under] = underSchema
		paths["/api/v1/"+n.Ref.Plural+"/{id}/"+d.Plural] = obj{
			"parameters": []any{idParam},
			"get": op("list"+d.CamelPlural+"Of"+n.Ref.Camel, "List the "+Human(d.Plural)+" of a "+n.Ref.Human, obj{
				"parameters": listParams,
				"responses":  errorsOf(obj{"200": listResponse("One page of " + Human(d.Plural))}, "400", "404"),
			}),
			"post": op("create"+d.Camel+"Of"+n.Ref.Camel, "Create a "+d.Human+" of a "+n.Ref.Human, obj{
				"requestBody": body(under),
				"responses": errorsOf(obj{"201": obj{
					"description": "The " + d.Human + " created",
					"headers":     obj{"Location": obj{"description": "The path of the new " + d.Human, "schema": obj{"type": "string"}}, "ETag": etagHeader()},
					"content":     obj{"application/json": obj{"schema": ref(item)}},
				}}, "400", "404", "409", "413"),
			}),
		}
	}
}

// StreamExtension marks the operations of the document that answer with a stream that lasts
// (server-sent events, a websocket) rather than one response: the generated contract test,
// which checks request/response exchanges, leaves them to the tests of the streams.
const StreamExtension = "x-gingen-stream"

// addEventsOpenAPI declares the live events of a resource added with --events: the
// server-sent event stream, as text/event-stream, and the websocket, as OpenAPI 3 can: a
// GET answered 101 Switching Protocols, its messages described by the {Camel}Event schema.
func addEventsOpenAPI(d ResourceData, paths, schemas obj, op func(id, summary string, o obj) obj) {
	event := d.Camel + "Event"
	schemas[event] = obj{
		"type": "object", "required": []string{"id", "action", "data"}, "additionalProperties": false,
		"description": "One change of a " + d.Human + ": a websocket message; a server-sent event carries id as its id, action as its event type and data as its data.",
		"properties": obj{
			"id":     obj{"type": "integer", "minimum": 1, "description": "The outbox id: events come in its order; resume after it"},
			"action": obj{"type": "string", "enum": []string{"created", "updated", "deleted"}},
			"data": obj{"description": "The " + d.Human + " as written; for deleted, its id only",
				"oneOf": []any{ref(d.Camel), obj{"type": "object", "required": []string{"id"}, "additionalProperties": false, "properties": obj{"id": idSchema()}}}},
		},
	}
	after := obj{"name": "after", "in": "query", "required": false, "schema": obj{"type": "integer", "minimum": 0},
		"description": "Start after this event id (0: every event kept; below the kept events: 410); without it and without Last-Event-ID, the stream starts at the newest event"}
	stream := func(o obj) obj {
		o[StreamExtension] = true
		return o
	}
	collection := "/api/v1/" + d.Plural
	paths[collection+"/events"] = obj{
		"get": op("stream"+d.CamelPlural+"Events", "Follow the changes of "+Human(d.Plural)+" as server-sent events", stream(obj{
			"description": "Replays the events after Last-Event-ID (or ?after), then streams new ones, in id order, each once. When the server restarts or shuts down the stream ends with a retry: field; the client reconnects with Last-Event-ID and resumes.",
			"parameters": []any{
				obj{"name": "Last-Event-ID", "in": "header", "required": false, "schema": obj{"type": "string", "pattern": "^[0-9]+$"},
					"description": "The id of the last event received: what an EventSource sends when it reconnects"},
				after,
			},
			"responses": errorsOf(obj{"200": obj{
				"description": "An endless text/event-stream: id: the outbox id, event: created, updated or deleted, data: the " + event + "'s data as JSON",
				"content":     obj{"text/event-stream": obj{"schema": obj{"type": "string"}}},
			}}, "400", "410"),
		})),
	}
	paths[collection+"/events/ws"] = obj{
		"get": op("stream"+d.CamelPlural+"EventsWebSocket", "Follow the changes of "+Human(d.Plural)+" over a websocket", stream(obj{
			"description": "A websocket handshake (RFC 6455). Each message is an " + event + " (JSON), after ?after, in id order, each once. When the server restarts or shuts down it closes with status 1012 (service restart); the client reconnects with ?after= the last id received. A stream whose next events were pruned while it lagged behind closes with status 4410; its reconnection gets 410.",
			"parameters":  []any{after},
			"responses": errorsOf(obj{
				"101": obj{"description": "Switching Protocols: the websocket; its messages are " + event + " objects",
					"content": obj{"application/json": obj{"schema": ref(event)}}},
				"426": obj{"description": "Not a websocket handshake: Upgrade Required"},
			}, "400", "410"),
		})),
	}
}

// fieldSchema is the JSON schema of a field's value.
func fieldSchema(f Field) obj {
	switch f.Type {
	case TypeString:
		return obj{"type": "string", "maxLength": maxStringLen}
	case TypeText:
		return obj{"type": "string"}
	case TypeInt, TypeInt64:
		return obj{"type": "integer"}
	case TypeUint:
		return obj{"type": "integer", "minimum": 0}
	case TypeFloat:
		return obj{"type": "number"}
	case TypeBool:
		return obj{"type": "boolean"}
	case TypeTime:
		return timeSchema(!f.Required())
	case TypeReferences:
		return obj{"type": "integer", "minimum": 1, "description": "the id of a " + Human(f.RefTarget())}
	}
	return obj{}
}

// filterSchema is the schema of a filter parameter's value, for a field of this type.
func filterSchema(typ string) obj {
	switch typ {
	case TypeTime:
		return obj{"type": "string", "format": "date-time"}
	case TypeBool:
		return obj{"type": "boolean"}
	case TypeUint, TypeReferences:
		return obj{"type": "integer", "format": "int64", "minimum": 0, "maximum": math.MaxInt64}
	case TypeInt, TypeInt64:
		return obj{"type": "integer", "format": "int64"}
	case TypeFloat:
		return obj{"type": "number"}
	}
	return obj{"type": "string", "maxLength": maxStringLen}
}

// listParameters are the query parameters of a resource's lists. An equality filter is a
// comma-separated list (style form, explode false) of at most maxInValues values, null among
// them for a nullable column; a range filter is one value.
func listParameters(d ResourceData) []any {
	params := []any{
		obj{"$ref": "#/components/parameters/page"},
		obj{"$ref": "#/components/parameters/page_size"},
		obj{"name": "sort", "in": "query", "description": "Columns to order by, comma-separated, each optionally preceded by - for descending; id breaks ties; a column given again changes nothing",
			"schema": obj{"type": "string", "pattern": sortPattern(d), "examples": sortExamples(d)}},
		includeParameter(d),
	}
	if len(d.Search) > 0 {
		var names []string
		for _, fd := range d.Search {
			names = append(names, fd.Name)
		}
		params = append(params, obj{"name": "q", "in": "query",
			"description": "Only the items where " + strings.Join(names, " or ") + " contains this text, ignoring case (ASCII case only on SQLite); % and _ match themselves; empty: no search",
			"schema":      obj{"type": "string", "maxLength": maxStringLen}})
	}
	type filter struct {
		column, typ string
		nullable    bool
	}
	filters := []filter{{"id", TypeUint, false}, {"created_at", TypeTime, false}, {"updated_at", TypeTime, false}}
	for _, fd := range d.Filters {
		filters = append(filters, filter{fd.Name, fd.Type, strings.HasPrefix(fd.ModelType, "*")})
	}
	for _, f := range filters {
		one := filterSchema(f.typ)
		desc := "Only the items whose " + f.column + " is one of these values, comma-separated"
		switch {
		case f.nullable:
			one = obj{"anyOf": []any{one, obj{"type": "string", "const": "null"}}}
			desc += "; null: the items without one"
		case f.typ == TypeString:
			desc += "; a comma in a value is written \\, and a backslash \\\\; null is the literal text"
		}
		params = append(params, obj{"name": f.column, "in": "query", "description": desc, "style": "form", "explode": false,
			"schema": obj{"type": "array", "minItems": 1, "maxItems": maxInValues, "items": one}})
		if f.typ == TypeBool || f.typ == TypeString || f.typ == TypeReferences {
			continue
		}
		for _, op := range rangeSuffixes() {
			params = append(params, obj{"name": f.column + op, "in": "query", "description": "A range on " + f.column, "schema": filterSchema(f.typ)})
		}
	}
	return params
}

// maxInValues bounds the values of one equality filter (MaxInValues in query.go).
const maxInValues = 100

// sortPattern is the pattern of a valid ?sort of d.
func sortPattern(d ResourceData) string {
	cols := []string{"id", "created_at", "updated_at"}
	for _, fd := range d.Filters {
		cols = append(cols, fd.Name)
	}
	one := "-?(" + joinAlternatives(cols) + ")"
	return "^(" + one + "(," + one + ")*)?$"
}

// sortExamples are valid values of ?sort of d.
func sortExamples(d ResourceData) []string {
	ex := []string{"-created_at", "id", "updated_at,-id", "-id,id"}
	for _, fd := range d.Filters {
		ex = append(ex, fd.Name, "-"+fd.Name+",created_at")
	}
	return ex
}

func joinAlternatives(s []string) string { return strings.Join(s, "|") }

// includeParameter is the ?include parameter of d's reads and lists.
func includeParameter(d ResourceData) obj {
	var names []string
	for _, fd := range d.References {
		names = append(names, fd.Ref.Include)
	}
	p := obj{"name": "include", "in": "query", "description": "References to load into each item, comma-separated"}
	if len(names) == 0 {
		p["description"] = "This resource references nothing: no value is accepted"
		p["schema"] = obj{"type": "string", "maxLength": 0}
		return p
	}
	slices.Sort(names)
	one := "(" + joinAlternatives(names) + ")"
	examples := slices.Clone(names)
	if len(names) > 1 {
		examples = append(examples, strings.Join(names, ","))
	}
	p["schema"] = obj{"type": "string", "pattern": "^(" + one + "(," + one + ")*)?$", "examples": examples}
	return p
}

// commonParameters are the parameters every resource shares.
func commonParameters() obj {
	return obj{
		"id":        obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "integer", "format": "int64", "minimum": 1, "maximum": math.MaxInt64}},
		"page":      obj{"name": "page", "in": "query", "description": "The page, from 1; past the last page, no items", "schema": obj{"type": "integer", "format": "int32", "minimum": 1, "maximum": math.MaxInt32, "default": 1}},
		"page_size": obj{"name": "page_size", "in": "query", "description": "Items per page", "schema": obj{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
	}
}

// errorsOf adds to responses the error responses of every operation (500, 503) and the
// given statuses.
func errorsOf(responses obj, statuses ...string) obj {
	desc := map[string]string{
		"400": "Invalid parameters or body; fields names each offending one",
		"404": "No such record",
		"409": "A unique value is taken, or the record is still referenced",
		"410": "The events after the position were pruned ([events] Retention): read the collection again, then follow from now, without a position",
		"413": "The body is too large",
		"500": "Internal error",
		"503": "The database is unavailable; see Retry-After",
	}
	for _, s := range append(statuses, "500", "503") {
		responses[s] = errorRef(desc[s])
	}
	return responses
}

// withAuth adds the bearer token requirement and its 401 to an operation of /api/v1.
func withAuth(o obj) obj {
	o["security"] = bearerSecurity()
	o["responses"].(obj)["401"] = errorRef("No valid token")
	return o
}

func bearerSecurity() []any { return []any{obj{"bearer": []string{}}} }

// commonHeaders are the response headers the server sends, declared once.
func commonHeaders() obj {
	return obj{
		"X-Request-ID": obj{"description": "The request's id: the X-Request-ID it came with when usable, else a new one; every log line of the request carries it",
			"schema": obj{"type": "string", "minLength": 1, "maxLength": 128}},
		"Retry-After": obj{"description": "Seconds to wait before trying again", "schema": obj{"type": "integer", "minimum": 0}},
		"WWW-Authenticate": obj{"description": "The challenge of the bearer scheme (RFC 6750), naming the error when a token was sent",
			"schema": obj{"type": "string"}},
		"X-Total-Count": obj{"description": "The number of items in all pages, as total in the body", "schema": obj{"type": "integer", "minimum": 0}},
		"Link": obj{"description": "RFC 8288 links to the first, prev, next and last pages, relative to the request; prev and next only where such a page exists",
			"schema": obj{"type": "string"}},
	}
}

// usedHeaders are the commonHeaders that paths refer to.
func usedHeaders(paths obj) (obj, error) {
	b, err := json.Marshal(paths)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", OpenAPIPath, err)
	}
	candidates := commonHeaders()
	maps.Copy(candidates, conditionalHeaders())
	used := obj{}
	for name, h := range candidates {
		if bytes.Contains(b, []byte(`"#/components/headers/`+name+`"`)) {
			used[name] = h
		}
	}
	return used, nil
}

// finishOperations adds to every operation of paths what all share: the headers of its
// responses (X-Request-ID on all, Retry-After on 429 and 503, WWW-Authenticate on 401),
// security: [] on public operations when there are tokens, and a HEAD beside every GET,
// answering as the GET does without a body.
func finishOperations(paths obj, jwt bool) {
	for _, p := range paths {
		item := p.(obj)
		// A stream has no HEAD: it is served by GET only.
		if get, ok := item["get"].(obj); ok && get[StreamExtension] == nil {
			item["head"] = headOf(get)
		}
		for method, o := range item {
			op, ok := o.(obj)
			if !ok || method == "parameters" {
				continue
			}
			if _, secured := op["security"]; jwt && !secured {
				op["security"] = []any{}
			}
			for status, r := range op["responses"].(obj) {
				headers, _ := r.(obj)["headers"].(obj)
				if headers == nil {
					headers = obj{}
				}
				add := []string{"X-Request-ID"}
				switch status {
				case "401":
					add = append(add, "WWW-Authenticate")
				case "429", "503":
					add = append(add, "Retry-After")
				}
				for _, h := range add {
					headers[h] = obj{"$ref": "#/components/headers/" + h}
				}
				r.(obj)["headers"] = headers
			}
		}
	}
}

// headOf is the HEAD operation of a GET: its parameters, security and responses, with the
// responses' headers and no content.
func headOf(get obj) obj {
	head := obj{}
	for k, v := range get {
		head[k] = v
	}
	head["operationId"] = "head" + upperFirst(get["operationId"].(string))
	head["summary"] = "Headers of: " + get["summary"].(string)
	responses := obj{}
	for status, r := range get["responses"].(obj) {
		resp := obj{"description": r.(obj)["description"]}
		if h, ok := r.(obj)["headers"].(obj); ok {
			headers := obj{}
			for k, v := range h {
				headers[k] = v
			}
			resp["headers"] = headers
		}
		responses[status] = resp
	}
	head["responses"] = responses
	return head
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func ref(schema string) obj { return obj{"$ref": "#/components/schemas/" + schema} }

func jsonResponse(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func errorRef(desc string) obj { return jsonResponse(desc, ref("Error")) }

func errorSchema() obj {
	return obj{
		"type":     "object",
		"required": []string{"error"},
		"properties": obj{
			"error":  obj{"type": "string"},
			"fields": obj{"type": "object", "additionalProperties": obj{"type": "string"}, "description": "each offending field or parameter, by name"},
		},
	}
}

func statusSchema() obj {
	return obj{"type": "object", "required": []string{"status"}, "properties": obj{"status": obj{"type": "string"}}}
}

func idSchema() obj { return obj{"type": "integer", "minimum": 1} }

func timeSchema(nullable bool) obj {
	if nullable {
		return obj{"type": []string{"string", "null"}, "format": "date-time"}
	}
	return obj{"type": "string", "format": "date-time"}
}
