// Command streambench measures event streams through restarts: subscribers of a resource
// added with --events, on the server-sent event stream and on the websocket, follow it while
// a writer creates records and the server restarts (SIGHUP), in each strategy, and the
// figures go into their own section of docs/BENCHMARKS.md. Run it from the root of a gingen
// checkout:
//
//	go -C e2e run ./cmd/streambench                        # 100 subscribers, 10 restarts per strategy
//	go -C e2e run ./cmd/streambench -strategy fork -out -  # one strategy, to stdout
//
// Each strategy runs golden/myblog-<strategy> with the resources of golden/myblog-events
// (notes, with events) on SQLite, as e2e's TestEventStreamsSurviveRestarts does (the same
// harness, restarttest.RunStreams): every subscriber starts from ?after=0 and resumes after
// each stream's end with Last-Event-ID (SSE) or ?after= (websocket) the last id it received;
// at the end the outbox is read and what each subscriber received is compared with it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/gingen/gingen/e2e/internal/benchdoc"
	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// sectionName is the section of docs/BENCHMARKS.md this command writes.
const sectionName = "streams-through-restarts"

type config struct {
	strategies      []string
	subscribers     int
	websockets      int
	restarts        int
	writeEvery      time.Duration
	shutdownTimeout time.Duration
	timeout         time.Duration
	ports           restarttest.PortRange
	golden          string
	out             string
	note            string
	keep            bool
}

// parseStrategies reads -strategy: a comma-separated list of fork, supervisor and systemd,
// each once; empty is all three.
func parseStrategies(s string) ([]string, error) {
	all := []string{restarttest.Fork, restarttest.Supervisor, restarttest.Systemd}
	if strings.TrimSpace(s) == "" {
		return all, nil
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if !slices.Contains(all, part) {
			return nil, fmt.Errorf("-strategy %q: use fork, supervisor or systemd, comma-separated", part)
		}
		if slices.Contains(out, part) {
			return nil, fmt.Errorf("-strategy: %s given twice", part)
		}
		out = append(out, part)
	}
	return out, nil
}

// check refuses a configuration that would measure nothing.
func (c config) check() error {
	switch {
	case len(c.strategies) == 0:
		return fmt.Errorf("-strategy: no strategy to measure")
	case c.subscribers < 1 || c.restarts < 1:
		return fmt.Errorf("-subscribers and -restarts must be at least 1")
	case c.websockets < 0 || c.websockets > c.subscribers:
		return fmt.Errorf("-websockets %d: use 0 to -subscribers (%d)", c.websockets, c.subscribers)
	case c.writeEvery <= 0 || c.shutdownTimeout <= 0 || c.timeout <= 0:
		return fmt.Errorf("-write-every, -shutdown-timeout and -timeout must be positive")
	}
	return nil
}

func main() {
	// Paths, given or default, are relative to the checkout's root.
	if err := restarttest.ChdirCheckoutRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
	var c config
	flag.Func("strategy", "strategies to measure, comma-separated (fork, supervisor, systemd); default: all three", func(s string) error {
		var err error
		c.strategies, err = parseStrategies(s)
		return err
	})
	flag.IntVar(&c.subscribers, "subscribers", 100, "subscribers per strategy")
	flag.IntVar(&c.websockets, "websockets", 50, "how many of the subscribers use the websocket (the others SSE)")
	flag.IntVar(&c.restarts, "restarts", 10, "restarts (SIGHUP) per strategy")
	flag.DurationVar(&c.writeEvery, "write-every", 20*time.Millisecond, "the writer creates a note this often")
	flag.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "the servers' [server] ShutdownTimeout")
	flag.DurationVar(&c.timeout, "timeout", 3*time.Minute, "bound of one strategy's run, builds excluded")
	flag.Func("ports", "loopback ports the servers listen on, FIRST-LAST (e.g. 20000-20099); default: any free port", func(s string) error {
		var err error
		c.ports, err = restarttest.ParsePortRange(s)
		return err
	})
	flag.StringVar(&c.golden, "golden", "golden", "the golden projects")
	flag.StringVar(&c.out, "out", "docs/BENCHMARKS.md", "the report to write the section "+sectionName+" of (- for stdout)")
	flag.StringVar(&c.note, "note", "", "a sentence about the machine added to the report, e.g. what else ran on it")
	flag.BoolVar(&c.keep, "keep", false, "keep the work folder (binaries, server logs) and print its path")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "streambench: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if c.strategies == nil {
		c.strategies, _ = parseStrategies("")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
}

