package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenReadsTheManifestOnceAndConfinesTheFiles: the manifest and its sum come from the same
// bytes; a missing, invalid or escaping gingen.yaml is one error naming the fix; the files are
// served confined to the project's folder.
func TestOpenReadsTheManifestOnceAndConfinesTheFiles(t *testing.T) {
	root := newTestProject(t)
	p, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(b); p.Sum != hex.EncodeToString(want[:]) {
		t.Errorf("Sum = %s, want the SHA-256 of gingen.yaml", p.Sum)
	}
	if p.Manifest.Name != "myblog" || p.Root != root {
		t.Errorf("Open = %+v, want the project myblog at %s", p, root)
	}
	// Plans read gingen.yaml as Open read it, even after the file changed.
	if err := os.WriteFile(filepath.Join(root, ManifestName), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readManifest(p.FS); err != nil || got.Name != "myblog" {
		t.Errorf("readManifest(p.FS) after the file changed = %+v, %v; want the manifest Open read", got, err)
	}
	if got, err := fs.ReadFile(p.FS, ManifestName); err != nil || !bytes.Equal(got, b) {
		t.Errorf("fs.ReadFile(p.FS, gingen.yaml) = %q, %v; want the bytes Open read", got, err)
	}
	if _, err := fs.ReadFile(p.FS, "conf/app.ini"); err != nil {
		t.Errorf("other files: %v", err)
	}
	// The files are confined: a link out of the project is refused, naming it.
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "leak")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.FS.Open("leak"); err == nil {
		t.Error("opened a link that leads out of the project")
	}

	for _, tc := range []struct {
		name, manifest, want string
	}{
		{"missing", "", "read gingen.yaml"},
		{"invalid", string(b) + "strategyy: fork\n", "unknown key strategyy; remove it or fix its spelling; fix the file or restore it from version control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.manifest != "" {
				if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(tc.manifest), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Open(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestProjectTemplatesDir: the flag wins; else the manifest's templates: key, relative to the
// project, which must be readable; else none.
func TestProjectTemplatesDir(t *testing.T) {
	root := newTestProject(t)
	p, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if dir, err := p.TemplatesDir(""); err != nil || dir != "" {
		t.Errorf("no flag, no key: %q, %v; want none", dir, err)
	}
	if dir, err := p.TemplatesDir("/elsewhere"); err != nil || dir != "/elsewhere" {
		t.Errorf("flag: %q, %v; want the flag's folder", dir, err)
	}
	p.Manifest.Templates = "mine"
	_, err = p.TemplatesDir("")
	var input *InputError
	if !errors.As(err, &input) || !strings.Contains(err.Error(), "names mine, which cannot be read") || !strings.HasSuffix(err.Error(), "restore the folder or remove the key") {
		t.Errorf("unreadable key: %v; want an input error naming the folder and the fix", err)
	}
	if err := os.Mkdir(filepath.Join(root, "mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	if dir, err := p.TemplatesDir(""); err != nil || dir != filepath.Join(root, "mine") {
		t.Errorf("readable key: %q, %v; want %s", dir, err, filepath.Join(root, "mine"))
	}
}
