package perfbench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Endpoint is one measured request kind and its goal: the generated project's CPU per
// request at most Limit times the baseline's.
type Endpoint struct {
	Name string // "/healthz", "list", "get", "create"
	What string // the request, e.g. GET /api/v1/articles?page_size=10
	// Database is what both servers ran on for this line: SQLite or PostgreSQL.
	Database            string
	Limit               float64
	Generated, Baseline Stat
	// Profile is the pprof summary of the generated server under this endpoint's load,
	// taken when the goal is missed; empty otherwise.
	Profile string
}

// Goals of issue 22, as ratios of generated to baseline.
const (
	HealthzLimit  = 1.15
	HandlerLimit  = 1.05
	BinaryLimit   = 1.0
	StartupLimit  = 1.2
	notMeasured   = "not measured"
	goalMet       = "met"
	goalMissed    = "**missed**"
	ratioFormat   = "%.2fx"
	unknownRatio  = "-"
	megabyte      = 1 << 20
	microsecond   = float64(time.Microsecond)
	reportHeading = "## Cost per request: the generated project against a hand-written server\n\n"
)

// Report is one perfbench run.
type Report struct {
	Command string
	Machine string
	// Databases are the databases measured, in the order of the endpoints' lines.
	Databases []string
	// Notes say what was not measured and why (e.g. PostgreSQL without its environment), and
	// how a database was set up.
	Notes     []string
	Rounds    int
	Clients   int
	Endpoints []Endpoint
	// Binary sizes, memory (bytes) and start-up to the first 200 (median of the tries).
	BinaryGenerated, BinaryBaseline   int64
	IdleGenerated, IdleBaseline       int64
	LoadedGenerated, LoadedBaseline   int64
	StartupGenerated, StartupBaseline time.Duration
	StartupTries                      int
	// BinaryShares and InitShares say where the generated binary's size and start-up go
	// beyond the baseline's: filled when those goals are missed.
	BinaryShares, InitShares []Share
}

// Ratio is a/b, or 0 when either is not positive (nothing measured).
func Ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}

// Verdict says whether ratio meets limit: "met", "**missed**" or "not measured" (ratio 0).
func Verdict(ratio, limit float64) string {
	switch {
	case ratio <= 0:
		return notMeasured
	case ratio <= limit:
		return goalMet
	}
	return goalMissed
}

func ratioText(r float64) string {
	if r <= 0 {
		return unknownRatio
	}
	return fmt.Sprintf(ratioFormat, r)
}

// CPURatio is the endpoint's generated CPU per request over the baseline's; 0 when a side
// has no request or a failed one (its figures would not be the same work).
func (e Endpoint) CPURatio() float64 {
	if e.Generated.Failed > 0 || e.Baseline.Failed > 0 {
		return 0
	}
	return Ratio(float64(e.Generated.CPUPerRequest), float64(e.Baseline.CPUPerRequest))
}

// Label names the line: the request kind and, when set, its database ("list (PostgreSQL)").
func (e Endpoint) Label() string {
	if e.Database == "" {
		return e.Name
	}
	return e.Name + " (" + e.Database + ")"
}

// Missed lists the labels of the endpoints whose CPU goal is missed: the ones to profile.
func (r Report) Missed() []string {
	var names []string
	for _, e := range r.Endpoints {
		if Verdict(e.CPURatio(), e.Limit) == goalMissed {
			names = append(names, e.Label())
		}
	}
	return names
}

