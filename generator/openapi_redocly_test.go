package generator

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// redoclyVersion is the @redocly/cli release whose recommended rules every golden document
// must pass; .ci/run installs it and names it in GINGEN_REDOCLY.
const redoclyVersion = "2.77.0"

// redocly finds the redocly command: $GINGEN_REDOCLY, else redocly on PATH. Missing, the
// test skips, except under CI=true, where it fails.
func redocly(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("GINGEN_REDOCLY")
	if bin == "" {
		bin, _ = exec.LookPath("redocly")
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("@redocly/cli %s is missing: .ci/run installs it and sets GINGEN_REDOCLY", redoclyVersion)
		}
		t.Skipf("@redocly/cli is missing; npm install --prefix DIR @redocly/cli@%s and set GINGEN_REDOCLY=DIR/node_modules/.bin/redocly", redoclyVersion)
	}
	return bin
}

func TestEveryGoldenDocumentPassesRedoclysRecommendedRules(t *testing.T) {
	bin := redocly(t)
	env := append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	cmd := exec.CommandContext(t.Context(), bin, "--version")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	if got := strings.TrimSpace(string(out)); got != redoclyVersion {
		t.Fatalf("%s is @redocly/cli %s, want %s", bin, got, redoclyVersion)
	}
	docs, err := filepath.Glob(filepath.Join("..", "golden", "*", filepath.FromSlash(OpenAPIPath)))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no golden openapi.json found (%v)", err)
	}
	// One run over every document; warnings are reported, errors fail (exit status 1).
	args := append([]string{"lint", "--extends=recommended", "--format=stylish"}, docs...)
	cmd = exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		t.Fatalf("redocly lint --extends=recommended over %d golden documents: %v\n%s", len(docs), err, buf.String())
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, " error ") {
			t.Errorf("redocly: %s", strings.TrimSpace(line))
		}
	}
	t.Logf("%d documents: no error", len(docs))
}
