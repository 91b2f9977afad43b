package perfbench

import (
	"strings"
	"testing"
)

func TestPackageSizesSumsSymbolsByImportPath(t *testing.T) {
	nm := `  4a1000     120 T github.com/ugorji/go/codec.(*Encoder).Encode
  4a2000     380 T github.com/ugorji/go/codec.init.0
  4b0000      50 R github.com/gin-gonic/gin.(*Engine).ServeHTTP
  4b1000      10 D main.version
  4b2000       0 T runtime.text
  garbage line
  4c0000    xyz T broken.size
`
	got := PackageSizes(nm)
	want := map[string]float64{"github.com/ugorji/go/codec": 500, "github.com/gin-gonic/gin": 50, "main": 10}
	if len(got) != len(want) {
		t.Fatalf("PackageSizes = %v, want %v", got, want)
	}
	for p, n := range want {
		if got[p] != n {
			t.Errorf("PackageSizes[%q] = %v, want %v", p, got[p], n)
		}
	}
}

func TestParseInitTraceSumsClockByPackage(t *testing.T) {
	trace := `init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
init github.com/jinzhu/inflection @2.1 ms, 3.4 ms clock, 563960 bytes, 5683 allocs
init github.com/jinzhu/inflection @6 ms, 0.6 ms clock, 0 bytes, 0 allocs
time=... level=INFO msg=serving
init bad @1 ms, x ms clock, 0 bytes, 0 allocs
`
	got := ParseInitTrace(trace)
	if got["github.com/jinzhu/inflection"] != 4.0 || got["internal/bytealg"] != 0 || len(got) != 2 {
		t.Errorf("ParseInitTrace = %v, want inflection 4 ms and bytealg 0", got)
	}
}

func TestTopDifferencesListsWhatTheGeneratedSideAddsMostFirst(t *testing.T) {
	gen := map[string]float64{"a": 10, "b": 300, "c": 50, "shared": 100, "smaller": 1}
	base := map[string]float64{"shared": 80, "smaller": 5, "only-base": 1000}
	got := TopDifferences(gen, base, 3)
	var names []string
	for _, s := range got {
		names = append(names, s.Package)
	}
	if strings.Join(names, ",") != "b,c,shared" {
		t.Errorf("TopDifferences = %v, want b, c, shared (the largest additions; none where gen is smaller)", got)
	}
	if got := TopDifferences(nil, base, 3); len(got) != 0 {
		t.Errorf("TopDifferences(nil) = %v, want none", got)
	}
}

func TestTheReportSaysWhereTheBinaryAndTheStartUpGo(t *testing.T) {
	r := report()
	r.BinaryShares = []Share{{Package: "github.com/prometheus/client_golang/prometheus", Generated: 2048 * 1024, Baseline: 0}}
	r.InitShares = []Share{{Package: "github.com/prometheus/common/expfmt", Generated: 1.5, Baseline: 0}}
	b := rendered(t, r)
	containsAll(t, b,
		"### Where the generated binary's size goes",
		"| `github.com/prometheus/client_golang/prometheus` | 2048 | 0 | +2048 KB |",
		"### Where the generated server's start-up goes",
		"| `github.com/prometheus/common/expfmt` | 1.50 | 0.00 | +1.50 ms |",
	)
}
