// Package testloop tells gingen's fast test loop (go test ./..., make test) from its full loop
// (make check, which CI runs). The tests that run the go command or gingen's binary many times,
// or build and test generated projects, run in the full loop only, so that the fast loop stays
// under a few minutes; CI runs both loops, so nothing is skipped there.
package testloop

import (
	"os"
	"testing"
)

// Env is the variable that asks for the full loop; the Makefile's full targets set it to 1.
const Env = "GINGEN_TEST_FULL"

// Full reports whether the full loop runs: Env is 1, or CI is true (a CI run never skips a
// test for speed).
func Full() bool {
	return os.Getenv(Env) == "1" || os.Getenv("CI") == "true"
}

// Skip skips t, saying what it does, under -short and in the fast loop. Call it where a
// test starts doing the slow part; what comes before it runs in both loops.
func Skip(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip(what)
	}
	if !Full() {
		t.Skipf("%s: in the full loop only (make check, or %s=1 go test)", what, Env)
	}
}
