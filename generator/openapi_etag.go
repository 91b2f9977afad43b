package generator

// The conditional requests of a resource's item routes (the generated
// routers/api/v1/etag.go): the ETag header of the answers showing one item, If-None-Match
// on GET (304), If-Match on PUT, PATCH and DELETE (412), and the item's read-only version.

// versionSchema is the schema of an item's version, the counter behind its ETag.
func versionSchema() obj {
	return obj{"type": "integer", "minimum": 1, "readOnly": true,
		"description": "The number of writes of the record, from 1; its ETag is \"<id>.<version>\""}
}

// conditionalParameters are the components/parameters of conditional requests.
func conditionalParameters() obj {
	return obj{
		"if_match": obj{"name": "If-Match", "in": "header",
			"description": "Entity tags (the ETag of a read, e.g. \"3.7\") or *: the write happens only while the record has one of them, otherwise 412",
			"schema":      obj{"type": "string"}},
		"if_none_match": obj{"name": "If-None-Match", "in": "header",
			"description": "Entity tags or *: 304 without a body while the record still has one of them (without ?include)",
			"schema":      obj{"type": "string"}},
	}
}

// conditionalHeaders are the components/headers of conditional requests.
func conditionalHeaders() obj {
	return obj{"ETag": obj{"description": "The strong entity tag of the record as shown: \"<id>.<version>\"",
		"schema": obj{"type": "string", "pattern": `^"[0-9]+\.[0-9]+"$`}}}
}

// etagHeader is a reference to the ETag header, for a response's headers.
func etagHeader() obj { return obj{"$ref": "#/components/headers/ETag"} }

// withETag adds the ETag header to a response.
func withETag(resp obj) obj {
	headers, _ := resp["headers"].(obj)
	if headers == nil {
		headers = obj{}
	}
	headers["ETag"] = etagHeader()
	resp["headers"] = headers
	return resp
}

// conditionalGet adds If-None-Match and its 304 to a GET of one item.
func conditionalGet(o obj) obj {
	o["parameters"] = append(o["parameters"].([]any), obj{"$ref": "#/components/parameters/if_none_match"})
	o["responses"].(obj)["304"] = withETag(obj{"description": "Not modified: the record still has an entity tag of If-None-Match"})
	return o
}

// conditionalWrite adds If-Match and its 412 to a PUT, PATCH or DELETE of one item.
func conditionalWrite(o obj) obj {
	params, _ := o["parameters"].([]any)
	o["parameters"] = append(params, obj{"$ref": "#/components/parameters/if_match"})
	o["responses"].(obj)["412"] = withETag(errorRef("If-Match names no entity tag the record has: another write changed it; the response's ETag is the current one"))
	return o
}
