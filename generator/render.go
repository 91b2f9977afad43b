package generator

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"path"
	"runtime"
	"strings"
	"sync"
	"text/template"
)

// File is one file of a plan: its slash-separated path relative to the project root, its
// content and its permission bits.
type File struct {
	Path string
	Body []byte
	Mode fs.FileMode
}

const (
	templateExt     = ".tmpl"
	namePlaceholder = "__name__"
)

// renderTree renders every template under dir of tfs with data. Paths in the result are
// relative to dir, with ".tmpl" removed and "__name__" replaced by name.
func renderTree(tfs fs.FS, dir, name string, data any) ([]File, error) {
	var out []File
	var paths []string
	err := fs.WalkDir(tfs, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, templateExt) {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimSuffix(p, templateExt), dir+"/")
		rel = strings.ReplaceAll(rel, namePlaceholder, name)
		out = append(out, File{Path: rel, Mode: 0o644})
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	// The files are rendered on every CPU at once: go/format is most of gingen new's time.
	// The results keep the walk's order, and the first error in that order is returned.
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Go(func() {
			for i := range next {
				out[i].Body, errs[i] = renderFile(tfs, paths[i], data)
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", dir, err)
		}
	}
	return out, nil
}

// formattedAsWritten is a template tree that vouches for some of its Go templates: one
// without an action for which FormattedAsWritten(name) is true is gofmt-clean as written.
// The embedded trees vouch for all of theirs (their tests check it); an overlay for none of
// the user's files.
type formattedAsWritten interface {
	FormattedAsWritten(name string) bool
}

// renderFile executes one template and, for Go files, formats the result so generated code
// is always gofmt-clean whatever the template's white space.
//
// A template without an action renders as its text, so it is neither parsed nor executed;
// if it is a Go file its tree vouches for (formattedAsWritten), it is not formatted either:
// formatting is most of gingen new's time, and a third of the Go files of a new project are
// copied as written. A Go template with actions whose tree vouches that it renders
// gofmt-clean (rendersFormatted) is executed and not formatted: most of the others.
func renderFile(tfs fs.FS, p string, data any) ([]byte, error) {
	src, err := fs.ReadFile(tfs, p)
	if err != nil {
		return nil, err
	}
	isGo := strings.HasSuffix(p, ".go"+templateExt)
	if !bytes.Contains(src, []byte("{{")) {
		if v, ok := tfs.(formattedAsWritten); !isGo || ok && v.FormattedAsWritten(p) {
			return src, nil
		}
		return formatGo(p, src)
	}
	tmpl, err := template.New(path.Base(p)).Option("missingkey=error").Funcs(templateFuncs()).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", p, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("execute template %s: %w", p, err)
	}
	if isGo {
		if v, ok := tfs.(rendersFormatted); !ok || !v.RendersFormatted(p) {
			return formatGo(p, buf.Bytes())
		}
	}
	return buf.Bytes(), nil
}

// formatGo is gofmt of what the template p rendered.
func formatGo(p string, src []byte) ([]byte, error) {
	formatted, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("template %s renders invalid Go: %w", p, err)
	}
	return formatted, nil
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		// kube turns a project name into a Kubernetes object name (see kubeName).
		"kube": kubeName,
	}
}

// rendersFormatted is a template tree that vouches for some of its Go templates with
// actions: one for which RendersFormatted(name) is true renders gofmt-clean output with the
// data of every project gingen generates.
type rendersFormatted interface {
	RendersFormatted(name string) bool
}