// result is one strategy's run.
type result struct {
	strategy string
	run      restarttest.StreamRun
}

func run(ctx context.Context, c config, args []string) error {
	if err := c.check(); err != nil {
		return err
	}
	fx, work, done, err := restarttest.BenchWork(c.golden, "streambench", c.keep)
	if err != nil {
		return err
	}
	defer done()
	loadStart := loadAverage()
	var results []result
	for _, strategy := range c.strategies {
		fmt.Fprintf(os.Stderr, "streambench: %s: building golden/myblog-%s with the resources of golden/%s\n", strategy, strategy, restarttest.EventsGolden)
		dir, err := fx.EventsProject(strategy)
		if err != nil {
			return err
		}
		if _, err := fx.Binary(ctx, dir, "v1"); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "streambench: %s: %d subscribers (%d websocket), %d restarts\n", strategy, c.subscribers, c.websockets, c.restarts)
		r, err := measure(ctx, fx, c, filepath.Join(work, strategy), strategy)
		if err != nil {
			return fmt.Errorf("%s: %w", strategy, err)
		}
		results = append(results, result{strategy, r})
	}
	var buf bytes.Buffer
	writeReport(&buf, c, strings.TrimSpace("go -C e2e run ./cmd/streambench "+shellquote.Join(args...)), [2]string{loadStart, loadAverage()}, results)
	if c.out == "-" {
		_, err := os.Stdout.Write(buf.Bytes())
		return err
	}
	if err := benchdoc.ReplaceSection(c.out, sectionName, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "streambench: wrote section %s of %s\n", sectionName, c.out)
	return nil
}

// measure starts the strategy's server and runs the subscribers through its restarts.
func measure(ctx context.Context, fx *restarttest.Fixtures, c config, dir, strategy string) (restarttest.StreamRun, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return restarttest.StreamRun{}, err
	}
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return restarttest.StreamRun{}, err
	}
	defer log.Close()
	srv, err := fx.StartEvents(ctx, strategy, "v1", restarttest.ServerConfig{
		WorkDir:         filepath.Join(dir, "server"),
		ShutdownTimeout: c.shutdownTimeout,
		ReadyTimeout:    20 * time.Second,
		Ports:           c.ports,
		Env:             []string{"MYBLOG_APP_LOGLEVEL=warn", "MYBLOG_APP_RUNMODE=release"},
		Log:             log,
	})
	if err != nil {
		return restarttest.StreamRun{}, fmt.Errorf("%w (log: %s)", err, log.Name())
	}
	defer srv.Kill()
	run, err := restarttest.RunStreams(ctx, srv, restarttest.StreamRunConfig{
		Plural:          "notes",
		PostBody:        func(n int) string { return fmt.Sprintf(`{"title":"note %d"}`, n) },
		WriteEvery:      c.writeEvery,
		SSE:             c.subscribers - c.websockets,
		WebSockets:      c.websockets,
		Restarts:        c.restarts,
		ShutdownTimeout: c.shutdownTimeout,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "streambench: %s: "+format+"\n", append([]any{strategy}, args...)...)
		},
	})
	if err != nil {
		return run, fmt.Errorf("%w (log: %s)", err, log.Name())
	}
	for _, l := range run.Late {
		fmt.Fprintf(os.Stderr, "streambench: %s: %s\n", strategy, l)
	}
	return run, nil
}

