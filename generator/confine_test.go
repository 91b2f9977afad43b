package generator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// linkedProject makes root/ with models/ a symbolic link to a folder outside root that holds
// models.go, and returns root and that folder.
func linkedProject(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "project"), filepath.Join(base, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "models.go"), []byte("package models // mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "models")); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

func wantEscape(t *testing.T, err error, link string) {
	t.Helper()
	var input *InputError
	if !errors.As(err, &input) || !strings.Contains(err.Error(), link+" is a symbolic link to ") {
		t.Fatalf("err = %v, want an InputError naming the link %s", err, link)
	}
}

func TestCommitNeverWritesOrDeletesThroughALinkOutOfTheRoot(t *testing.T) {
	t.Run("a write through a linked folder is refused and nothing is left", func(t *testing.T) {
		root, outside := linkedProject(t)
		err := commit(root, []File{
			{Path: "main.go", Body: []byte("package main\n"), Mode: 0o644},
			{Path: "models/models.go", Body: []byte("package models\n"), Mode: 0o644},
		}, nil)
		wantEscape(t, err, "models")
		if got, _ := os.ReadFile(filepath.Join(outside, "models.go")); string(got) != "package models // mine\n" {
			t.Errorf("outside models.go = %q, changed", got)
		}
		if entries, _ := os.ReadDir(outside); len(entries) != 1 {
			t.Errorf("outside holds %d entries, want 1 (no temporary file)", len(entries))
		}
		if _, err := os.Stat(filepath.Join(root, "main.go")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("main.go written although the commit failed: %v", err)
		}
	})
	t.Run("a delete through a linked folder is refused and the file kept", func(t *testing.T) {
		root, outside := linkedProject(t)
		err := commit(root, nil, []string{"models/models.go"})
		wantEscape(t, err, "models")
		if _, err := os.Stat(filepath.Join(outside, "models.go")); err != nil {
			t.Errorf("outside models.go: %v", err)
		}
	})
	t.Run("an absolute link is refused even when it points inside", func(t *testing.T) {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "real"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "models")); err != nil {
			t.Fatal(err)
		}
		wantEscape(t, commit(root, []File{{Path: "models/a.go", Body: []byte("x"), Mode: 0o644}}, nil), "models")
	})
	t.Run("a relative link that stays inside is followed", func(t *testing.T) {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "real"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("real", filepath.Join(root, "models")); err != nil {
			t.Fatal(err)
		}
		if err := commit(root, []File{{Path: "models/a.go", Body: []byte("x"), Mode: 0o644}}, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(filepath.Join(root, "real", "a.go")); err != nil || string(got) != "x" {
			t.Errorf("real/a.go = %q, %v", got, err)
		}
	})
}

func TestWriteProjectForceRefusesALinkOutOfTheProject(t *testing.T) {
	root, outside := linkedProject(t)
	changes, err := WriteProject(root, []File{{Path: "models/models.go", Body: []byte("package models\n"), Mode: 0o644}}, WriteOptions{Force: true})
	wantEscape(t, err, "models")
	if len(changes) != 0 {
		t.Errorf("changes = %v, want none", changes)
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "models.go")); string(got) != "package models // mine\n" {
		t.Errorf("outside models.go = %q, changed", got)
	}
}

func TestProjectFSNamesALinkOutOfTheProject(t *testing.T) {
	root, _ := linkedProject(t)
	project, err := ProjectFS(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fs.ReadFile(project, "models/models.go")
	wantEscape(t, err, "models")
	if _, err := fs.Stat(project, "models/none.go"); err == nil {
		t.Error("stat through the link succeeded")
	}
	if _, err := fs.ReadFile(project, "none.go"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
}
