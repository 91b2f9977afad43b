package main

import (
	"bytes"
	"strings"
	"testing"
)

// stream is govulncheck -format json output, shortened: one stdlib vulnerability called,
// one module vulnerability called, one only imported.
const stream = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","go_version":"go1.26.8"}}
{"progress":{"message":"Scanning your code..."}}
{"osv":{"id":"GO-2026-0001","summary":"Panic in net/http"}}
{"osv":{"id":"GO-2026-0002","summary":"Infinite loop in x/text"}}
{"osv":{"id":"GO-2026-0003","summary":"Bad thing in x/net"}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8"}]}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Write","receiver":"*conn"},{"module":"example.com/app","package":"example.com/app","function":"main","position":{"filename":"main.go","line":12}}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v0.39.0","trace":[{"module":"golang.org/x/text","version":"v0.4.0","package":"golang.org/x/text/unicode/norm","function":"String","receiver":"Form"},{"module":"example.com/app","package":"example.com/app/names","function":"Fold","position":{"filename":"names/fold.go","line":7}}]}}
{"finding":{"osv":"GO-2026-0003","fixed_version":"v0.50.0","trace":[{"module":"golang.org/x/net","version":"v0.1.0","package":"golang.org/x/net/html"}]}}
{"osv":{"id":"GO-2026-0004","summary":"Bad certificates in crypto/x509"}}
{"finding":{"osv":"GO-2026-0004","fixed_version":"v1.26.10","trace":[{"module":"stdlib","version":"v1.26.8","package":"crypto/x509"}]}}
`

func TestGate(t *testing.T) {
	for _, tc := range []struct {
		name        string
		input       string
		allowStdlib bool
		minGo       string
		fail        bool
		want        []string
	}{
		{"a called module vulnerability fails, whatever the stdlib policy", stream, true, "", true, []string{
			"app: FAIL GO-2026-0002 in golang.org/x/text@v0.4.0 (fixed in v0.39.0): Infinite loop in x/text",
			"called: names/fold.go:7 calls golang.org/x/text/unicode/norm.Form.String",
			"app: warning GO-2026-0001 in the standard library of go1.26.8 (fixed in go1.26.9: upgrade the Go toolchain)",
			"app: 1 more in imported packages or required modules, not called: GO-2026-0003\n",
		}},
		{"a called stdlib vulnerability fails unless allowed", removeLine(stream, "GO-2026-0002"), false, "", true, []string{
			"app: FAIL GO-2026-0001 in the standard library",
			"called: main.go:12 calls net/http.conn.Write",
		}},
		{"a called stdlib vulnerability passes when allowed", removeLine(stream, "GO-2026-0002"), true, "", false, []string{
			"app: 0 called vulnerabilities in modules, 1 in the standard library (allowed: -allow-stdlib)",
		}},
		{"every stdlib finding is listed with its fix, called or not, and the release that fixes them all", removeLine(stream, "GO-2026-0002"), true, "", false, []string{
			"app: warning GO-2026-0001 in the standard library of go1.26.8 (fixed in go1.26.9: upgrade the Go toolchain): Panic in net/http\n    called: main.go:12",
			"app: note GO-2026-0004 in the standard library of go1.26.8 (fixed in go1.26.10: upgrade the Go toolchain): Bad certificates in crypto/x509\n    imported, not called",
			"app: the standard library's 2 known vulnerabilities (1 called) are fixed in go1.26.10 and later",
		}},
		{"a stated minimum patched Go older than a fix fails", removeLine(stream, "GO-2026-0002"), true, "1.26.9", true, []string{
			"app: FAIL the stated minimum patched Go, go1.26.9, is older than go1.26.10: raise generator.MinPatchedGo",
		}},
		{"a stated minimum patched Go that fixes everything passes", removeLine(stream, "GO-2026-0002"), true, "1.26.10", false, []string{
			"fixed in go1.26.10 and later",
		}},
		{"vulnerabilities not called pass", removeLine(removeLine(stream, `"function":"Write"`), "GO-2026-0002"), false, "", false, []string{
			"app: 1 more in imported packages or required modules, not called: GO-2026-0003\n",
			"app: note GO-2026-0001 in the standard library of go1.26.8 (fixed in go1.26.9: upgrade the Go toolchain)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, out := runGate(t, tc.input, tc.allowStdlib, tc.minGo, tc.want)
			if fail := v == verdictFail; fail != tc.fail || v == verdictNeedsSymbols {
				t.Errorf("fail = %t, want %t\n%s", fail, tc.fail, out)
			}
		})
	}
	if _, err := gate(strings.NewReader(""), &bytes.Buffer{}, options{label: "app"}); err == nil {
		t.Error("empty input passes; it must be an error (govulncheck did not run)")
	}
}

// pkgStream is a package-level scan (govulncheck -scan package) of the same program: traces
// stop at the package, none at a function.
const pkgStream = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","go_version":"go1.26.8","scan_level":"package"}}
{"osv":{"id":"GO-2026-0001","summary":"Panic in net/http"}}
{"osv":{"id":"GO-2026-0002","summary":"Infinite loop in x/text"}}
{"osv":{"id":"GO-2026-0003","summary":"Bad thing in x/net"}}
{"osv":{"id":"GO-2026-0004","summary":"Bad certificates in crypto/x509"}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8"}]}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http"}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v0.39.0","trace":[{"module":"golang.org/x/text","version":"v0.4.0"}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v0.39.0","trace":[{"module":"golang.org/x/text","version":"v0.4.0","package":"golang.org/x/text/unicode/norm"}]}}
{"finding":{"osv":"GO-2026-0003","fixed_version":"v0.50.0","trace":[{"module":"golang.org/x/net","version":"v0.1.0"}]}}
{"finding":{"osv":"GO-2026-0004","fixed_version":"v1.26.10","trace":[{"module":"stdlib","version":"v1.26.8"}]}}
`

