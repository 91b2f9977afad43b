package generator

import (
	"fmt"
	"os"
	"testing"

	"github.com/gingen/gingen/internal/confighome"
)

// TestMain points the user's config folder (where the journal key lives) at a temporary
// folder, so that no test reads or writes the real one.
func TestMain(m *testing.M) {
	_, cleanup, err := confighome.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}
