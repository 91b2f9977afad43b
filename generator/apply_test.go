package generator

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testFiles() []File {
	return []File{
		{Path: "main.go", Body: []byte("package main\n"), Mode: 0o644},
		{Path: "conf/app.ini", Body: []byte("[app]\n"), Mode: 0o644},
		{Path: "deploy/run.sh", Body: []byte("#!/bin/sh\n"), Mode: 0o755},
	}
}

// listTree returns every path under dir, folders included, relative and slash-separated.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestWriteProjectCreatesEveryFileWithItsMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "myblog")
	changes, err := WriteProject(dir, testFiles(), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 {
		t.Fatalf("changes = %v, want 3", changes)
	}
	for _, f := range testFiles() {
		got, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil || string(got) != string(f.Body) {
			t.Errorf("%s = %q, %v; want %q", f.Path, got, err, f.Body)
		}
		info, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil || info.Mode().Perm() != f.Mode {
			t.Errorf("%s mode = %v, want %v", f.Path, info.Mode().Perm(), f.Mode)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("parent holds %d entries, want only the project (no temporary folder left)", len(entries))
	}
}

func TestWriteProjectFillsAnEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteProject(dir, testFiles(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
		t.Fatal(err)
	}
}

func TestWriteProjectFailingMidwayLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "myblog")
	// "conf" is both a file and a folder: the second write fails after the first succeeded.
	files := append(testFiles(), File{Path: "conf", Body: []byte("x"), Mode: 0o644})
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	if _, err := WriteProject(dir, files, WriteOptions{}); err == nil {
		t.Fatal("WriteProject succeeded, want an error")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("parent holds %v after a failed write, want nothing", listTree(t, parent))
	}
}

func TestWriteProjectRefusesANonEmptyFolderWithoutForce(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "main.go")
	if err := os.WriteFile(mine, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := WriteProject(dir, testFiles(), WriteOptions{})
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an InputError naming --force", err)
	}
	if got, _ := os.ReadFile(mine); string(got) != "mine\n" {
		t.Errorf("user file clobbered: %q", got)
	}
	if got := listTree(t, dir); !slices.Equal(got, []string{".", "main.go"}) {
		t.Errorf("tree = %v, want only the user's file", got)
	}
}

func TestWriteProjectWithForceOverwritesOnlyWhatDiffers(t *testing.T) {
	dir := t.TempDir()
	files := testFiles()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), files[0].Body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "app.ini"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "NOTES"), []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changes, err := WriteProject(dir, files, WriteOptions{Force: true, KeepOld: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{ActionIdentical, "main.go"}, {ActionForce, "conf/app.ini"}, {ActionCreate, "conf/app.ini.gingen-old"}, {ActionCreate, "deploy/run.sh"}}
	if !slices.Equal(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "conf", "app.ini.gingen-old")); string(got) != "old\n" {
		t.Errorf("conf/app.ini.gingen-old = %q, want the text --force overwrote", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "conf", "app.ini")); string(got) != "[app]\n" {
		t.Errorf("conf/app.ini = %q, want the generated content", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "NOTES")); string(got) != "keep\n" {
		t.Errorf("a file gingen does not generate was touched: %q", got)
	}
	if got := listTree(t, dir); !slices.Equal(got, []string{".", "NOTES", "conf", "conf/app.ini", "conf/app.ini.gingen-old", "deploy", "deploy/run.sh", "main.go"}) {
		t.Errorf("tree = %v, want no temporary files left", got)
	}
}

func TestCommitFilesFailingMidwayRestoresEverything(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// b is a file, so staging b/c.txt fails after a.txt was staged.
	if err := os.WriteFile(filepath.Join(dir, "b"), []byte("file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := commitFiles(dir, []File{
		{Path: "a.txt", Body: []byte("new\n"), Mode: 0o644},
		{Path: "new/d.txt", Body: []byte("d\n"), Mode: 0o644},
		{Path: "b/c.txt", Body: []byte("c\n"), Mode: 0o644},
	})
	if err == nil {
		t.Fatal("commitFiles succeeded, want an error")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(got) != "old\n" {
		t.Errorf("a.txt = %q after a failed commit, want the old content", got)
	}
	if got := listTree(t, dir); !slices.Equal(got, []string{".", "a.txt", "b"}) {
		t.Errorf("tree = %v, want it as before", got)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	parent := t.TempDir()
	changes, err := WriteProject(filepath.Join(parent, "myblog"), testFiles(), WriteOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 || changes[0].Action != ActionCreate {
		t.Errorf("changes = %v, want 3 creates", changes)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("dry run wrote %v", listTree(t, parent))
	}
}

func TestForceKeepsWhatItOverwritesUnlessGingenWroteIt(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"edited.txt": "mine\n", "generated.txt": "old template\n", "same.txt": "same\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	recorded := &Manifest{Files: []GeneratedFile{
		{Path: "edited.txt", SHA256: digest([]byte("what gingen wrote\n"))},
		{Path: "generated.txt", SHA256: digest([]byte("old template\n"))},
	}}
	files := []File{
		{Path: "edited.txt", Body: []byte("new\n"), Mode: 0o644},
		{Path: "generated.txt", Body: []byte("new template\n"), Mode: 0o644},
		{Path: "same.txt", Body: []byte("same\n"), Mode: 0o644},
	}
	changes, err := WriteProject(dir, files, WriteOptions{Force: true, KeepOld: true, Recorded: recorded})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{ActionForce, "edited.txt"}, {ActionCreate, "edited.txt" + OldFileSuffix}, {ActionForce, "generated.txt"}, {ActionIdentical, "same.txt"}}
	if !slices.Equal(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	got := snapshot(t, dir)
	if got["edited.txt.gingen-old"] != "-rw-r-----\nmine\n" {
		t.Errorf("edited.txt.gingen-old = %q, want the user's text with its mode", got["edited.txt.gingen-old"])
	}
	if _, ok := got["generated.txt.gingen-old"]; ok {
		t.Error("a file that held what gingen wrote got a copy")
	}
}
