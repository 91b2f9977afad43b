// Package realsystemd installs every strategy's generated units in a real systemd (Debian
// bookworm's, booted with systemd-nspawn) and drives them under load: reloads, restarts and
// stops (realsystemd_test.go), then faults (chaos_test.go). It is a package of its own so that
// go test ./... in e2e runs it at the same time as the e2e package: most of its time is spent
// waiting on the container, the units and the load's durations, not on the CPU.
package realsystemd

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// fixtures builds each static binary once for both tests (the chaos suite deploys the reload
// test's first version); its folder is removed when the tests end.
var fixtures *restarttest.Fixtures

func TestMain(m *testing.M) {
	root, err := restarttest.CheckoutRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "gingen-e2e-realsystemd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtures = restarttest.NewFixtures(filepath.Join(root, "golden"), dir)
	// Static (restarttest.GoEnv turns cgo off for every project build: the container runs
	// Debian's libc, perhaps not the host's) and -trimpath, as the generated Dockerfile
	// builds and as every other test builds projects: the dependencies compile once.
	fixtures.Flags = []string{"-trimpath"}
	code := m.Run()
	// Each binary is built once per run (restarttest.Builder); shown with -v.
	builds, took := fixtures.Stats()
	fmt.Printf("%s fixtures: %d binaries built, %s of builds\n", "e2e/realsystemd", builds, took.Round(time.Second))
	os.RemoveAll(dir)
	os.Exit(code)
}
