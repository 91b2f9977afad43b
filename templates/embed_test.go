package templates

import (
	"bytes"
	"go/format"
	"io/fs"
	"strings"
	"testing"
)

// The generator copies a Go template without an action as written, without formatting it,
// when the tree vouches for it (FormattedAsWritten), as the embedded trees do for all of
// theirs: each must be gofmt-clean.
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
		if v.FormattedAsWritten(p) && !bytes.Equal(formatted, src) {
			t.Errorf("%s is vouched for but is not gofmt-clean: run gofmt on it (and go test ./generator -run Golden -update, as the templates' digest changes)", p)
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
