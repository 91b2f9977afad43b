package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBadCommandLinesAreRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-before and -after are required"},
		{[]string{"-before", "a"}, "-before and -after are required"},
		{[]string{"-before", "a", "-after", "b"}, "-dirs is required"},
		{[]string{"-before", "a", "-after", "b", "-dirs", "d", "-rounds", "0"}, "at least 1"},
		{[]string{"-before", "a", "-after", "b", "-dirs", "d", "extra"}, `unexpected argument "extra"`},
	} {
		_, err := parseFlags(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5}
	for q, want := range map[float64]time.Duration{0: 1, 0.25: 2, 0.5: 3, 0.75: 4, 1: 5} {
		if got := quantile(d, q); got != want {
			t.Errorf("quantile(%v, %v) = %v, want %v", d, q, got, want)
		}
	}
	if got := quantile([]time.Duration{10, 20}, 0.5); got != 15 {
		t.Errorf("the median of 10 and 20 is %v, want 15", got)
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("the median of nothing is %v, want 0", got)
	}
}

// Every command runs once a round, its target removed first, and a failing command stops
// the measurement with its output.
func TestMeasureRunsEachCommandOnceARoundIntoAFreshTarget(t *testing.T) {
	dir := t.TempDir()
	mk := command{label: "mkdir", argv: []string{"mkdir", "t"}, dir: dir, target: "t"} // fails if t is left over
	res, err := measure([]command{mk, {label: "true", argv: []string{"true"}, dir: dir}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if len(r) != 3 {
			t.Errorf("command %d ran %d times in 3 rounds", i, len(r))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "t")); err != nil {
		t.Errorf("the last run's target is gone: %v", err)
	}
	_, err = measure([]command{{label: "false", argv: []string{"sh", "-c", "echo broken >&2; exit 3"}, dir: dir}}, 1)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a failing command gave %v, want an error with its output", err)
	}
}
