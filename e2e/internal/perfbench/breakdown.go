package perfbench

import (
	"bufio"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Share is a package's part of a cost, in the generated binary and in the baseline's.
type Share struct {
	Package             string
	Generated, Baseline float64
}

// PackageSizes sums `go tool nm -size` output by package: the symbol's import path, up to
// the first '.' after its last '/'. Lines that are not symbols are skipped.
func PackageSizes(nm string) map[string]float64 {
	sizes := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(nm))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || size <= 0 {
			continue
		}
		sizes[symbolPackage(strings.Join(f[3:], " "))] += float64(size)
	}
	return sizes
}

func symbolPackage(sym string) string {
	slash := strings.LastIndexByte(sym, '/')
	if i := strings.IndexByte(sym[slash+1:], '.'); i >= 0 {
		return sym[:slash+1+i]
	}
	return sym
}

// ParseInitTrace sums GODEBUG=inittrace=1 lines ("init PKG @T ms, D ms clock, ...") by
// package, in milliseconds of clock.
func ParseInitTrace(trace string) map[string]float64 {
	ms := map[string]float64{}
	for line := range strings.Lines(trace) {
		f := strings.Fields(line)
		if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
			continue
		}
		d, err := strconv.ParseFloat(f[4], 64)
		if err != nil || d < 0 {
			continue
		}
		ms[f[1]] += d
	}
	return ms
}

// TopDifferences returns the n packages whose cost in gen most exceeds their cost in base.
func TopDifferences(gen, base map[string]float64, n int) []Share {
	var shares []Share
	for p, g := range gen {
		if g > base[p] {
			shares = append(shares, Share{Package: p, Generated: g, Baseline: base[p]})
		}
	}
	slices.SortFunc(shares, func(a, b Share) int {
		return cmp.Or(cmp.Compare(b.Generated-b.Baseline, a.Generated-a.Baseline), strings.Compare(a.Package, b.Package))
	})
	return shares[:min(n, len(shares))]
}

// shareTable renders shares as a Markdown table, values formatted by format.
func shareTable(shares []Share, unit string, format func(float64) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| package | generated | baseline | difference |\n| --- | ---: | ---: | ---: |\n")
	for _, s := range shares {
		fmt.Fprintf(&b, "| `%s` | %s | %s | +%s %s |\n", s.Package, format(s.Generated), format(s.Baseline), format(s.Generated-s.Baseline), unit)
	}
	return b.String()
}
