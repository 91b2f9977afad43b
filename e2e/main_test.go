package e2e

import (
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
