package generator

import (
	"bytes"
	"slices"

	"github.com/pmezard/go-difflib/difflib"
)

// merge3 merges, line by line, the changes from base to ours (the user's file) and from base
// to theirs (the render of now), as diff3 does (Khanna, Kunal and Pierce, "A Formal
// Investigation of Diff3"): stretches where both sides kept base's lines are stable; between
// them, a stretch changed on one side only takes that side's lines, one changed alike on both
// sides takes them, and one changed differently on both is a conflict, unless beside and
// mergeStretch finds the two sets of changes apart (lines inserted beside the other side's).
// It returns the merged text and whether a conflict was found, in which case the text is not
// to be used. The line matching of each pair is the longest-match matching of difflib
// (Python's difflib's algorithm), without its junk heuristics.
//
// beside is for a change that is gingen's own lines set beside the user's (a resource's
// registration, a field): not for an upgrade, whose changes are another release's templates,
// of any kind, where diff3's conflict (a side file) is the safe answer.
func merge3(base, ours, theirs []byte, beside bool) ([]byte, bool) {
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
			lines, ok := mergeStretch(co, ca, cb)
			if !beside || !ok {
				return nil, true
			}
			write(lines)
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

// hunk is one side's change of a stretch of base: base's lines [s, e) replaced by lines.
// s == e is a pure insertion before base's line s; no lines, a pure deletion.
type hunk struct {
	s, e  int
	lines [][]byte
}

// hunks lists the changes from o to x, in order.
func hunks(o, x [][]byte) []hunk {
	m := lineMatches(o, x)
	var out []hunk
	for i, k := 0, 0; ; {
		j := i
		for j < len(o) && m[j] < 0 {
			j++
		}
		ex := len(x)
		if j < len(o) {
			ex = m[j]
		}
		if j > i || ex > k {
			out = append(out, hunk{s: i, e: j, lines: x[k:ex]})
		}
		if j == len(o) {
			return out
		}
		i, k = j+1, ex+1
	}
}

// mergeStretch merges a stretch of base (o) that both sides changed differently (a, b)
// when their changes are apart: lines both sides insert at the same place (a's first, as
// add resource inserts a line just above a marker, below the user's; the same lines once;
// none in common else), lines one side
// inserts beside lines the other deletes, and changes with base lines between them. A line
// changed or deleted by both sides, or a changed line beside the other side's insertion,
// is a conflict (ok false).
func mergeStretch(o, a, b [][]byte) ([][]byte, bool) {
	ha, hb := hunks(o, a), hunks(o, b)
	for _, x := range ha {
		for _, y := range hb {
			if !apart(x, y) {
				return nil, false
			}
		}
	}
	deleted := func(hs []hunk, i int) bool {
		return slices.ContainsFunc(hs, func(h hunk) bool { return h.s <= i && i < h.e })
	}
	var out [][]byte
	for i := 0; i <= len(o); i++ {
		var mine [][]byte
		for _, h := range ha {
			if h.s == i {
				mine = h.lines
				out = append(out, h.lines...)
			}
		}
		for _, h := range hb {
			if h.s == i && (h.s != h.e || !linesEqual(h.lines, mine)) {
				out = append(out, h.lines...)
			}
		}
		if i < len(o) && !deleted(ha, i) && !deleted(hb, i) {
			out = append(out, o[i])
		}
	}
	return out, true
}

// apart reports whether two changes of base, one of each side, merge without a conflict.
func apart(x, y hunk) bool {
	ins := func(h hunk) bool { return h.s == h.e }
	del := func(h hunk) bool { return len(h.lines) == 0 }
	switch {
	case ins(x) && ins(y):
		// At the same place, the same lines (taken once) or none in common.
		return x.s != y.s || linesEqual(x.lines, y.lines) || !slices.ContainsFunc(x.lines, func(l []byte) bool {
			return slices.ContainsFunc(y.lines, func(m []byte) bool { return bytes.Equal(l, m) })
		})
	case ins(y):
		x, y = y, x
		fallthrough
	case ins(x):
		// An insertion beside a deletion, not inside it nor beside a changed line.
		return x.s < y.s || x.s > y.e || (del(y) && (x.s == y.s || x.s == y.e))
	}
	// Two changes of base's lines: neither overlapping nor touching.
	return x.e < y.s || y.e < x.s
}
