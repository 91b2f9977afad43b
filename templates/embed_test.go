package templates

import (
	"bytes"
	"go/format"
	"io/fs"
	"strings"
	"testing"
)

// The generator copies a Go template without an action as written, without formatting it,
// when the tree vouches for it (FormattedAsWritten): each such template must be gofmt-clean,
// and each it does not vouch for must really need gofmt, or the list is stale.
func TestStaticGoTemplatesAreGofmtClean(t *testing.T) {
	tfs := FS()
	v, ok := tfs.(interface{ FormattedAsWritten(string) bool })
	if !ok {
		t.Fatal("FS() does not vouch for its Go templates (no FormattedAsWritten method)")
	}
	static := 0
	err := fs.WalkDir(tfs, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go.tmpl") {
			return err
		}
		src, err := fs.ReadFile(tfs, p)
		if err != nil {
			return err
		}
		if bytes.Contains(src, []byte("{{")) {
			return nil
		}
		static++
		formatted, err := format.Source(src)
		if err != nil {
			t.Errorf("%s has no action but is not valid Go: %v", p, err)
			return nil
		}
		clean := bytes.Equal(formatted, src)
		switch vouched := v.FormattedAsWritten(p); {
		case vouched && !clean:
			t.Errorf("%s is vouched for but is not gofmt-clean: run gofmt on it (and go test ./generator -run Golden -update), or add it to FormattedAsWritten's exceptions", p)
		case !vouched && clean:
			t.Errorf("%s is gofmt-clean now: remove it from FormattedAsWritten's exceptions", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if static == 0 {
		t.Fatal("no Go template without an action found: the walk checked nothing")
	}
}
