package restartmod

import (
	"os"
	"os/exec"
	"testing"

	"github.com/gingen/gingen/internal/testloop"
)

// TestTheLibraryBuildsOnEveryOS cross-compiles the restart library: the master/worker
// strategies are Unix-only, and on Windows Run must still build (and refuse them at run time),
// so that a project built there compiles.
func TestTheLibraryBuildsOnEveryOS(t *testing.T) {
	testloop.Skip(t, "cross-compiles the restart library")
	for _, goos := range []string{"linux", "darwin", "freebsd", "windows"} {
		cmd := exec.Command("go", "build", "./...")
		cmd.Dir = Dir()
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOOS=%s go build in restart/: %v\n%s", goos, err, out)
		}
	}
}

func TestUpstreamLeavesOutTheFileProxies(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"file:///tmp/restart-proxy,https://mirror.invalid|direct", "https://mirror.invalid,direct"},
		{"https://mirror.invalid", "https://mirror.invalid"},
		{"file:///tmp/restart-proxy", "off"},
		{"off", "off"},
	} {
		t.Setenv("GOPROXY", tc.env)
		got, err := Upstream()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("GOPROXY=%s: Upstream() = %q, want %q", tc.env, got, tc.want)
		}
	}
}
