// Package e2etest holds what the e2e module's test packages share: skipping or failing for a
// missing tool, the strategies, and the load the restart tests send. The e2e tests are split
// into packages (e2e, e2e/realsystemd) so that go test runs them at once; each package owns
// its fixtures (restarttest.Fixtures, built in its TestMain's folder).
package e2etest

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// RequireTool returns the path of an external tool. Locally a missing tool skips the test;
// in CI it fails it (see Missing).
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed; .ci/run must install it")
	}
	return path
}

// Missing skips the test for want of something it needs, or fails it when CI=true, so that
// a missing install or start step in .ci/run cannot hide behind a skip.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// SkipShort skips, under -short, a test that builds and runs the golden projects.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the golden projects")
	}
}

// Strategies are the restart strategies, in the order the tests run them.
func Strategies() []string {
	return []string{restarttest.Fork, restarttest.Supervisor, restarttest.Systemd}
}

// TestLoad is the tests' traffic: kept-alive and fresh connections, GET /healthz and, every
// fourth request, POST /api/v1/articles with a JSON body.
func TestLoad() restarttest.LoadConfig {
	return restarttest.LoadConfig{
		KeepAlive:  12,
		Fresh:      4,
		PostPath:   restarttest.PostPath,
		PostBody:   []byte(restarttest.PostJSON),
		PostStatus: restarttest.PostStatus,
		PostEvery:  4,
	}
}

// SlowPost is a POST /api/v1/articles whose body trickles for trickle.
func SlowPost(trickle time.Duration) restarttest.SlowConfig {
	return restarttest.SlowConfig{
		Path:    restarttest.PostPath,
		Body:    []byte(restarttest.PostJSON),
		Status:  restarttest.PostStatus,
		Trickle: trickle,
	}
}
