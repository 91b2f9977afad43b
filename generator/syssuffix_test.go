package generator

import (
	"go/build"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// goBuildConstrains is what systemSuffix stands for: whether go/build would build NAME.go for
// only some of three systems that share no GOOS or GOARCH.
func goBuildConstrains(t *testing.T, name string) bool {
	t.Helper()
	for _, target := range [][2]string{{"linux", "amd64"}, {"windows", "arm64"}, {"darwin", "riscv64"}} {
		ctx := build.Context{
			GOOS: target[0], GOARCH: target[1], Compiler: "gc",
			OpenFile: func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("package p\n")), nil },
		}
		ok, err := ctx.MatchFile(".", name+".go")
		if err != nil {
			t.Fatalf("go/build on %s.go: %v", name, err)
		}
		if !ok {
			return true
		}
	}
	return false
}

// TestSystemSuffixIsGoBuilds checks systemSuffix's lists against go/build for every system
// and architecture the lists and `go tool dist list` name, in every position of a name, so
// that a port a later Go adds (dist list) or one the lists lack fails here.
func TestSystemSuffixIsGoBuilds(t *testing.T) {
	words := map[string]bool{"server": true, "test": true, "v1": true, "x86": true}
	for _, w := range strings.Fields(knownOS + " " + knownArch) {
		words[w] = true
	}
	out, err := exec.Command("go", "tool", "dist", "list").Output()
	if err != nil {
		t.Fatalf("go tool dist list: %v", err)
	}
	ports := strings.Fields(string(out))
	if len(ports) < 10 {
		t.Fatalf("go tool dist list printed %d ports: %q", len(ports), out)
	}
	for _, port := range ports {
		goos, goarch, ok := strings.Cut(port, "/")
		if !ok {
			t.Fatalf("go tool dist list: %q is not GOOS/GOARCH", port)
		}
		words[goos], words[goarch] = true, true
	}
	for w := range words {
		for _, name := range []string{w, "item_" + w, "item_" + w + "_test", "item_" + w + "_amd64", "item_linux_" + w, "item_" + w + "_x"} {
			if got, want := systemSuffix(name), goBuildConstrains(t, name); got != want {
				t.Errorf("systemSuffix(%q) = %v, go/build says %v", name, got, want)
			}
		}
	}
}