// Write renders the report as the Markdown of docs/BENCHMARKS.md's section.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	b.WriteString(reportHeading)
	fmt.Fprintf(&b, "Made by `%s` on %s. %s, %d interleaved rounds, %d concurrent keep-alive clients over loopback; "+
		"on each database both servers built from the same go.mod with the same build tags, the generated one as generated "+
		"(fork strategy, access log and metrics on), the baseline `e2e/internal/perfbench/%s` (gin, gorm, the "+
		"generated project's database driver; count, page, validation; no middleware but gin's recovery).\n\n",
		r.Command, r.Machine, strings.Join(r.Databases, " and "), r.Rounds, r.Clients, BaselineDir)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "%s\n\n", n)
	}
	b.WriteString("| request | CPU/request gen / base | ratio (goal) | allocs/request gen / base | p50 gen / base | p99 gen / base | requests/s gen / base | failed |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, e := range r.Endpoints {
		g, s := e.Generated, e.Baseline
		fmt.Fprintf(&b, "| %s `%s` | %.1f / %.1f µs | %s (%.2fx: %s) | %.0f / %.0f | %s / %s | %s / %s | %.0f / %.0f | %d / %d |\n",
			e.Label(), e.What, float64(g.CPUPerRequest)/microsecond, float64(s.CPUPerRequest)/microsecond,
			ratioText(e.CPURatio()), e.Limit, Verdict(e.CPURatio(), e.Limit),
			g.AllocsPerRequest, s.AllocsPerRequest, dur(g.P50), dur(s.P50), dur(g.P99), dur(s.P99),
			g.Throughput, s.Throughput, g.Failed, s.Failed)
	}
	if len(r.Databases) > 1 {
		fmt.Fprintf(&b, "\nThe binary, start-up and memory lines are those of the %s servers.\n", r.Databases[0])
	}
	b.WriteString("\n| | generated | baseline | ratio (goal) |\n| --- | ---: | ---: | ---: |\n")
	bin := Ratio(float64(r.BinaryGenerated), float64(r.BinaryBaseline))
	fmt.Fprintf(&b, "| binary | %.1f MB | %.1f MB | %s (%.2fx: %s) |\n", mb(r.BinaryGenerated), mb(r.BinaryBaseline),
		ratioText(bin), BinaryLimit, Verdict(bin, BinaryLimit))
	up := Ratio(float64(r.StartupGenerated), float64(r.StartupBaseline))
	fmt.Fprintf(&b, "| start-up to the first 200 on /healthz (median of %d) | %s | %s | %s (%.2fx: %s) |\n", r.StartupTries,
		dur(r.StartupGenerated), dur(r.StartupBaseline), ratioText(up), StartupLimit, Verdict(up, StartupLimit))
	fmt.Fprintf(&b, "| RSS idle (after start-up) | %.1f MB | %.1f MB | %s |\n", mb(r.IdleGenerated), mb(r.IdleBaseline),
		ratioText(Ratio(float64(r.IdleGenerated), float64(r.IdleBaseline))))
	fmt.Fprintf(&b, "| RSS loaded (peak) | %.1f MB | %.1f MB | %s |\n\n", mb(r.LoadedGenerated), mb(r.LoadedBaseline),
		ratioText(Ratio(float64(r.LoadedGenerated), float64(r.LoadedBaseline))))

	b.WriteString("### Goals\n\n")
	for _, e := range r.Endpoints {
		fmt.Fprintf(&b, "- CPU per request on %s within %.2fx of the baseline: %s (%s).\n", e.Label(), e.Limit,
			Verdict(e.CPURatio(), e.Limit), ratioText(e.CPURatio()))
	}
	fmt.Fprintf(&b, "- binary no bigger than the baseline's: %s (%s).\n", Verdict(bin, BinaryLimit), ratioText(bin))
	fmt.Fprintf(&b, "- start-up to the first 200 within %.1fx of the baseline's: %s (%s).\n\n", StartupLimit, Verdict(up, StartupLimit), ratioText(up))

	if len(r.BinaryShares) > 0 {
		b.WriteString("### Where the generated binary's size goes\n\nThe packages that add most to the generated binary " +
			"against the baseline's (`go tool nm -size`, symbol sizes summed by package):\n\n")
		b.WriteString(shareTable(r.BinaryShares, "KB", func(v float64) string { return fmt.Sprintf("%.0f", v/1024) }))
		b.WriteString("\n")
	}
	if len(r.InitShares) > 0 {
		b.WriteString("### Where the generated server's start-up goes\n\nPackage initialization that the generated " +
			"server runs beyond the baseline's (`GODEBUG=inittrace=1`, ms of clock in one start; main's own work, " +
			"settings, the database pools and the migrations, comes after it):\n\n")
		b.WriteString(shareTable(r.InitShares, "ms", func(v float64) string { return fmt.Sprintf("%.2f", v) }))
		b.WriteString("\n")
	}
	for _, e := range r.Endpoints {
		if e.Profile == "" {
			continue
		}
		fmt.Fprintf(&b, "### Where the generated server's CPU goes on %s\n\n", e.Label())
		b.WriteString("`go tool pprof -top -cum` of a CPU profile taken from the admin listener's /debug/pprof/profile " +
			"under the same load (the functions named in the goal's gap; runtime and net/http lines trimmed):\n\n```\n")
		b.WriteString(strings.TrimRight(e.Profile, "\n"))
		b.WriteString("\n```\n\n")
	}
	b.WriteString("CPU is the server process's utime + stime from /proc/PID/stat over each batch (clock ticks of " +
		"10 ms: the batches are long enough for that to be under 2%), totalled over the rounds and divided by the " +
		"requests; allocations are the Go runtime's heap allocation count (the generated project's " +
		"`go_memstats_mallocs_total` on /metrics, the baseline's runtime/metrics on /debug/allocs) over the batch, " +
		"the counter's own read taken out. Ratios, not absolute figures, are what the goals judge: the machine " +
		"is shared, and both servers see the same load in the same rounds.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func mb(n int64) float64 { return float64(n) / megabyte }

// dur prints d rounded for a table: µs below a millisecond, ms with one decimal above.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/microsecond)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// TrimProfile keeps the header and the first n lines of `go tool pprof -top` output that
// name a function of the server's own code, gin, gorm, the SQLite or PostgreSQL (pgx)
// driver, the validator, JSON encoding or Prometheus: the lines that say which part costs
// what.
func TrimProfile(top string, n int) string {
	var out []string
	kept := 0
	for line := range strings.Lines(top) {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "flat") || strings.HasPrefix(t, "Showing") || strings.HasPrefix(t, "Duration"):
			out = append(out, strings.TrimRight(line, "\n"))
		case kept < n && interesting(t):
			out = append(out, strings.TrimRight(line, "\n"))
			kept++
		}
	}
	return strings.Join(out, "\n")
}

func interesting(line string) bool {
	for _, s := range []string{"myblog/", "gin-gonic/", "gorm.io/", "sqlite", "jackc/pgx", "validator", "encoding/json",
		"prometheus", "log/slog", "crypto/rand", "restart.", "gin-contrib", "database/sql."} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}