// TestPackageScan: a package-level scan decides alone only when nothing it cannot judge is
// imported; otherwise it asks for a symbol-level scan, whatever else it found.
func TestPackageScan(t *testing.T) {
	for _, tc := range []struct {
		name        string
		input       string
		allowStdlib bool
		minGo       string
		want        verdict
		lines       []string
	}{
		{"an imported vulnerable module package needs the symbol scan", pkgStream, true, "", verdictNeedsSymbols, []string{
			"app: imported, maybe called: GO-2026-0002 (golang.org/x/text); a package-level scan cannot tell, a symbol-level one decides",
		}},
		{"even when -min-go would fail: the symbol scan reports both", pkgStream, true, "1.26.9", verdictNeedsSymbols, nil},
		{"a module only required passes, stdlib allowed", removeLine(pkgStream, `"package":"golang.org/x/text`), true, "1.26.10", verdictPass, []string{
			"app: 2 more in imported packages or required modules, not called: GO-2026-0002 GO-2026-0003\n",
			"app: note GO-2026-0001 in the standard library of go1.26.8 (fixed in go1.26.9: upgrade the Go toolchain): Panic in net/http\n    imported (a package-level scan: calls not traced)",
			"app: note GO-2026-0004 in the standard library of go1.26.8 (fixed in go1.26.10: upgrade the Go toolchain): Bad certificates in crypto/x509\n    required, not imported",
			"app: 0 vulnerable packages of modules imported, so none called (a package-level scan)",
			"app: the standard library's 2 known vulnerabilities (calls not traced) are fixed in go1.26.10 and later",
		}},
		{"-min-go is judged at the package level too", removeLine(pkgStream, `"package":"golang.org/x/text`), true, "1.26.9", verdictFail, []string{
			"app: FAIL the stated minimum patched Go, go1.26.9, is older than go1.26.10",
		}},
		{"an imported stdlib package needs the symbol scan when stdlib is not allowed", removeLine(pkgStream, `"package":"golang.org/x/text`), false, "", verdictNeedsSymbols, []string{
			"GO-2026-0001 (stdlib)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if v, out := runGate(t, tc.input, tc.allowStdlib, tc.minGo, tc.lines); v != tc.want {
				t.Errorf("verdict = %d, want %d\n%s", v, tc.want, out)
			}
		})
	}
}

// runGate runs the gate over input as label "app" and checks that its report holds every
// line of want; it returns the verdict and the report.
func runGate(t *testing.T, input string, allowStdlib bool, minGo string, want []string) (verdict, string) {
	t.Helper()
	var out bytes.Buffer
	v, err := gate(strings.NewReader(input), &out, options{label: "app", allowStdlib: allowStdlib, minGo: minGo})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the report lacks %q:\n%s", w, out.String())
		}
	}
	return v, out.String()
}

// removeLine drops the finding lines that mention s (the osv lines stay).
func removeLine(stream, s string) string {
	var kept []string
	for _, l := range strings.Split(stream, "\n") {
		if !strings.Contains(l, `"finding"`) || !strings.Contains(l, s) {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}
