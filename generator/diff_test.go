package generator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeDiffs: the diffs of a project with an open conflict and a deleted file: the
// conflict diffs from the user's text to the side file's, the missing file from /dev/null,
// only the files named, an unknown path is an input error.
func TestUpgradeDiffs(t *testing.T) {
	dir, _, _ := conflictedProject(t)
	if err := os.Remove(filepath.Join(dir, "Makefile")); err != nil {
		t.Fatal(err)
	}
	project := os.DirFS(dir)
	plan, err := PlanUpgrade(project, UpgradeOptions{}, changedTemplates(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := UpgradeDiffs(project, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]FileDiff{}
	for _, d := range diffs {
		got[d.Path] = d
	}
	if len(diffs) != 2 {
		t.Errorf("%d diffs (%v); want main.go and Makefile", len(diffs), got)
	}
	main := got["main.go"]
	if main.Action != ActionConflict || !strings.HasPrefix(main.Diff, "--- a/main.go\n+++ b/main.go\n@@ -1,") ||
		!strings.Contains(main.Diff, "\n-// Command myblog (edited) serves") || !strings.Contains(main.Diff, "\n+// Upgraded by a newer gingen.\n") {
		t.Errorf("main.go: %s\n%s\nwant the conflict, from the user's first line to the template's", main.Action, main.Diff)
	}
	mk := got["Makefile"]
	if mk.Action != ActionCreate || !strings.HasPrefix(mk.Diff, "--- /dev/null\n+++ b/Makefile\n@@ -0,0 +1,") || strings.Contains(mk.Diff, "\n-") {
		t.Errorf("Makefile: %s\n%s\nwant a creation from /dev/null", mk.Action, mk.Diff)
	}

	// gingen.yaml, named, is a file upgrade knows (it would not change here: the conflict is
	// recorded already); main.go named: its diff only.
	only, err := UpgradeDiffs(project, plan, []string{ManifestName, "main.go"})
	if err != nil || len(only) != 1 || only[0].Path != "main.go" {
		t.Errorf("gingen.yaml and main.go named: %v, %v; want main.go's diff only", only, err)
	}
	var input *InputError
	if _, err := UpgradeDiffs(project, plan, []string{"nosuch.go"}); !errors.As(err, &input) {
		t.Errorf("an unknown file: %v; want an input error", err)
	}
}

func TestLinesMarksAMissingNewline(t *testing.T) {
	for in, want := range map[string][]string{
		"":         nil,
		"a\nb\n":   {"a\n", "b\n"},
		"a\nb":     {"a\n", "b\n\\ No newline at end of file\n"},
		"\n":       {"\n"},
		"one":      {"one\n\\ No newline at end of file\n"},
		"a\n\nb\n": {"a\n", "\n", "b\n"},
	} {
		got := lines([]byte(in))
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("lines(%q) = %q; want %q", in, got, want)
		}
	}
}
