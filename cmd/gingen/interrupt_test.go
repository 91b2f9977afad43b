package main

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/internal/testloop"
)

// treeState is a project as a test compares it: every file's mode and content, every folder.
func treeState(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[filepath.ToSlash(rel)+"/"] = info.Mode().String()
			return nil
		}
		body, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = info.Mode().String() + "\n" + string(body)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// treeDiff names the paths where two states differ, at most a few.
func treeDiff(a, b map[string]string) string {
	var diff []string
	for _, p := range slices.Sorted(maps.Keys(a)) {
		if a[p] != b[p] {
			diff = append(diff, p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[p]; !ok {
			diff = append(diff, p)
		}
	}
	if len(diff) > 8 {
		diff = append(diff[:8], "...")
	}
	return strings.Join(diff, ", ")
}

// buildAndNew generates a project with the package's gingen binary (buildGingen); it returns both paths.
func buildAndNew(t *testing.T, newArgs ...string) (bin, dir string) {
	t.Helper()
	work := t.TempDir()
	bin = buildGingen(t)
	args := append([]string{"new", "myblog", "--dir", work, "--quiet"}, newArgs...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("gingen new: %v\n%s", err, out)
	}
	return bin, filepath.Join(work, "myblog")
}

// TestInterruptedAddAndDestroyAreAllOrNothing runs the real gingen binary, alternately adding
// and destroying a resource, and interrupts it at a random moment: 200 times with SIGINT and
// 200 times with kill -9. After a SIGINT the project is at once exactly as before or as after
// the change (gingen rolls back or finishes it itself); after kill -9 it is so once the next
// gingen command has run (it rolls the journal back or forward). No hook slows gingen down:
// the moments are drawn over the length of an uninterrupted run, and the apply phase (its
// files synced to disk one by one) takes enough of it to be hit often, on both sides of its
// commit point; the counts of each outcome are logged, and each must have happened.
func TestInterruptedAddAndDestroyAreAllOrNothing(t *testing.T) {
	testloop.Skip(t, "runs gingen 800 times")
	bin, dir := buildAndNew(t)
	// A git work tree where nothing is committed: destroy deletes the migration add wrote
	// (it never left the working tree), so the two states are the same each time.
	if out, err := exec.Command("git", "-C", dir, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	interruptLoop(t, bin, dir, 200, true,
		[]string{"add", "resource", "article", "title:string", "body:text", "--quiet"},
		[]string{"destroy", "resource", "article", "--quiet"})
}

// TestInterruptedUpgradesAreAllOrNothing does the same with gingen upgrade switching the
// strategy of a project with a resource back and forth, 60 times with each signal (its
// planning is longer, so fewer of the moments land after its commit point: that some did is
// logged, not required).
func TestInterruptedUpgradesAreAllOrNothing(t *testing.T) {
	testloop.Skip(t, "runs gingen 240 times")
	bin, dir := buildAndNew(t)
	add := exec.Command(bin, "add", "resource", "article", "title:string", "--quiet")
	add.Dir = dir
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("gingen add: %v\n%s", err, out)
	}
	interruptLoop(t, bin, dir, 60, false,
		[]string{"upgrade", "--strategy", "supervisor", "--quiet"},
		[]string{"upgrade", "--strategy", "fork", "--quiet"})
}

// interruptLoop alternates the commands forward and back in the project at dir, interrupting
// each at a random moment: runs times with SIGINT, then runs times with kill -9, and checks
// that the project is always exactly in the state before or after forward. needForward asks
// that some kill -9 has landed after the commit point (a roll forward), not only before.
func interruptLoop(t *testing.T, bin, dir string, runs int, needForward bool, forward, back []string) {
	t.Helper()
	gingen := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		return cmd
	}

	// The two states, and how long an uninterrupted change takes: the median of 5 runs each
	// way (one run alone varies too much with the machine's load).
	before := treeState(t, dir)
	var (
		after     map[string]string
		durations []time.Duration
	)
	for range 5 {
		for _, args := range [][]string{forward, back} {
			start := time.Now()
			if out, err := gingen(args...).CombinedOutput(); err != nil {
				t.Fatalf("gingen %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			durations = append(durations, time.Since(start))
			if after == nil {
				after = treeState(t, dir)
			}
		}
		if d := treeDiff(before, treeState(t, dir)); d != "" {
			t.Fatalf("gingen %s then %s does not give the project back: %s", strings.Join(forward, " "), strings.Join(back, " "), d)
		}
	}
	slices.Sort(durations)
	window := durations[len(durations)/2]
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d; an uninterrupted gingen %s takes %v; interrupts land in [0, %v], every other one in [%v, %v]", seed, strings.Join(forward, " "), window, window*5/4, window/2, window*11/10)

	type outcome struct{ before, after, rolledBack, rolledForward int }
	counts := map[string]*outcome{"SIGINT": {}, "SIGKILL": {}}
	isAfter := false
	i := 0 // the run's number, over both signals
	one := func(n int, sig os.Signal, name string) {
		defer func() { i++ }()
		args := forward
		if isAfter {
			args = back
		}
		cmd := gingen(args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Every other run is interrupted in the last half of the run's length, where the apply
		// phase is (planning comes first); the others anywhere in it; and every fifth the
		// moment the change's journal appears, before its commit point, wherever the
		// machine's load puts that moment (the window is a few fsyncs long: random moments
		// alone missed it in 180 kill -9s of one CI run).
		at := time.Duration(rng.Int64N(int64(window * 5 / 4)))
		if n%2 == 1 {
			at = window/2 + time.Duration(rng.Int64N(int64(window*3/5)))
		}
		if n%5 == 4 {
			waitForFile(filepath.Join(dir, generator.JournalFile), 2*window)
		} else {
			time.Sleep(at)
		}
		_ = cmd.Process.Signal(sig)
		err := cmd.Wait()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		c := counts[name]
		if sig == syscall.SIGKILL {
			// The next gingen run recovers: any command in the project does it first, but
			// not a dry run (it only reports the pending change).
			recOut, _ := gingen("destroy", "resource", "nothing_here").CombinedOutput()
			switch {
			case bytes.Contains(recOut, []byte("rolled back")):
				c.rolledBack++
			case bytes.Contains(recOut, []byte("rolled forward")):
				c.rolledForward++
			}
			if !bytes.Contains(recOut, []byte(`no resource "nothing_here"`)) {
				t.Fatalf("run %d: the recovering command failed:\n%s", i, recOut)
			}
		} else if exit != nil && exit.ExitCode() == exitInterrupted {
			c.rolledBack++
		}
		state := treeState(t, dir)
		switch {
		case maps.Equal(state, before):
			c.before++
			isAfter = false
		case maps.Equal(state, after):
			c.after++
			isAfter = true
		default:
			want := before
			if isAfter {
				want = after
			}
			t.Fatalf("run %d (%s of gingen %s): the project is neither before nor after the change; differs from where it started at: %s\noutput:\n%s",
				i, name, strings.Join(args, " "), treeDiff(want, state), out.String())
		}
	}
	// runs interrupts with each signal; on a loaded machine the moments may miss the apply
	// phase, so up to twice as many more are sent until they have hit it (checked below).
	hit := map[string]func(*outcome) bool{
		"SIGINT":  func(c *outcome) bool { return c.rolledBack > 0 },
		"SIGKILL": func(c *outcome) bool { return c.rolledBack > 0 && (!needForward || c.rolledForward > 0) },
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGKILL: "SIGKILL"}[sig]
		for n := 0; n < 3*runs && (n < runs || !hit[name](counts[name])); n++ {
			one(n, sig, name)
		}
	}
	for _, name := range []string{"SIGINT", "SIGKILL"} {
		c := counts[name]
		t.Logf("%s: %d runs ended before the change, %d after it; %d changes rolled back, %d rolled forward",
			name, c.before, c.after, c.rolledBack, c.rolledForward)
	}
	// The interrupts must have hit the apply phase: before its commit point always; after it
	// too when asked (a short window: the renames, with many runs it is hit).
	k := counts["SIGKILL"]
	if k.rolledBack == 0 || (needForward && k.rolledForward == 0) {
		t.Errorf("kill -9 never left a change to roll back (%d) or to roll forward (%d): the apply phase was not hit", k.rolledBack, k.rolledForward)
	}
	if s := counts["SIGINT"]; s.rolledBack == 0 {
		t.Errorf("SIGINT never interrupted a change before its commit point")
	}
}

// waitForFile returns once path exists, or after timeout.
func waitForFile(path string, timeout time.Duration) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		if _, err := os.Lstat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}
