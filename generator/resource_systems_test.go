package generator

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// knownSystems is the toolchain's internal/syslist, KnownOS and KnownArch, word for word: a Go
// release that learns a system fails here until the copy is updated.
func TestKnownSystemsAreTheToolchains(t *testing.T) {
	file := filepath.Join(build.Default.GOROOT, "src", "internal", "syslist", "syslist.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatalf("read the toolchain's list of systems: %v", err)
	}
	lists := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || len(spec.Values) != 1 {
			return true
		}
		lit, ok := spec.Values[0].(*ast.CompositeLit)
		if !ok {
			return true
		}
		for _, elt := range lit.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key, ok := kv.Key.(*ast.BasicLit)
			if !ok {
				continue
			}
			word, err := strconv.Unquote(key.Value)
			if err != nil {
				t.Fatalf("%s: key %s: %v", file, key.Value, err)
			}
			lists[spec.Names[0].Name] = append(lists[spec.Names[0].Name], word)
		}
		return true
	})
	want := append(lists["KnownOS"], lists["KnownArch"]...)
	if len(lists["KnownOS"]) == 0 || len(lists["KnownArch"]) == 0 {
		t.Fatalf("%s has no KnownOS or no KnownArch: found %v", file, lists)
	}
	if got := strings.Fields(knownSystems); !slices.Equal(got, want) {
		t.Errorf("knownSystems = %q\nthe toolchain's KnownOS and KnownArch = %q\nupdate knownSystems", got, want)
	}
}

// checkFileName refuses exactly the names go/build would build on some systems only, as
// it did when it asked go/build (build.Context.MatchFile for three systems).
func TestCheckFileNameAgreesWithGoBuild(t *testing.T) {
	goBuildRefuses := func(name string) bool {
		for _, target := range [][2]string{{"linux", "amd64"}, {"windows", "arm64"}, {"darwin", "riscv64"}} {
			ctx := build.Context{
				GOOS: target[0], GOARCH: target[1], Compiler: "gc",
				OpenFile: func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("package p\n")), nil },
			}
			if ok, err := ctx.MatchFile(".", name+".go"); err != nil || !ok {
				return true
			}
		}
		return false
	}
	names := []string{"article", "user_unix", "a_b", "linuxish", "x_linuxish", "amd64_x", "a_b_c", "post", "x_gccgo", "x_cgo", "x_gc", "x_unix", "x_go1"}
	for _, w := range strings.Fields(knownSystems) {
		names = append(names, w, "x_"+w, "x_y_"+w, w+"_x", "x_"+w+"_amd64", "x_linux_"+w, w+w)
	}
	refused := 0
	for _, name := range names {
		err := checkFileName(name, "resource name")
		if got, want := err != nil, goBuildRefuses(name); got != want {
			t.Errorf("checkFileName(%q) refuses: %v (%v); go/build builds it on some systems only: %v", name, got, err, want)
		}
		if err != nil {
			refused++
		}
	}
	if refused == 0 || refused == len(names) {
		t.Fatalf("%d of %d names refused: the comparison tried one side only", refused, len(names))
	}
}
