package generator

import (
	"bytes"
	"slices"

	"github.com/pmezard/go-difflib/difflib"
)

// merge3 merges, line by line, the changes from base to ours (the user's file) and from base
// to theirs (the new templates' render), as diff3 does (Khanna, Kunal and Pierce, "A Formal
// Investigation of Diff3"): stretches where both sides kept base's lines are stable; between
// them, a stretch changed on one side only takes that side's lines, one changed alike on both
// sides takes them, and one changed differently on both is a conflict. It returns the merged
// text and whether a conflict was found, in which case the text is not to be used. The line
// matching of each pair is the longest-match matching of difflib (Python's difflib's
// algorithm), without its junk heuristics.
func merge3(base, ours, theirs []byte) ([]byte, bool) {
	o, a, b := splitLines(base), splitLines(ours), splitLines(theirs)
	ma, mb := lineMatches(o, a), lineMatches(o, b)
	var out bytes.Buffer
	write := func(lines [][]byte) {
		for _, l := range lines {
			out.Write(l)
		}
	}
	lo, la, lb := 0, 0, 0 // next unmerged line of each
	for {
		// Length of the stable run from here: lines matched, in step, on both sides.
		i := 0
		for lo+i < len(o) && ma[lo+i] == la+i && mb[lo+i] == lb+i {
			i++
		}
		if i > 0 {
			write(o[lo : lo+i])
			lo, la, lb = lo+i, la+i, lb+i
			continue
		}
		// An unstable stretch up to the next base line matched on both sides.
		j := lo
		for j < len(o) && (ma[j] < 0 || mb[j] < 0) {
			j++
		}
		ea, eb := len(a), len(b)
		if j < len(o) {
			ea, eb = ma[j], mb[j]
		}
		co, ca, cb := o[lo:j], a[la:ea], b[lb:eb]
		switch {
		case linesEqual(ca, co):
			write(cb)
		case linesEqual(cb, co), linesEqual(ca, cb):
			write(ca)
		default:
			return nil, true
		}
		lo, la, lb = j, ea, eb
		if j == len(o) {
			return out.Bytes(), false
		}
	}
}

// lineMatches maps each line of o to the line of x it is matched with, or -1.
func lineMatches(o, x [][]byte) []int {
	so, sx := make([]string, len(o)), make([]string, len(x))
	for i, l := range o {
		so[i] = string(l)
	}
	for i, l := range x {
		sx[i] = string(l)
	}
	m := make([]int, len(o))
	for i := range m {
		m[i] = -1
	}
	for _, blk := range difflib.NewMatcherWithJunk(so, sx, false, nil).GetMatchingBlocks() {
		for k := 0; k < blk.Size; k++ {
			m[blk.A+k] = blk.B + k
		}
	}
	return m
}

func linesEqual(x, y [][]byte) bool {
	return slices.EqualFunc(x, y, bytes.Equal)
}
