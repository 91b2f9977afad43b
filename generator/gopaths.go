package generator

import (
	_ "embed"
	"slices"
	"strings"
)

// stdPackagesList is the output of `go list std` for the toolchain gingen is built and tested
// with, one import path a line. TestStdPackagesListIsCurrent compares it with the toolchain's
// and rewrites it with -update.
//
//go:embed stdpkgs.txt
var stdPackagesList string

// isStdPackage reports whether p is the import path of a standard-library package.
func isStdPackage(p string) bool {
	return slices.Contains(strings.Split(stdPackagesList, "\n"), p)
}

// reservedPatterns are import paths the go command reads as package patterns, not packages
// (`go help packages`: all, std, cmd, tool; and work): a module with one of these paths has a
// root package nothing can load. TestRefusedModulePathsBreakTheGoCommand checks each.
func reservedPatterns() []string { return []string{"all", "std", "cmd", "tool", "work"} }

// cgoPackage is the import path of cgo's pseudo-package.
const cgoPackage = "C"

// moduleProblem explains why the go command cannot build a module with this path, or returns
// "". A project always has a root package (main.go), so a module path that is a standard-
// library package breaks it.
func moduleProblem(module string) string {
	if slices.Contains(reservedPatterns(), module) {
		return "is a package pattern the go command reserves (go help packages), so no package of the project could be loaded"
	}
	if module == cgoPackage {
		return "is cgo's pseudo-package C, which the go command never loads from a module"
	}
	if slices.Contains(strings.Split(module, "/"), "vendor") {
		return `has a "vendor" element, which makes the go command treat the project's own packages as vendored copies`
	}
	if isStdPackage(module) {
		return "is the standard library's package " + module + ", so every import of the project would be ambiguous"
	}
	return ""
}

// checkModule refuses a module path the go command cannot build (see moduleProblem).
func checkModule(name, module string) error {
	problem := moduleProblem(module)
	if problem == "" {
		return nil
	}
	if module == name {
		return inputErrorf("project name %q %s (it is the module path when --module is not given); pick another name, e.g. my%s, or pass --module github.com/you/%s", name, problem, strings.ToLower(name), name)
	}
	return inputErrorf("module path %q %s; pass --module with another path, e.g. github.com/you/%s", module, problem, name)
}
