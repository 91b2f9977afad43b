package restartmod

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gingen/gingen/internal/testloop"
)

// TestTheLibraryBuildsOnEveryOS type-checks the restart library for other systems: the
// master/worker strategies are Unix-only, and on Windows Run must still build (and refuse
// them at run time), so that a project built there compiles. It type-checks from source
// (./typecheck) rather than cross-compiling: that catches the same errors, without compiling
// the standard library for each system (447 s with a cold build cache, beside CI's other
// tests; seconds this way). In a child process, built without the race detector.
func TestTheLibraryBuildsOnEveryOS(t *testing.T) {
	testloop.Skip(t, "type-checks the restart library for every OS")
	cmd := exec.Command("go", "run", "./typecheck", "-goos", "linux,darwin,freebsd,windows", "-dir", Dir(), "./...")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the restart library does not type-check on every OS: %v\n%s", err, out)
	}
	for _, goos := range []string{"linux", "darwin", "freebsd", "windows"} {
		if !strings.Contains(string(out), "GOOS="+goos+" GOARCH=amd64: ok") {
			t.Errorf("no verdict for GOOS=%s in:\n%s", goos, out)
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

// TestTrimpathGOFLAGSAddsTheFlagOnce keeps the other flags and adds -trimpath and
// -buildvcs=false only where flags does not set them already.
func TestTrimpathGOFLAGSAddsTheFlagOnce(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "GOFLAGS=-trimpath -buildvcs=false",
		"-mod=readonly -buildvcs=false": "GOFLAGS=-mod=readonly -buildvcs=false -trimpath",
		"-trimpath -mod=mod":            "GOFLAGS=-trimpath -mod=mod -buildvcs=false",
		" -buildvcs=true ":              "GOFLAGS=-buildvcs=true -trimpath",
		"-trimpath=false -buildvcs":     "GOFLAGS=-trimpath=false -buildvcs",
	} {
		if got := TrimpathGOFLAGS(in); got != want {
			t.Errorf("TrimpathGOFLAGS(%q) = %q, want %q", in, got, want)
		}
	}
}