// loadAverage is the 1-minute load average, "" where /proc/loadavg cannot be read.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// writeReport writes the section: how it was measured and a row per strategy and kind. load
// is the machine's load average at the start and at the end.
func writeReport(w io.Writer, c config, command string, load [2]string, results []result) {
	fmt.Fprintf(w, "## Streams through restarts\n\n")
	fmt.Fprintf(w, "Written by `%s` (from the root of the checkout) on %s.\n\n", command, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(w, "Machine: %d cores (runtime.NumCPU), %s %s/%s; the subscribers, the writer and the server share them.", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if load[0] != "" && load[1] != "" {
		fmt.Fprintf(w, " Load average %s at the start, %s at the end.", load[0], load[1])
	}
	if c.note != "" {
		fmt.Fprintf(w, " %s", c.note)
	}
	fmt.Fprintf(w, "\n\n")
	fmt.Fprintf(w, "Per strategy, golden/myblog-<strategy> with the resources of golden/%s (notes, added with `--events`; SQLite, RunMode release, LogLevel warn, ShutdownTimeout %s) serves %d subscribers, %d on `GET /api/v1/notes/events` (server-sent events) and %d on `GET /api/v1/notes/events/ws` (websocket), interleaved, while a writer POSTs a note every %s and the server restarts %d times (SIGHUP, each once the previous old generation is gone, 500ms apart, and every subscriber has reconnected to the generation serving). Every subscriber starts from `?after=0`; when a stream ends it reconnects (SSE: after the `retry:` delay, with `Last-Event-ID`; websocket: after 250ms, with `?after=`) the last id it received. At the end the outbox is read from a fresh stream, every subscriber is given 20s to catch up, and what each received is compared with it: *delivered* counts events received once (the goal: subscribers x events), *missing* events never received, *duplicates* events received again, *out of order* new events received after a higher id. A stream *ended cleanly* when the server ended it as a drain should (SSE: a last `retry:` field; websocket: close status 1012, service restart), *cut* otherwise. A *reconnect gap* is the time from a stream's end to the next stream's start (response headers or websocket handshake), retry delay and failed attempts included.\n\n",
		restarttest.EventsGolden, c.shutdownTimeout, c.subscribers, c.subscribers-c.websockets, c.websockets, c.writeEvery, c.restarts)
	fmt.Fprintln(w, "| strategy | stream | subscribers | events written (write errors) | delivered / goal | missing | duplicates | out of order | streams ended cleanly / cut | reconnects (failed connects) | reconnect gap p50 / p99 / max | restarts that waited out ShutdownTimeout | old generation gone after the new one served, median / max |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range results {
		for _, k := range r.run.Kinds {
			fmt.Fprintf(w, "| %s | %s | %d | %d (%d) | %d / %d | %d | %d | %d | %d / %d | %d (%d) | %s / %s / %s | %d of %d | %s / %s |\n",
				r.strategy, kindLabel(k.Kind), k.Subscribers, r.run.Events, r.run.WriteErrs,
				k.Delivered, k.Subscribers*r.run.Events, k.Missing, k.Duplicates, k.OutOfOrder,
				k.CleanEnds, k.AbruptEnds, k.Reconnects(), k.ConnectErrs,
				ms(pct(k.Gaps, 50)), ms(pct(k.Gaps, 99)), ms(pct(k.Gaps, 100)),
				r.run.SlowDrains, r.run.Restarts, ms(pct(r.run.Drains, 50)), ms(pct(r.run.Drains, 100)))
		}
	}
	fmt.Fprintln(w)
	var problems []string
	for _, r := range results {
		for _, k := range r.run.Kinds {
			if !k.Delivery.Exact() || k.AbruptEnds > 0 || k.Exact < k.Subscribers {
				problems = append(problems, fmt.Sprintf("%s %s: %d of %d subscribers received every event once, in order; %d streams cut %v", r.strategy, kindLabel(k.Kind), k.Exact, k.Subscribers, k.AbruptEnds, sortedCounts(k.AbruptWhy)))
			}
			if r.run.Restarts > 0 && k.Subscribers > 0 {
				fmt.Fprintf(w, "%s, %s: %.1f reconnects per subscriber and restart", r.strategy, kindLabel(k.Kind), float64(k.Reconnects())/float64(k.Subscribers*r.run.Restarts))
				if len(k.CloseCodes) > 0 {
					fmt.Fprintf(w, "; close statuses %s", sortedCounts(k.CloseCodes))
				}
				fmt.Fprintln(w, ".")
			}
		}
		if r.run.WriteErrs > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d writes failed: %s", r.strategy, r.run.WriteErrs, sortedCounts(r.run.WriteByError)))
		}
	}
	fmt.Fprintln(w)
	if len(problems) == 0 {
		fmt.Fprintln(w, "Every subscriber of every strategy received every event exactly once, in order, and no stream was cut.")
	} else {
		fmt.Fprintf(w, "Not met on this run:\n\n")
		for _, p := range problems {
			fmt.Fprintf(w, "- %s\n", p)
		}
	}
}

// kindLabel names a stream kind in the table.
func kindLabel(kind string) string {
	if kind == restarttest.SSE {
		return "SSE"
	}
	return kind
}

// sortedCounts formats counts as "k n, k n", keys sorted.
func sortedCounts[K int | string](m map[K]int) string {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%v: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// pct is the q-th percentile (0-100) of sorted durations, 0 for none; 100 is the max.
func pct(sorted []time.Duration, q int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := len(sorted) * q / 100
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// ms formats a duration in milliseconds, whole.
func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}
