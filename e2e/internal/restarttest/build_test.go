package restarttest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestComposeReplacesTheOverlaidFoldersOnly(t *testing.T) {
	root := t.TempDir()
	write := func(path, body string) {
		t.Helper()
		path = filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("base/go.mod", "base")
	write("base/internal/restart/supervisor.go", "supervisor")
	write("base/models/models.go", "base models")
	write("base/models/gone.go", "only in base")
	write("extra/go.mod", "extra")
	write("extra/internal/restart/fork.go", "fork")
	write("extra/models/models.go", "extra models")
	write("extra/models/article.go", "article")
	out := filepath.Join(root, "out")
	if err := Compose(filepath.Join(root, "base"), filepath.Join(root, "extra"), out, "models"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"go.mod":                         "base",
		"internal/restart/supervisor.go": "supervisor",
		"models/models.go":               "extra models",
		"models/article.go":              "article",
		"internal/restart/fork.go":       "",
		"models/gone.go":                 "",
	} {
		b, err := os.ReadFile(filepath.Join(out, path))
		switch {
		case want == "" && !os.IsNotExist(err):
			t.Errorf("%s: exists (%v), want it absent", path, err)
		case want != "" && (err != nil || string(b) != want):
			t.Errorf("%s = %q (%v), want %q", path, b, err, want)
		}
	}
}
