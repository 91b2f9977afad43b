package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// fixtures builds each golden binary once for every test of the package; its folder is
// removed when the tests end.
var fixtures *restarttest.Fixtures

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gingen-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	golden, err := filepath.Abs(filepath.Join("..", "golden"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtures = restarttest.NewFixtures(golden, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// installGolden installs at dst a copy of golden/<name> built with version, from the build
// the package's tests share.
func installGolden(t *testing.T, ctx context.Context, name, version, dst string) {
	t.Helper()
	bin, err := fixtures.Binary(ctx, filepath.Join(fixtures.Golden, name), version)
	if err != nil {
		t.Fatal(err)
	}
	if err := restarttest.Install(bin, dst); err != nil {
		t.Fatal(err)
	}
}
