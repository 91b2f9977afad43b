// Package e2e builds the golden projects and runs them: their own test suites, and restarts
// under load for every strategy.
package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/internal/restartmod"
)

// goldenDirs lists the trees under golden/.
func goldenDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "golden", "*", "go.mod"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden trees found (%v)", err)
	}
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}

// TestGoldenTreesBuildVetAndPassTheirTests runs, inside every golden tree, what a user runs
// right after `gingen new` (make build, make vet, make test): go build, go vet and go test,
// with no other step first.
//
// A parallel test, as parallelDBTests are: it starts once every serial test of the package has
// ended. Those wait on servers (ready, drain and shutdown timeouts) while this one only
// compiles and links, so the package's CPU-bound work comes after its latency-bound work: in
// CI the serial tests run beside make full and the quality gates, and this one mostly after
// them, when they have left the CPU (issue 21). It never runs during the serial tests that
// stop a database server the trees' tests use (goldenDBEnv).
func TestGoldenTreesBuildVetAndPassTheirTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every golden project")
	}
	t.Parallel()
	for _, dir := range goldenDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			// The trees are separate modules with databases of their own (goldenDBEnv): their
			// runs overlap, up to -parallel (GOMAXPROCS) at a time.
			t.Parallel()
			// With the tags of the tree's Makefile (generator.BuildTags): the code without
			// gin's MessagePack codec still builds and passes.
			for _, args := range [][]string{
				{"mod", "tidy", "-diff"}, // go.mod and go.sum are exactly what the code needs
				{"build", "-tags", generator.BuildTags, "./..."},
				{"vet", "-tags", generator.BuildTags, "./..."},
				// -vet=off: go vet ran over the same packages with the same tags just above;
				// go test's own vet pass would repeat a subset of it.
				{"test", "-tags", generator.BuildTags, "-vet=off", "-count=1", "./..."},
			} {
				cmd := restarttest.GoCmd(t.Context(), dir, args...)
				// GOFLAGS=-mod=readonly: go.mod and go.sum must already be complete; -trimpath
				// as every go command of the tests (restartmod.TrimpathGOFLAGS).
				cmd.Env = append(cmd.Env, restartmod.TrimpathGOFLAGS("-mod=readonly -buildvcs=false"))
				cmd.Env = append(cmd.Env, goldenDBEnv(t, dir)...) // db_test.go: the tree's database server
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("go %v in %s: %v\n%s", args, dir, err, out)
				}
			}
			if out, err := exec.Command("gofmt", "-l", dir).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("gofmt -l %s: %v\n%s", dir, err, out)
			}
		})
	}
}
