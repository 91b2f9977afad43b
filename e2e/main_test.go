package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gingen/gingen/internal/confighome"
	"github.com/gingen/gingen/internal/restarttest"
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
	os.RemoveAll(dir)
	cleanupConfig()
	os.Exit(code)
}

// goEnv is the environment of the go command for golden and generated projects
// (restarttest.GoEnv: the checkout's restart library published at the required version).
func goEnv(t *testing.T) []string {
	t.Helper()
	env, err := restarttest.GoEnv()
	if err != nil {
		t.Fatal(err)
	}
	return env
}
