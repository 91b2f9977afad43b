// Command vulngate reads govulncheck's JSON output (govulncheck -format json) and decides
// whether CI passes: it fails when the code calls a vulnerable symbol of a module, since a
// module can be upgraded in go.mod. Vulnerabilities of the standard library are fixed by a
// newer Go toolchain instead; with -allow-stdlib they are reported without failing, for a
// CI whose toolchain is the machine's. Every standard-library finding, called or only
// imported, is printed with the Go release that fixes it, and a last line names the oldest
// release that fixes them all. With -min-go, the release generated projects are told to build
// with (generator.MinPatchedGo), a finding fixed only in a later release fails: the stated
// minimum is behind the database.
//
//	govulncheck -db file:///path/to/db -format json ./... | go run ./internal/vulngate -allow-stdlib -min-go 1.26.10
//
// A package-level scan (govulncheck -scan package) costs a second where the symbol-level one
// costs 20 to 180 CPU-seconds and gigabytes (it builds the whole program's call graph), and it
// decides the gate alone when no vulnerable package of a module is imported: what is not
// imported is not called, and the standard library's findings (-min-go and the report) are
// the same at every level. When one is imported, or a standard-library one is and
// -allow-stdlib is off, only a symbol-level scan can tell whether the code calls it: vulngate
// names it and exits 3, and CI runs that scan (.ci/run, vulnscan).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
)

// options are the command's flags.
type options struct {
	label       string
	allowStdlib bool
	// minGo is the Go release stated as patched ("1.26.10"), or empty.
	minGo string
}

