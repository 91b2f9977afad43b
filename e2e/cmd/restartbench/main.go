// Command restartbench measures restarts under load for every restart strategy, against a
// naive stop-and-start in the same run, and writes the figures as Markdown
// (docs/BENCHMARKS.md). Run it from the root of a gingen checkout:
//
//	go -C e2e run ./cmd/restartbench                      # 20 restarts per run, 64 clients: ~12 min on 2 cores
//	go -C e2e run ./cmd/restartbench -restarts 3 -out -   # a quick look, to stdout
//	go -C e2e run ./cmd/restartbench -strategy supervisor -ports 20000-20099 -parts restarts -out -
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/gingen/gingen/e2e/internal/benchdoc"
	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// config is the command line.
type config struct {
	restarts        int
	keepAlive       int
	fresh           int
	postEvery       int
	steady          time.Duration
	slow            int
	trickle         time.Duration
	shutdownTimeout time.Duration
	readyTimeout    time.Duration
	baseline        string
	kills           int
	killEvery       time.Duration
	throughput      time.Duration
	rounds          int
	out             string
	golden          string
	bareGin         string
	keep            bool
	parts           string
	note            string
	strategy        string
	ports           restarttest.PortRange
}

func main() {
	// Paths, given or default, are relative to the checkout's root.
	if err := restarttest.ChdirCheckoutRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "restartbench:", err)
		os.Exit(1)
	}
	var c config
	flag.IntVar(&c.restarts, "restarts", 20, "restarts per run")
	flag.IntVar(&c.keepAlive, "keepalive", 48, "clients on kept-alive connections")
	flag.IntVar(&c.fresh, "fresh", 16, "clients opening a new connection per request")
	flag.IntVar(&c.postEvery, "post-every", 4, "every n-th request of a client is a POST /api/v1/articles (0: GETs only)")
	flag.DurationVar(&c.steady, "steady", time.Second, "steady state before, between and after restarts")
	flag.IntVar(&c.slow, "slow", 2, "slow POSTs kept in flight across every restart")
	flag.DurationVar(&c.trickle, "trickle", time.Second, "how long a slow POST's body trickles")
	flag.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "the servers' [server] ShutdownTimeout")
	flag.DurationVar(&c.readyTimeout, "ready-timeout", 10*time.Second, "the servers' [server] ReadyTimeout")
	flag.StringVar(&c.baseline, "baseline", "TERM", "signal of the naive restart: TERM or KILL")
	flag.IntVar(&c.kills, "kills", 3, "SIGKILLs of the supervisor's worker under load")
	flag.DurationVar(&c.killEvery, "kill-every", 11*time.Second, "time between two worker kills (over 10s: the master's backoff is back to 100ms)")
	flag.DurationVar(&c.throughput, "throughput", 3*time.Second, "length of one throughput measurement")
	flag.IntVar(&c.rounds, "rounds", 5, "throughput rounds per server, interleaved")
	flag.StringVar(&c.out, "out", "docs/BENCHMARKS.md", "where to write the report (- for stdout)")
	flag.StringVar(&c.golden, "golden", "golden", "the golden projects")
	flag.StringVar(&c.bareGin, "baregin", "e2e/internal/restarttest/"+restarttest.BareGinDir, "the bare gin server's source")
	flag.BoolVar(&c.keep, "keep", false, "keep the work folder (binaries, server logs) and print its path")
	flag.StringVar(&c.parts, "parts", "restarts,kills,throughput", "what to measure, comma-separated")
	flag.StringVar(&c.note, "note", "", "a sentence about the machine added to the report, e.g. what else ran on it")
	flag.StringVar(&c.strategy, "strategy", "", "measure only this strategy's restarts (fork, supervisor or systemd) beside the naive baseline; empty: every strategy")
	flag.Func("ports", "loopback ports the servers listen on, FIRST-LAST (e.g. 20000-20099); default: any free port", func(s string) error {
		var err error
		c.ports, err = restarttest.ParsePortRange(s)
		return err
	})
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "restartbench: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "restartbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, args []string) error {
	sig, ok := map[string]syscall.Signal{"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL}[c.baseline]
	if !ok {
		return fmt.Errorf("-baseline %q: use TERM or KILL", c.baseline)
	}
	if c.restarts < 1 || c.keepAlive+c.fresh < 1 || c.rounds < 1 {
		return fmt.Errorf("-restarts, -rounds and the number of clients must be at least 1")
	}
	switch c.strategy {
	case "", restarttest.Fork, restarttest.Supervisor, restarttest.Systemd:
	default:
		return fmt.Errorf("-strategy %q: use fork, supervisor or systemd (or leave it out for all three)", c.strategy)
	}
	fx, work, done, err := restarttest.BenchWork(c.golden, "restartbench", c.keep)
	if err != nil {
		return err
	}
	defer done()
	b := &bench{cfg: c, fx: fx, work: work}
	// Quoted as a shell would need it, so that the command in the report can be run again.
	rep := report{Command: "go -C e2e run ./cmd/restartbench " + shellquote.Join(args...), Machine: machine(), Config: c}

	versions := make([]string, c.restarts)
	for i := range versions {
		versions[i] = fmt.Sprintf("v%d", i+2)
	}
	type restartRun struct {
		label, strategy string
		plan            restarttest.Plan
		baseline        bool
	}
	runs := []restartRun{
		{"fork: SIGHUP", restarttest.Fork, restarttest.Plan{Mode: restarttest.Reload}, false},
		{"supervisor: SIGHUP", restarttest.Supervisor, restarttest.Plan{Mode: restarttest.Reload}, false},
		{"systemd: reload (SIGHUP)", restarttest.Systemd, restarttest.Plan{Mode: restarttest.Reload}, false},
		{"systemd: restart (stop, start on the held socket)", restarttest.Systemd, restarttest.Plan{Mode: restarttest.Restart}, false},
		{"naive baseline: SIG" + c.baseline + ", then start (fork binary, no hand-over)", restarttest.Fork,
			restarttest.Plan{Mode: restarttest.Restart, StopSignal: sig}, true},
	}
	if c.strategy != "" {
		// One strategy, still against the naive baseline of the same run.
		runs = slices.DeleteFunc(runs, func(r restartRun) bool { return r.strategy != c.strategy && !r.baseline })
	}
	parts := map[string]bool{}
	for _, p := range strings.Split(c.parts, ",") {
		switch p = strings.TrimSpace(p); p {
		case "restarts", "kills", "throughput":
			parts[p] = true
		default:
			return fmt.Errorf("-parts: unknown part %q; use restarts, kills and throughput", p)
		}
	}
	if !parts["restarts"] {
		runs = nil
	}
	for _, r := range runs {
		b.progress("building %s v1..v%d", r.strategy, c.restarts+1)
		bins, err := b.fx.Versions(ctx, r.strategy, append([]string{"v1"}, versions...)...)
		if err != nil {
			return err
		}
		plan := r.plan
		plan.Binaries, plan.Versions = bins[1:], versions
		b.progress("%s: %d restarts", r.label, c.restarts)
		fig, dbLocked, err := b.restarts(ctx, r.strategy, plan)
		if err != nil {
			return fmt.Errorf("%s: %w", r.label, err)
		}
		b.progress("%s: %s, %d problems", r.label, fig.Summary, len(fig.Problems))
		rep.Runs = append(rep.Runs, runFigures{Label: r.label, Strategy: r.strategy, Mode: plan.Mode, Figures: fig,
			DatabaseLocked: dbLocked})
	}

	// Worker kills are the supervisor's: another -strategy leaves them out.
	if c.kills > 0 && parts["kills"] && (c.strategy == "" || c.strategy == restarttest.Supervisor) {
		b.progress("supervisor: %d worker kills", c.kills)
		if rep.Kills, err = b.killWorkers(ctx); err != nil {
			return fmt.Errorf("worker kills: %w", err)
		}
	}

	if parts["throughput"] {
		b.progress("throughput: %d rounds of %s per server", c.rounds, c.throughput)
		if rep.Throughput, err = b.compareThroughput(ctx); err != nil {
			return fmt.Errorf("throughput: %w", err)
		}
	}

	if c.out == "-" {
		return rep.write(os.Stdout)
	}
	// The report is one section of the file: other benchmarks' sections stay as they are.
	var buf bytes.Buffer
	if err := rep.write(&buf); err != nil {
		return err
	}
	if err := benchdoc.ReplaceSection(c.out, "restarts", buf.Bytes()); err != nil {
		return err
	}
	b.progress("wrote section restarts of %s", c.out)
	return nil
}
