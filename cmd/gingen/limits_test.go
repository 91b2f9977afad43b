package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAHugeProjectNameGetsTheNameRule: a project name of 10,000 characters is told the name
// rule in one short line, before the name is used in a path (it used to fail with the file
// system's "file name too long").
func TestAHugeProjectNameGetsTheNameRule(t *testing.T) {
	dir := t.TempDir()
	name := strings.Repeat("a", 10_000)
	for _, extra := range [][]string{nil, {"--dry-run"}, {"--force"}, {"--force", "--dry-run"}} {
		args := append([]string{"new", name, "--dir", dir, "--yes"}, extra...)
		code, out := runInProcess(args...)
		if code != exitFailure || !strings.Contains(out, "is longer than 63 characters") || strings.Count(out, "\n") != 1 || len(out) > 300 {
			t.Errorf("gingen new <10,000 a> %s: exit %d, output %q; want exit 1 and one short line with the name rule", strings.Join(extra, " "), code, out)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("the folder holds %v, %v; want nothing written", entries, err)
	}
}

// TestAHugeManifestIsRefused: a gingen.yaml over 1 MiB (here 200 MiB, as the attack of issue
// 18 used) is refused in one line by every command that reads it, before it is read.
func TestAHugeManifestIsRefused(t *testing.T) {
	dir := t.TempDir()
	if code, out := runInProcess("new", "myblog", "--dir", dir, "--quiet"); code != exitOK {
		t.Fatalf("gingen new: %s", out)
	}
	project := filepath.Join(dir, "myblog")
	if err := os.Truncate(filepath.Join(project, "gingen.yaml"), 200<<20); err != nil {
		t.Fatal(err)
	}
	t.Chdir(project)
	for _, args := range [][]string{
		{"add", "resource", "foo", "title:string", "--dry-run"},
		{"add", "resource", "foo", "title:string"},
		{"destroy", "resource", "foo"},
		{"add", "field", "foo", "x:int"},
		{"upgrade", "--dry-run"},
		{"new", "myblog", "--dir", "..", "--force", "--yes"},
	} {
		code, out := runInProcess(args...)
		if code != exitFailure || !strings.Contains(out, "gingen.yaml is 200.0 MiB, more than the 1 MiB gingen reads") || strings.Count(out, "\n") != 1 {
			t.Errorf("gingen %s: exit %d, output %q; want exit 1 and one line on the size", strings.Join(args, " "), code, out)
		}
	}
}
