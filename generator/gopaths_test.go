package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStdPackagesListIsCurrent keeps stdpkgs.txt the toolchain's `go list std`:
// go test ./generator -run StdPackages -update rewrites it.
func TestStdPackagesListIsCurrent(t *testing.T) {
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	if *update {
		if err := os.WriteFile("stdpkgs.txt", out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(out) != stdPackagesList {
		t.Errorf("stdpkgs.txt differs from this toolchain's go list std; run: go test ./generator -run StdPackages -update")
	}
}

// TestRefusedModulePathsBreakTheGoCommand checks the rules of moduleProblem against the
// toolchain: a module with a refused path, a root package and a package "sub" that imports
// nothing fails `go vet ./...`, and a module with an accepted path passes.
func TestRefusedModulePathsBreakTheGoCommand(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the go command on small modules")
	}
	cases := append(reservedPatterns(), cgoPackage, "time", "net", "fmt", "unsafe", "embed", "github.com/acme/vendor", "vendor/x")
	for _, module := range append(cases, "myblog", "archive", "github.com/acme/time") {
		t.Run(module, func(t *testing.T) {
			refused := moduleProblem(module) != ""
			dir := t.TempDir()
			write := func(name, body string) {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("go.mod", "module "+module+"\n\ngo 1.26\n")
			write("main.go", "package main\n\nimport _ \""+module+"/sub\"\n\nfunc main() {}\n")
			write("sub/sub.go", "package sub\n")
			cmd := exec.Command("go", "vet", "./...")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -trimpath", "GOWORK=off")
			out, err := cmd.CombinedOutput()
			switch {
			case refused && err == nil:
				t.Errorf("gingen refuses module %q, but the go command builds it", module)
			case !refused && err != nil:
				t.Errorf("gingen accepts module %q, but the go command fails: %v\n%s", module, err, out)
			}
			if refused && strings.TrimSpace(string(out)) == "" {
				t.Errorf("module %q: the go command failed without a message", module)
			}
		})
	}
}
