package generator

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// vouching is a template tree that vouches for every Go template, with actions or without, as
// the embedded trees do for most of theirs.
type vouching struct{ fstest.MapFS }

func (vouching) FormattedAsWritten(string) bool { return true }

// RendersFormatted vouches for every Go template with actions, too.
func (vouching) RendersFormatted(string) bool { return true }

// A template without an action is copied as written, and formatted unless its tree vouches
// that it is gofmt-clean; a user's file laid over a vouching tree is always formatted.
func TestRenderFileWithoutAction(t *testing.T) {
	const unformatted = "package p\nfunc  F( ) {return}\n"
	const formatted = "package p\n\nfunc F() { return }\n"
	files := fstest.MapFS{
		"t/a.go.tmpl":     {Data: []byte(unformatted)},
		"t/bad.go.tmpl":   {Data: []byte("package p\nfunc {\n")},
		"t/notes.md.tmpl": {Data: []byte("} {  }}\n\t{ .Name }\n")},
	}
	user := fstest.MapFS{"t/a.go.tmpl": {Data: []byte(unformatted)}}
	cases := []struct {
		name, file, want, err string
		tfs                   fs.FS
	}{
		{name: "a Go file of a tree that vouches for nothing is formatted", tfs: files, file: "t/a.go.tmpl", want: formatted},
		{name: "a Go file of a vouching tree is copied as written", tfs: vouching{files}, file: "t/a.go.tmpl", want: unformatted},
		{name: "the user's Go file laid over a vouching tree is formatted", tfs: Overlay(vouching{files}, user), file: "t/a.go.tmpl", want: formatted},
		{name: "invalid Go of a tree that vouches for nothing is refused", tfs: files, file: "t/bad.go.tmpl", err: "renders invalid Go"},
		{name: "another file is copied as written, braces and all", tfs: files, file: "t/notes.md.tmpl", want: "} {  }}\n\t{ .Name }\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderFile(tc.tfs, tc.file, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("rendered %q, want %q", got, tc.want)
			}
		})
	}
}

// A Go template with actions is executed, then formatted unless its tree vouches that it
// renders gofmt-clean; a user's file laid over a vouching tree is always formatted, and a
// vouched template is still executed with the data.
func TestRenderFileWithActions(t *testing.T) {
	const unformatted = "package p\nfunc  {{.}}( ) {return}\n"
	const formatted = "package p\n\nfunc F() { return }\n"
	files := fstest.MapFS{"t/a.go.tmpl": {Data: []byte(unformatted)}}
	user := fstest.MapFS{"t/a.go.tmpl": {Data: []byte(unformatted)}}
	for _, tc := range []struct {
		name string
		tfs  fs.FS
		want string
	}{
		{"a tree that vouches for nothing: executed and formatted", files, formatted},
		{"a vouching tree: executed, not formatted", vouching{files}, "package p\nfunc  F( ) {return}\n"},
		{"the user's file over a vouching tree: executed and formatted", Overlay(vouching{files}, user), formatted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderFile(tc.tfs, "t/a.go.tmpl", "F")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("rendered %q, want %q", got, tc.want)
			}
		})
	}
}

// An overlay vouches for a file, as copied as written or as rendering gofmt-clean, only
// where it serves the base's file and the base vouches.
func TestOverlayVouchesOnlyForTheBasesFiles(t *testing.T) {
	base := fstest.MapFS{"a.go.tmpl": {}, "b.go.tmpl": {}}
	user := fstest.MapFS{"b.go.tmpl": {}}
	vouches := map[string]func(fs.FS, string) bool{
		"FormattedAsWritten": func(tfs fs.FS, name string) bool {
			v, ok := tfs.(formattedAsWritten)
			return ok && v.FormattedAsWritten(name)
		},
		"RendersFormatted": func(tfs fs.FS, name string) bool {
			v, ok := tfs.(rendersFormatted)
			return ok && v.RendersFormatted(name)
		},
	}
	for _, tc := range []struct {
		tfs  fs.FS
		name string
		want bool
	}{
		{Overlay(vouching{base}, user), "a.go.tmpl", true},
		{Overlay(vouching{base}, user), "b.go.tmpl", false},
		{Overlay(base, user), "a.go.tmpl", false},
		{Overlay(Overlay(vouching{base}, fstest.MapFS{}), user), "a.go.tmpl", true},
	} {
		for method, vouch := range vouches {
			if got := vouch(tc.tfs, tc.name); got != tc.want {
				t.Errorf("%T.%s(%s) = %v, want %v", tc.tfs, method, tc.name, got, tc.want)
			}
		}
	}
}
