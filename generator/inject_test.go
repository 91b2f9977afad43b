package generator

import (
	"bytes"
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

	back, line, found, err := removeInserted(articleRoute.Path, out, articleRoute)
	if err != nil {
		t.Fatal(err)
	}
	if !found || line != 5 || string(back) != routesSrc {
		t.Errorf("removeInserted = found %v, line %d:\n%s\nwant the original back", found, line, back)
	}
}

func TestInsertAtMarkerKeepsIndentationAndLineEndings(t *testing.T) {
	src := "package models\r\n\r\nfunc All() []any {\r\n    return []any{\r\n        // gingen:models\r\n    }\r\n}\r\n"
	ins := Insertion{Path: "models/models.go", Marker: MarkerModels, Line: "&Tag{},"}
	out, _, _, err := insertAtMarker(ins.Path, []byte(src), ins)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "        &Tag{},\r\n        // gingen:models\r\n") {
		t.Errorf("inserted line does not follow the marker's indentation and CRLF:\n%q", out)
	}
	back, _, _, err := removeInserted(ins.Path, out, ins)
	if err != nil || string(back) != src {
		t.Errorf("removeInserted = %q, %v; want the original back", back, err)
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

func TestRemoveInsertedReportsALineAlreadyGone(t *testing.T) {
	out, _, found, err := removeInserted(articleRoute.Path, []byte(routesSrc), articleRoute)
	if err != nil || found || string(out) != routesSrc {
		t.Errorf("removeInserted on a file without the line = found %v, %v; want not found and no change", found, err)
	}
}

// removeInserted removes the line insertAtMarker inserted (tests only: commands remove
// registration lines by rendering the project without them, manifestChange), with its line ending; found is
// false when src no longer has it. When the line appears more than once, the one nearest
// above the marker goes (that is where insertAtMarker put it).
func removeInserted(path string, src []byte, ins Insertion) (out []byte, line int, found bool, err error) {
	lines := splitLines(src)
	var at []int
	for i, l := range lines {
		if strings.TrimSpace(string(l)) == ins.Line {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return src, 0, false, nil
	}
	drop := at[len(at)-1]
	if m, err := findMarker(path, lines, ins.Marker); err == nil {
		for _, i := range at {
			if i < m {
				drop = i
			}
		}
	}
	var buf bytes.Buffer
	for i, l := range lines {
		if i != drop {
			buf.Write(l)
		}
	}
	out = buf.Bytes()
	if err := stillParses(path, src, out); err != nil {
		return nil, 0, false, inputErrorf("%s: removing %q from line %d would break the file (%v); remove the line by hand, then run the command again with --force", path, ins.Line, drop+1, err)
	}
	return out, drop + 1, true, nil
}
