package generator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadManifestFileHasASizeCap: a gingen.yaml up to MaxManifestSize is read; a bigger one
// (here 200 MiB, sparse) is refused with one line before it is read, and so is a folder.
func TestReadManifestFileHasASizeCap(t *testing.T) {
	for _, c := range []struct {
		name string
		size int64
		want string
	}{
		{"at the cap", MaxManifestSize, ""},
		{"one byte over", MaxManifestSize + 1, "gingen.yaml is 1.0 MiB, more than the 1 MiB gingen reads"},
		{"200 MiB", 200 << 20, "gingen.yaml is 200.0 MiB, more than the 1 MiB gingen reads (gingen writes far smaller ones); restore it from version control"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ManifestName), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(filepath.Join(dir, ManifestName), c.size); err != nil {
				t.Fatal(err)
			}
			project, err := ProjectFS(dir)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ReadManifestFile(project)
			switch {
			case c.want == "" && (err != nil || int64(len(b)) != c.size):
				t.Errorf("read %d bytes, %v; want all %d", len(b), err, c.size)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, new(*InputError))):
				t.Errorf("got %v, want an InputError saying %q", err, c.want)
			}
		})
	}
	t.Run("a folder", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, ManifestName), 0o755); err != nil {
			t.Fatal(err)
		}
		project, err := ProjectFS(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ReadManifestFile(project); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("got %v, want a refusal", err)
		}
	})
}
