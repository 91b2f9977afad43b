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

// TestInterruptedAddAndDestroyAreAllOrNothing runs the real gingen binary, alternately adding
// and destroying a resource, and interrupts it at a random moment: 200 times with SIGINT and
// 200 times with kill -9. After a SIGINT the project is at once exactly as before or as after
// the change (gingen rolls back or finishes it itself); after kill -9 it is so once the next
// gingen command has run (it rolls the journal back or forward). The GINGEN_TEST_APPLY_DELAY
// hook stretches the apply phase so that the random moments land inside it often; the counts
// of each outcome are logged and each must have happened.
func TestInterruptedAddAndDestroyAreAllOrNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gingen 800 times")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "gingen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build gingen: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "new", "myblog", "--dir", work, "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("gingen new: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "myblog")
	const delay = "4ms"
	gingen := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), generator.ApplyDelayEnv+"="+delay)
		return cmd
	}
	add := []string{"add", "resource", "article", "title:string", "body:text", "--quiet"}
	destroy := []string{"destroy", "resource", "article", "--quiet"}

	// The two states, and how long an uninterrupted change takes.
	before := treeState(t, dir)
	start := time.Now()
	if out, err := gingen(add...).CombinedOutput(); err != nil {
		t.Fatalf("gingen add: %v\n%s", err, out)
	}
	window := time.Since(start)
	after := treeState(t, dir)
	if out, err := gingen(destroy...).CombinedOutput(); err != nil {
		t.Fatalf("gingen destroy: %v\n%s", err, out)
	}
	if d := treeDiff(before, treeState(t, dir)); d != "" {
		t.Fatalf("add then destroy does not give the project back: %s", d)
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d; an uninterrupted add takes %v; interrupts land in [0, %v]", seed, window, window*5/4)

	type outcome struct{ before, after, rolledBack, rolledForward int }
	counts := map[string]*outcome{"SIGINT": {}, "SIGKILL": {}}
	isAfter := false
	for i := range 400 {
		sig, name := os.Signal(syscall.SIGINT), "SIGINT"
		if i >= 200 {
			sig, name = syscall.SIGKILL, "SIGKILL"
		}
		args := add
		if isAfter {
			args = destroy
		}
		cmd := gingen(args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(window * 5 / 4))))
		_ = cmd.Process.Signal(sig)
		err := cmd.Wait()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		c := counts[name]
		if sig == syscall.SIGKILL {
			// The next gingen run recovers: any command in the project does it first.
			rec := gingen("destroy", "resource", "nothing_here", "--dry-run")
			recOut, _ := rec.CombinedOutput()
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
	for _, name := range []string{"SIGINT", "SIGKILL"} {
		c := counts[name]
		t.Logf("%s: %d runs ended before the change, %d after it; %d changes rolled back, %d rolled forward",
			name, c.before, c.after, c.rolledBack, c.rolledForward)
	}
	// The interrupts must have hit the apply phase on both sides of its commit point.
	k := counts["SIGKILL"]
	if k.rolledBack == 0 || k.rolledForward == 0 {
		t.Errorf("kill -9 never left a change to roll back (%d) or to roll forward (%d): the apply phase was not hit", k.rolledBack, k.rolledForward)
	}
	if s := counts["SIGINT"]; s.rolledBack == 0 {
		t.Errorf("SIGINT never interrupted a change before its commit point")
	}
}