func main() {
	allowStdlib := flag.Bool("allow-stdlib", false, "report vulnerabilities of the standard library without failing")
	label := flag.String("label", ".", "what was scanned, for the report")
	minGo := flag.String("min-go", "", "the Go release stated as patched (e.g. 1.26.10): fail on a standard-library finding fixed only later")
	flag.Parse()
	if *minGo != "" && !semver.IsValid("v"+strings.TrimPrefix(*minGo, "go")) {
		fmt.Fprintf(os.Stderr, "vulngate: -min-go %q is not a Go release; write it as 1.26.10\n", *minGo)
		os.Exit(2)
	}
	v, err := gate(os.Stdin, os.Stdout, options{label: *label, allowStdlib: *allowStdlib, minGo: strings.TrimPrefix(*minGo, "go")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(2)
	}
	if v == verdictNeedsSymbols {
		os.Exit(3)
	}
	if v == verdictFail {
		os.Exit(1)
	}
}

// verdict is the gate's decision.
type verdict int

const (
	verdictPass         verdict = iota
	verdictFail                 // a called module vulnerability, or -min-go behind the database
	verdictNeedsSymbols         // a package-level scan found an imported vulnerable package it cannot judge
)

// message is one JSON object of govulncheck's stream; only the parts used here.
type message struct {
	Config *struct {
		ScannerVersion string `json:"scanner_version"`
		GoVersion      string `json:"go_version"`
		DB             string `json:"db"`
		ScanLevel      string `json:"scan_level"` // module, package or symbol (the default)
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *finding `json:"finding"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

// frame is one step of a finding's trace: trace[0] is the vulnerable symbol, the last frame
// the caller in the scanned code.
type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

// vuln is what the report says of one vulnerability: whether the code calls it, and where.
type vuln struct {
	id, summary, module, version, fixed string
	called                              bool
	calledFrom                          string
	imported                            bool // a package of it is imported (package and symbol scans)
}

// gate reads the stream from r, prints its report to w and reports whether CI must fail.
func gate(r io.Reader, w io.Writer, o options) (verdict, error) {
	label, allowStdlib := o.label, o.allowStdlib
	dec := json.NewDecoder(r)
	summaries := map[string]string{}
	vulns := map[string]*vuln{}
	scanned, symbols := false, true
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return verdictPass, fmt.Errorf("read govulncheck output: %w", err)
		}
		switch {
		case m.Config != nil:
			scanned = true
			symbols = m.Config.ScanLevel == "" || m.Config.ScanLevel == "symbol"
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			v := vulns[f.OSV]
			if v == nil {
				v = &vuln{id: f.OSV, module: f.Trace[0].Module, version: f.Trace[0].Version, fixed: f.FixedVersion}
				vulns[f.OSV] = v
			}
			if f.Trace[0].Function != "" && !v.called {
				v.called, v.calledFrom = true, describeCall(f.Trace)
			}
			if f.Trace[0].Package != "" {
				v.imported = true
			}
		}
	}
	if !scanned {
		return verdictPass, errors.New("no govulncheck output (expected govulncheck -format json)")
	}
	if !symbols {
		// Only imports are known: an imported vulnerable package of a module, or of the
		// standard library when that fails too, may be called.
		var undecided []string
		for _, id := range slices.Sorted(maps.Keys(vulns)) {
			if v := vulns[id]; v.imported && (v.module != "stdlib" || !allowStdlib) {
				undecided = append(undecided, fmt.Sprintf("%s (%s)", id, v.module))
			}
		}
		if len(undecided) > 0 {
			fmt.Fprintf(w, "%s: imported, maybe called: %s; a package-level scan cannot tell, a symbol-level one decides\n",
				label, strings.Join(undecided, " "))
			return verdictNeedsSymbols, nil
		}
	}
	failed := false
	var calledStdlib, calledModules, notCalled, stdlib []string
	for _, id := range slices.Sorted(maps.Keys(vulns)) {
		v := vulns[id]
		v.summary = summaries[id]
		if v.module == "stdlib" {
			stdlib = append(stdlib, id)
		}
		switch {
		case !v.called && v.module != "stdlib":
			notCalled = append(notCalled, id)
		case !v.called: // a standard-library one, reported below with the called ones
		case v.module == "stdlib":
			calledStdlib = append(calledStdlib, id)
			failed = failed || !allowStdlib
		default:
			calledModules = append(calledModules, id)
			failed = true
		}
	}
	for _, id := range calledModules {
		v := vulns[id]
		fmt.Fprintf(w, "%s: FAIL %s in %s@%s (fixed in %s): %s\n    called: %s\n", label, v.id, v.module, v.version, orNone(v.fixed), v.summary, v.calledFrom)
	}
	for _, id := range stdlib {
		v := vulns[id]
		level, how := "FAIL", "called: "+v.calledFrom
		switch {
		case !symbols && v.imported:
			level, how = "note", "imported (a package-level scan: calls not traced)"
		case !symbols:
			level, how = "note", "required, not imported"
		case !v.called:
			level, how = "note", "imported, not called"
		case allowStdlib:
			level = "warning"
		}
		fmt.Fprintf(w, "%s: %s %s in the standard library of %s (fixed in %s: upgrade the Go toolchain): %s\n    %s\n",
			label, level, v.id, goRelease(v.version), goRelease(v.fixed), v.summary, how)
	}
	if len(notCalled) > 0 {
		fmt.Fprintf(w, "%s: %d more in imported packages or required modules, not called: %s\n", label, len(notCalled), strings.Join(notCalled, " "))
	}
	allowed := ""
	if allowStdlib && len(calledStdlib) > 0 {
		allowed = " (allowed: -allow-stdlib)"
	}
	if symbols {
		fmt.Fprintf(w, "%s: %d called vulnerabilities in modules, %d in the standard library%s\n",
			label, len(calledModules), len(calledStdlib), allowed)
	} else {
		fmt.Fprintf(w, "%s: 0 vulnerable packages of modules imported, so none called (a package-level scan)\n", label)
	}
	if len(stdlib) > 0 {
		patched, unfixed := minPatched(vulns, stdlib)
		calls := fmt.Sprintf("%d called", len(calledStdlib))
		if !symbols {
			calls = "calls not traced"
		}
		fmt.Fprintf(w, "%s: the standard library's %d known vulnerabilities (%s) are fixed in %s and later\n",
			label, len(stdlib), calls, goRelease(patched))
		if len(unfixed) > 0 {
			fmt.Fprintf(w, "%s: no Go release fixes %s yet\n", label, strings.Join(unfixed, " "))
		}
		if o.minGo != "" && semver.Compare(patched, "v"+o.minGo) > 0 {
			fmt.Fprintf(w, "%s: FAIL the stated minimum patched Go, %s, is older than %s: raise generator.MinPatchedGo (and the READMEs follow)\n",
				label, goRelease("v"+o.minGo), goRelease(patched))
			failed = true
		}
	}
	if failed {
		return verdictFail, nil
	}
	return verdictPass, nil
}

// minPatched returns the oldest release that fixes every one of the standard-library
// vulnerabilities ids (the newest of their fixed versions), and those no release fixes.
func minPatched(vulns map[string]*vuln, ids []string) (string, []string) {
	patched := ""
	var unfixed []string
	for _, id := range ids {
		fixed := vulns[id].fixed
		if fixed == "" {
			unfixed = append(unfixed, id)
			continue
		}
		if patched == "" || semver.Compare(fixed, patched) > 0 {
			patched = fixed
		}
	}
	return patched, unfixed
}

// goRelease names a standard-library version as Go does: v1.26.9 is go1.26.9.
func goRelease(v string) string {
	if v == "" {
		return "no version yet"
	}
	return "go" + strings.TrimPrefix(v, "v")
}

// describeCall names the scanned code's call that reaches the vulnerable symbol.
func describeCall(trace []frame) string {
	vulnerable, caller := trace[0], trace[len(trace)-1]
	where := caller.Package
	if caller.Position != nil {
		where = fmt.Sprintf("%s:%d", caller.Position.Filename, caller.Position.Line)
	}
	return fmt.Sprintf("%s calls %s", where, symbol(vulnerable))
}

func symbol(f frame) string {
	if f.Receiver != "" {
		return fmt.Sprintf("%s.%s.%s", f.Package, strings.TrimPrefix(f.Receiver, "*"), f.Function)
	}
	return f.Package + "." + f.Function
}

func orNone(s string) string {
	if s == "" {
		return "no version yet"
	}
	return s
}
