package main

import "strings"

// addSumLines returns the go.sum sum with the lines of one module added before the first line
// of a module whose path sorts after it: where the go command, which sorts go.sum by module
// path, puts them. The other lines keep their order.
func addSumLines(sum []byte, add []string) []byte {
	path := strings.Fields(add[0])[0]
	lines := strings.SplitAfter(string(sum), "\n")
	at := len(lines)
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] > path {
			at = i
			break
		}
	}
	var out strings.Builder
	for _, l := range lines[:at] {
		out.WriteString(l)
	}
	for _, l := range add {
		out.WriteString(l + "\n")
	}
	for _, l := range lines[at:] {
		out.WriteString(l)
	}
	return []byte(out.String())
}
