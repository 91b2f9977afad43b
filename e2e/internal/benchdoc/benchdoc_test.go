package benchdoc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReplace(t *testing.T) {
	tests := []struct {
		name, doc, body, want string
		wantErr               bool
	}{
		{name: "an empty file gets the section", doc: "", body: "figures\n",
			want: "<!-- gingen:bench x -->\nfigures\n<!-- /gingen:bench x -->\n"},
		{name: "a missing section is appended after a blank line", doc: "# Title\n\ntext\n", body: "figures",
			want: "# Title\n\ntext\n\n<!-- gingen:bench x -->\nfigures\n<!-- /gingen:bench x -->\n"},
		{name: "a section is replaced and the rest kept byte for byte",
			doc:  "a\n<!-- gingen:bench x -->\nold\nold\n<!-- /gingen:bench x -->\nb\n<!-- gingen:bench y -->\nkeep\n<!-- /gingen:bench y -->\n",
			body: "new\n",
			want: "a\n<!-- gingen:bench x -->\nnew\n<!-- /gingen:bench x -->\nb\n<!-- gingen:bench y -->\nkeep\n<!-- /gingen:bench y -->\n"},
		{name: "a section opened twice is an error", doc: "<!-- gingen:bench x -->\n<!-- gingen:bench x -->\n<!-- /gingen:bench x -->\n", wantErr: true},
		{name: "a section closed before it opens is an error", doc: "<!-- /gingen:bench x -->\n<!-- gingen:bench x -->\n", wantErr: true},
		{name: "an unclosed section is an error", doc: "<!-- gingen:bench x -->\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Replace([]byte(tt.doc), "x", []byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Replace = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("Replace =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestReplaceRefusesABadName(t *testing.T) {
	if _, err := Replace(nil, "Bad Name", nil); err == nil {
		t.Fatal("Replace accepted a name with a space")
	}
}

func TestReplaceSectionWritesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := ReplaceSection(path, "a", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceSection(path, "b", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceSection(path, "a", []byte("three")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "<!-- gingen:bench a -->\nthree\n<!-- /gingen:bench a -->\n\n<!-- gingen:bench b -->\ntwo\n<!-- /gingen:bench b -->\n"
	if string(got) != want {
		t.Fatalf("file =\n%q\nwant\n%q", got, want)
	}
}
