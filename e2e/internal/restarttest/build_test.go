package restarttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestComposeReplacesTheOverlaidFoldersOnly(t *testing.T) {
	root := t.TempDir()
	write := func(path, body string) {
		t.Helper()
		path = filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("base/go.mod", "base")
	write("base/internal/restart/supervisor.go", "supervisor")
	write("base/models/models.go", "base models")
	write("base/models/gone.go", "only in base")
	write("extra/go.mod", "extra")
	write("extra/internal/restart/fork.go", "fork")
	write("extra/models/models.go", "extra models")
	write("extra/models/article.go", "article")
	out := filepath.Join(root, "out")
	if err := Compose(filepath.Join(root, "base"), filepath.Join(root, "extra"), out, "models"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"go.mod":                         "base",
		"internal/restart/supervisor.go": "supervisor",
		"models/models.go":               "extra models",
		"models/article.go":              "article",
		"internal/restart/fork.go":       "",
		"models/gone.go":                 "",
	} {
		b, err := os.ReadFile(filepath.Join(out, path))
		switch {
		case want == "" && !os.IsNotExist(err):
			t.Errorf("%s: exists (%v), want it absent", path, err)
		case want != "" && (err != nil || string(b) != want):
			t.Errorf("%s = %q (%v), want %q", path, b, err, want)
		}
	}
}

// TestBuilderBuildsEachBinaryOnce asks for the same binary from many goroutines at once, and
// for a second one: each is built once, both at the same time (the second does not wait for
// the first), and a failed build is not kept.
func TestBuilderBuildsEachBinaryOnce(t *testing.T) {
	b := NewBuilder(t.TempDir())
	ctx := t.Context()
	var calls atomic.Int32
	release := make(chan struct{})
	slow := func(out string) error {
		calls.Add(1)
		<-release
		return os.WriteFile(out, []byte("slow"), 0o755)
	}
	var wg sync.WaitGroup
	outs := make([]string, 8)
	for i := range outs {
		wg.Go(func() {
			out, err := b.cached(ctx, "slow", slow)
			if err != nil {
				t.Error(err)
			}
			outs[i] = out
		})
	}
	// Another binary builds while the slow one is still building.
	fast, err := b.cached(ctx, "fast", func(out string) error { return os.WriteFile(out, []byte("fast"), 0o755) })
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("the slow binary was built %d times, want once", n)
	}
	for _, out := range outs {
		if out != outs[0] || out == fast {
			t.Errorf("callers got %q, want all %q (and not the other binary %q)", outs, outs[0], fast)
			break
		}
	}

	// A failure is returned, not kept.
	failed := errors.New("broken build")
	if _, err := b.cached(ctx, "flaky", func(string) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("failed build: %v, want %v", err, failed)
	}
	if _, err := b.cached(ctx, "flaky", func(out string) error { return os.WriteFile(out, nil, 0o755) }); err != nil {
		t.Errorf("the build after a failure: %v, want it tried again", err)
	}
	if builds, _ := b.Stats(); builds != 4 {
		t.Errorf("Stats: %d builds, want 4 (slow, fast, flaky twice)", builds)
	}
}

// TestBuildPassesItsFlags builds a stub program with a -gcflags setting and reads it back
// from the binary's build information; without it, the setting is absent. Every build is
// -trimpath (GoEnv's GOFLAGS).
func TestBuildPassesItsFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build twice")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"go.mod": "module stub\n\ngo 1.26\n", "main.go": "package main\n\nfunc main() {}\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		flags []string
		want  bool
	}{{nil, false}, {[]string{"-gcflags=-N"}, true}} {
		out := filepath.Join(dir, fmt.Sprintf("stub-%v", tc.want))
		if err := Build(t.Context(), src, out, "v1", tc.flags...); err != nil {
			t.Fatal(err)
		}
		info, err := exec.Command("go", "version", "-m", out).CombinedOutput()
		if err != nil {
			t.Fatalf("go version -m: %v\n%s", err, info)
		}
		if got := strings.Contains(string(info), "-gcflags=-N"); got != tc.want {
			t.Errorf("Build with %q: -gcflags=-N in the build information is %v, want %v:\n%s", tc.flags, got, tc.want, info)
		}
		if !strings.Contains(string(info), "-trimpath=true") {
			t.Errorf("Build with %q: no -trimpath=true in the build information; every build is -trimpath (GoEnv):\n%s", tc.flags, info)
		}
	}
}
