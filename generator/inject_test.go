package generator

import (
	"strings"
	"testing"
)

const routesSrc = `package v1

func Register(api *gin.RouterGroup, db *gorm.DB) {
	api.GET("/ping", ping) // mine
	// gingen:routes
	api.GET("/pong", pong) // mine too
}
`

var articleRoute = Insertion{Path: "routers/api/v1/routes.go", Marker: MarkerRoutes, Line: `RegisterArticles(api, db)`}

func TestInsertAtMarkerAddsALineAboveTheMarkerAndKeepsTheRest(t *testing.T) {
	out, line, changed, err := insertAtMarker(articleRoute.Path, []byte(routesSrc), articleRoute)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(routesSrc, "\t// gingen:routes", "\tRegisterArticles(api, db)\n\t// gingen:routes", 1)
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if !changed || line != 5 {
		t.Errorf("changed, line = %v, %d; want true, 5", changed, line)
	}

	again, line, changed, err := insertAtMarker(articleRoute.Path, out, articleRoute)
	if err != nil {
		t.Fatal(err)
	}
	if changed || string(again) != string(out) || line != 5 {
		t.Errorf("a second insertion changed the file (changed %v, line %d):\n%s", changed, line, again)
	}
}

func TestInsertAtMarkerKeepsIndentationAndLineEndings(t *testing.T) {
	src := "package models\r\n\r\nfunc All() []any {\r\n    return []any{\r\n        // gingen:models\r\n    }\r\n}\r\n"
	ins := Insertion{Path: "models/models.go", Marker: MarkerModels, Line: "&Tag{},"}
	out, _, _, err := insertAtMarker(ins.Path, []byte(src), ins)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(src, "        // gingen:models\r\n", "        &Tag{},\r\n        // gingen:models\r\n", 1)
	if string(out) != want {
		t.Errorf("inserted line does not follow the marker's indentation and CRLF:\n%q\nwant\n%q", out, want)
	}
}

func TestInsertAtMarkerRefusesAMissingOrRepeatedMarker(t *testing.T) {
	missing := strings.Replace(routesSrc, "\t// gingen:routes\n", "", 1)
	_, _, _, err := insertAtMarker(articleRoute.Path, []byte(missing), articleRoute)
	wantInputError(t, err, "routers/api/v1/routes.go has no `// gingen:routes` marker", "put the line `// gingen:routes` back", "inside func Register")

	twice := strings.Replace(routesSrc, "\t// gingen:routes\n", "\t// gingen:routes\n\t// gingen:routes\n", 1)
	_, _, _, err = insertAtMarker(articleRoute.Path, []byte(twice), articleRoute)
	wantInputError(t, err, "2 `// gingen:routes` markers", "lines 5, 6", "keep only the one inside func Register")
}

func TestInsertAtMarkerRefusesToBreakTheFile(t *testing.T) {
	// The marker was moved outside the function body: a call there is not Go.
	moved := "package v1\n\n// gingen:routes\nfunc Register() {}\n"
	_, _, _, err := insertAtMarker(articleRoute.Path, []byte(moved), articleRoute)
	wantInputError(t, err, "would break the file", "move the `// gingen:routes` marker", "inside func Register")
}
