package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/internal/confighome"
)

// fixtures builds each golden binary once for every test of the package; its folder is
// removed when the tests end.
var fixtures *restarttest.Fixtures

func TestMain(m *testing.M) {
	// The journal key of the changes the tests apply: in a temporary config folder, never
	// the user's.
	_, cleanupConfig, err := confighome.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
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
	// Each binary is built once per run (restarttest.Builder); shown with -v.
	builds, took := fixtures.Stats()
	fmt.Printf("%s fixtures: %d binaries built, %s of builds\n", "e2e", builds, took.Round(time.Second))
	os.RemoveAll(dir)
	cleanupConfig()
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
