// Command startupbench measures gingen's own start-up as a user meets it: `gingen version`,
// `gingen new NAME --no-input` into a fresh folder and `cp -r` of the tree new writes, for two
// gingen binaries side by side (before and after a change), interleaved in one run so that
// both see the same load. It prints the medians (wall time with its quartiles, and CPU: the
// process's user + system time) as markdown tables for docs/BENCHMARKS.md ("gingen's own
// start-up"), which are written by hand from them.
//
//	go -C e2e run ./cmd/startupbench -before /tmp/gingen-main -after /tmp/gingen \
//	    -dirs /dev/shm/startup,/var/tmp/startup
//
// Build both binaries as the README installs gingen: CGO_ENABLED=0 go build -trimpath. Each
// round runs every command once, in an order rotated every round; a command's target is
// removed before it runs (not timed), as a user's `rm -rf` would, so each `new` and `cp -r`
// writes into a folder that does not exist yet. Timing goals are reported, never asserted.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	before, after string
	hello         string
	dirs          []string
	rounds        int
	versionRounds int
	name          string
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "startupbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var c config
	var dirs string
	f := flag.NewFlagSet("startupbench", flag.ContinueOnError)
	f.StringVar(&c.before, "before", "", "gingen binary before the change (required)")
	f.StringVar(&c.after, "after", "", "gingen binary after the change (required)")
	f.StringVar(&c.hello, "hello", "", "optional: a Go \"hello, world\" binary, run beside version as the floor of a Go program's start")
	f.StringVar(&dirs, "dirs", "", "comma-separated folders to generate into, one per file system, e.g. a tmpfs and an ext4 one (required; made if missing)")
	f.IntVar(&c.rounds, "rounds", 40, "rounds of new and cp -r in each folder")
	f.IntVar(&c.versionRounds, "version-rounds", 300, "rounds of version")
	f.StringVar(&c.name, "name", "myblog", "project name given to gingen new")
	if err := f.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.before == "" || c.after == "":
		return c, errors.New("-before and -after are required: two gingen binaries, e.g. built with CGO_ENABLED=0 go build -trimpath")
	case dirs == "":
		return c, errors.New("-dirs is required: the folders to generate into, e.g. -dirs /dev/shm/startup,/var/tmp/startup")
	case c.rounds < 1 || c.versionRounds < 1:
		return c, errors.New("-rounds and -version-rounds must be at least 1")
	case f.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", f.Arg(0))
	}
	c.dirs = strings.Split(dirs, ",")
	return c, nil
}

// command is one measured command line: how to run it, and what to remove before each run.
type command struct {
	label  string
	argv   []string
	dir    string
	target string // removed before each run; "" for none
}

// sample is one run: wall time and CPU (user + system) time.
type sample struct{ wall, cpu time.Duration }

func run(args []string, out io.Writer) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "load average at the start: %s\n\n", loadavg())
	version := []command{
		{label: "`version`, before", argv: []string{c.before, "version"}},
		{label: "`version`, after", argv: []string{c.after, "version"}},
	}
	if c.hello != "" {
		version = append(version, command{label: "Go \"hello, world\"", argv: []string{c.hello}})
	}
	res, err := measure(version, c.versionRounds)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "`gingen version`, %d interleaved rounds:\n\n", c.versionRounds)
	table(out, version, res)
	for _, dir := range c.dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		ref := filepath.Join(dir, "ref")
		if err := os.RemoveAll(ref); err != nil {
			return err
		}
		// The tree cp -r copies: the one the after binary writes.
		gen := exec.Command(c.after, "new", "ref", "--no-input", "--quiet")
		gen.Dir = dir
		if b, err := gen.CombinedOutput(); err != nil {
			return fmt.Errorf("gingen new ref in %s: %w: %s", dir, err, b)
		}
		cmds := []command{
			{label: "`new`, before", argv: []string{c.before, "new", c.name, "--no-input"}, dir: dir, target: c.name},
			{label: "`new`, after", argv: []string{c.after, "new", c.name, "--no-input"}, dir: dir, target: c.name},
			{label: "`cp -r` of the same tree", argv: []string{"cp", "-r", "ref", "copy"}, dir: dir, target: "copy"},
		}
		res, err := measure(cmds, c.rounds)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n%s (%s), %d interleaved rounds:\n\n", dir, fsType(dir), c.rounds)
		table(out, cmds, res)
		for _, p := range []string{ref, filepath.Join(dir, c.name), filepath.Join(dir, "copy")} {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(out, "\nload average at the end: %s\n", loadavg())
	return nil
}

// measure runs every command once per round, the order rotated by one every round, and
// returns each command's samples.
func measure(cmds []command, rounds int) ([][]sample, error) {
	res := make([][]sample, len(cmds))
	for r := range rounds {
		for k := range cmds {
			i := (k + r) % len(cmds)
			s, err := runOnce(cmds[i])
			if err != nil {
				return nil, err
			}
			res[i] = append(res[i], s)
		}
	}
	return res, nil
}

func runOnce(c command) (sample, error) {
	if c.target != "" {
		if err := os.RemoveAll(filepath.Join(c.dir, c.target)); err != nil {
			return sample{}, err
		}
	}
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	start := time.Now()
	b, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w: %s", strings.Join(c.argv, " "), err, b)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, errors.New("no rusage for the child: startupbench runs on Linux")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, cpu: cpu}, nil
}

// quantile is the q-quantile of sorted d (nearest rank, interpolated between the two).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo+1 >= len(sorted) {
		return sorted[lo]
	}
	frac := pos - float64(lo)
	return sorted[lo] + time.Duration(frac*float64(sorted[lo+1]-sorted[lo]))
}

func table(out io.Writer, cmds []command, res [][]sample) {
	fmt.Fprintln(out, "| command | wall: median (quartiles) | CPU: median |")
	fmt.Fprintln(out, "| --- | ---: | ---: |")
	for i, c := range cmds {
		wall, cpu := make([]time.Duration, 0, len(res[i])), make([]time.Duration, 0, len(res[i]))
		for _, s := range res[i] {
			wall, cpu = append(wall, s.wall), append(cpu, s.cpu)
		}
		slices.Sort(wall)
		slices.Sort(cpu)
		fmt.Fprintf(out, "| %s | %s ms (%s-%s) | %s ms |\n", c.label, ms(quantile(wall, 0.5)), ms(quantile(wall, 0.25)), ms(quantile(wall, 0.75)), ms(quantile(cpu, 0.5)))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// fsType is the type of the file system dir is on, as statfs(2) names it.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown file system"
	}
	switch st.Type { // the magic numbers of statfs(2)
	case 0x01021994:
		return "tmpfs"
	case 0xef53:
		return "ext4"
	}
	return fmt.Sprintf("file system 0x%x", st.Type)
}
