// Package benchdoc keeps docs/BENCHMARKS.md as sections, each written by its own command, so
// that one benchmark's run never erases another's figures. A section is the text between
//
//	<!-- gingen:bench NAME -->
//	<!-- /gingen:bench NAME -->
//
// lines; ReplaceSection rewrites one and leaves the rest of the file byte for byte.
package benchdoc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Markers returns the opening and closing marker lines of the section name.
func Markers(name string) (begin, end string) {
	return "<!-- gingen:bench " + name + " -->", "<!-- /gingen:bench " + name + " -->"
}

// Replace returns doc with section name's body replaced by body, or with the section
// appended at the end when doc has none. A section opened but not closed, or closed twice, is
// an error rather than a guess.
func Replace(doc []byte, name string, body []byte) ([]byte, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("benchdoc: section name %q: use lower-case letters, digits and '-'", name)
	}
	begin, end := Markers(name)
	section := make([]byte, 0, len(body)+len(begin)+len(end)+3)
	section = append(section, begin...)
	section = append(section, '\n')
	section = append(section, bytes.TrimRight(body, "\n")...)
	section = append(section, '\n')
	section = append(section, end...)

	b, e := bytes.Count(doc, []byte(begin)), bytes.Count(doc, []byte(end))
	switch {
	case b == 0 && e == 0:
		out := bytes.TrimRight(doc, "\n")
		if len(out) > 0 {
			out = append(out, '\n', '\n')
		}
		out = append(out, section...)
		return append(out, '\n'), nil
	case b != 1 || e != 1:
		return nil, fmt.Errorf("benchdoc: section %s is opened %d and closed %d times; want once each", name, b, e)
	}
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if j < i {
		return nil, fmt.Errorf("benchdoc: section %s is closed before it is opened", name)
	}
	out := append([]byte{}, doc[:i]...)
	out = append(out, section...)
	return append(out, doc[j+len(end):]...), nil
}

// ReplaceSection rewrites section name of the file at path (created if missing) with body,
// atomically: a temp file beside it, renamed into place.
func ReplaceSection(path, name string, body []byte) error {
	doc, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("benchdoc: %w", err)
	}
	out, err := Replace(doc, name, body)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".benchdoc-*")
	if err != nil {
		return fmt.Errorf("benchdoc: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("benchdoc: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("benchdoc: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("benchdoc: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("benchdoc: %w", err)
	}
	return nil
}
