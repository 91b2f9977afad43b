package generator

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"strings"
)

// Markers: comments in a generated project above which `add` inserts lines.
const (
	MarkerModels = "gingen:models"
	MarkerRoutes = "gingen:routes"
)

// markerHome says where a marker belongs, for the error that asks to put it back.
func markerHome(marker string) string {
	switch marker {
	case MarkerModels:
		return "inside the []any{...} list that func All returns"
	case MarkerRoutes:
		return "inside func Register, after the last route registration"
	}
	return "where gingen inserts lines"
}

// splitLines splits src into lines that keep their line endings, so that joining them gives
// src back byte for byte.
func splitLines(src []byte) [][]byte {
	if len(src) == 0 {
		return nil
	}
	return bytes.SplitAfter(src, []byte("\n"))
}

// isMarker reports whether a line is the marker comment, spelled "// gingen:x" or "//gingen:x".
func isMarker(line []byte, marker string) bool {
	s := strings.TrimSpace(string(line))
	rest, ok := strings.CutPrefix(s, "//")
	return ok && strings.TrimSpace(rest) == marker
}

// findMarker returns the index of the only marker line in lines.
func findMarker(path string, lines [][]byte, marker string) (int, error) {
	var at []int
	for i, l := range lines {
		if isMarker(l, marker) {
			at = append(at, i)
		}
	}
	switch len(at) {
	case 0:
		return 0, inputErrorf("%s has no `// %s` marker, which gingen needs to register the resource; put the line `// %s` back %s, then run the command again", path, marker, marker, markerHome(marker))
	case 1:
		return at[0], nil
	}
	return 0, inputErrorf("%s has %d `// %s` markers (lines %s); keep only the one %s", path, len(at), marker, joinLineNumbers(at), markerHome(marker))
}

func joinLineNumbers(idx []int) string {
	s := make([]string, len(idx))
	for i, n := range idx {
		s[i] = fmt.Sprint(n + 1)
	}
	return strings.Join(s, ", ")
}

// insertAtMarker inserts ins.Line into src on a line of its own just above the marker,
// indented like the marker and ended like it. Everything else in src is kept byte for byte.
// It is idempotent: when src already has the line (anywhere, whatever its indentation), src
// is returned unchanged with changed false. line is the 1-based number of the line. Only the
// renderer inserts so, into the templates' text (renderProject); the commands merge the
// render into the user's files (manifestChange).
func insertAtMarker(path string, src []byte, ins Insertion) (out []byte, line int, changed bool, err error) {
	lines := splitLines(src)
	if i := findLine(lines, ins.Line); i >= 0 {
		return src, i + 1, false, nil
	}
	m, err := findMarker(path, lines, ins.Marker)
	if err != nil {
		return nil, 0, false, err
	}
	marker := lines[m]
	indent := marker[:len(marker)-len(bytes.TrimLeft(marker, " \t"))]
	eol := "\n"
	if bytes.HasSuffix(marker, []byte("\r\n")) {
		eol = "\r\n"
	}
	var buf bytes.Buffer
	for i, l := range lines {
		if i == m {
			buf.Write(indent)
			buf.WriteString(ins.Line)
			buf.WriteString(eol)
		}
		buf.Write(l)
	}
	out = buf.Bytes()
	if err := stillParses(path, src, out); err != nil {
		return nil, 0, false, inputErrorf("%s: inserting %q above line %d would break the file (%v); move the `// %s` marker %s", path, ins.Line, m+1, err, ins.Marker, markerHome(ins.Marker))
	}
	return out, m + 1, true, nil
}

// findLine returns the index of the first line whose text, white space trimmed, is text.
func findLine(lines [][]byte, text string) int {
	for i, l := range lines {
		if strings.TrimSpace(string(l)) == text {
			return i
		}
	}
	return -1
}

// stillParses checks that an edit of a Go file that parsed leaves it parsing. A file that did
// not parse before is the user's work in progress: it is not gingen's to judge.
func stillParses(path string, before, after []byte) error {
	if !strings.HasSuffix(path, ".go") {
		return nil
	}
	if _, err := parser.ParseFile(token.NewFileSet(), path, before, parser.SkipObjectResolution); err != nil {
		return nil //nolint:nilerr // a file that did not parse before is not gingen's to judge
	}
	_, err := parser.ParseFile(token.NewFileSet(), path, after, parser.SkipObjectResolution)
	return err
}
