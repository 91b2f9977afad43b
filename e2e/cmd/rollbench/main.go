// Command rollbench measures a rolling update of several replicas behind HAProxy, with the
// servers' DrainDelay and, in the same run, without it (the baseline), and writes the figures
// into their own section of docs/BENCHMARKS.md. Run it from the root of a gingen checkout,
// with haproxy and psql installed and the PostgreSQL test server running:
//
//	.ci/databases start postgres && eval "$(.ci/databases env)"
//	go -C e2e run ./cmd/rollbench          # about 2 minutes on 2 cores
//	go -C e2e run ./cmd/rollbench -out -   # to stdout
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gingen/gingen/e2e/internal/benchdoc"
	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/e2e/internal/rollbench"
)

// section is the name of this command's section of docs/BENCHMARKS.md.
const section = "rolling"

type config struct {
	replicas        int
	keepAlive       int
	fresh           int
	drainDelay      time.Duration
	shutdownTimeout time.Duration
	golden          string
	out             string
	work            string
	keep            bool
}

func main() {
	// Paths, given or default, are relative to the checkout's root.
	if err := restarttest.ChdirCheckoutRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "rollbench:", err)
		os.Exit(1)
	}
	var c config
	flag.IntVar(&c.replicas, "replicas", 3, "replicas behind HAProxy, rolled one at a time")
	flag.IntVar(&c.keepAlive, "keepalive", 48, "clients on kept-alive connections")
	flag.IntVar(&c.fresh, "fresh", 16, "clients opening a new connection per request")
	flag.DurationVar(&c.drainDelay, "drain-delay", 2*time.Second, "the replicas' [server] DrainDelay in the measured run (the baseline runs with 0s)")
	flag.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "the replicas' [server] ShutdownTimeout")
	flag.StringVar(&c.golden, "golden", "golden", "the golden/ folder of the gingen checkout")
	flag.StringVar(&c.out, "out", filepath.Join("docs", "BENCHMARKS.md"), "file whose \""+section+"\" section gets the report; - for stdout")
	flag.StringVar(&c.work, "work", "", "working folder (default: a new one under the system's temporary folder)")
	flag.BoolVar(&c.keep, "keep", false, "keep the working folder (logs, HAProxy configuration)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "rollbench: unexpected argument %q; see -h\n", flag.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, c)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rollbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.drainDelay <= 0 {
		return errors.New("-drain-delay must be positive: the baseline already runs without one")
	}
	if _, err := os.Stat(filepath.Join(c.golden, rollbench.Golden, "go.mod")); err != nil {
		return fmt.Errorf("no %s: run from the root of a gingen checkout or set -golden", filepath.Join(c.golden, rollbench.Golden))
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		return errors.New("haproxy is not installed: apt-get install haproxy")
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		return errors.New("psql is not installed: apt-get install postgresql-client")
	}
	db := rollbench.Database{
		Host: os.Getenv("GINGEN_TEST_POSTGRES_HOST"), Port: os.Getenv("GINGEN_TEST_POSTGRES_PORT"),
		User: os.Getenv("GINGEN_TEST_POSTGRES_USER"), Password: os.Getenv("GINGEN_TEST_POSTGRES_PASSWORD"),
	}
	admin := os.Getenv("GINGEN_TEST_POSTGRES_NAME")
	if db.Host == "" || db.Port == "" || db.User == "" || admin == "" {
		return errors.New(`no PostgreSQL server: run .ci/databases start postgres && eval "$(.ci/databases env)"`)
	}
	work := c.work
	if work == "" {
		if work, err = os.MkdirTemp("", "rollbench-"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(work)
	} else {
		fmt.Fprintln(os.Stderr, "rollbench: working folder", work)
	}
	log, err := os.Create(filepath.Join(work, "servers.log"))
	if err != nil {
		return err
	}
	defer log.Close()

	fmt.Fprintln(os.Stderr, "rollbench: building", rollbench.Golden, "twice")
	project, from, to, err := rollbench.Prepare(ctx, c.golden, work, "roll-v1", "roll-v2")
	if err != nil {
		return err
	}
	name := fmt.Sprintf("gingen_rollbench_%d", os.Getpid())
	if err := db.SQL(ctx, psql, admin, "DROP DATABASE IF EXISTS "+name); err != nil {
		return err
	}
	if err := db.SQL(ctx, psql, admin, "CREATE DATABASE "+name); err != nil {
		return err
	}
	defer func() { _ = db.SQL(context.Background(), psql, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") }()

	var runs []rollbench.Figures
	for i, r := range []struct {
		delay   time.Duration
		noRetry bool
	}{{c.drainDelay, false}, {0, false}, {c.drainDelay, true}, {0, true}} {
		delay := r.delay
		fmt.Fprintf(os.Stderr, "rollbench: rolling %d replicas, DrainDelay %s, HAProxy retries: %t\n", c.replicas, delay, !r.noRetry)
		fig, err := rollbench.Run(ctx, rollbench.Config{
			NoRetry: r.noRetry,
			Project: project, From: from, To: to, FromVersion: "roll-v1", ToVersion: "roll-v2",
			EnvPrefix: "MYBLOG", DBEnv: db.Env("MYBLOG", name),
			Replicas: c.replicas, KeepAlive: c.keepAlive, Fresh: c.fresh,
			DrainDelay: delay, ShutdownTimeout: c.shutdownTimeout,
			HAProxy: haproxy, WorkDir: filepath.Join(work, fmt.Sprintf("run%d", i)), Log: log,
		})
		if err != nil {
			return fmt.Errorf("DrainDelay %s: %w", delay, err)
		}
		fmt.Fprintf(os.Stderr, "rollbench: %d requests, %d failed %v\n", fig.Sent, fig.Failed, fig.ByError)
		runs = append(runs, fig)
	}
	body, err := report(c, haproxyVersion(haproxy), runs)
	if err != nil {
		return err
	}
	if c.out == "-" {
		_, err := io.WriteString(os.Stdout, body)
		return err
	}
	if err := benchdoc.ReplaceSection(c.out, section, []byte(body)); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "rollbench: wrote the", section, "section of", c.out)
	return nil
}

func haproxyVersion(bin string) string {
	out, err := exec.Command(bin, "-v").Output()
	if err != nil {
		return "haproxy (version unknown)"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	fields := strings.Fields(line)
	if len(fields) >= 3 {
		return "HAProxy " + fields[2]
	}
	return line
}

func report(c config, haproxy string, runs []rollbench.Figures) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "## Rolling update behind HAProxy\n\n")
	fmt.Fprintf(&b, "Written by `go -C e2e run ./cmd/rollbench` (from the root of the checkout, with haproxy, psql and the PostgreSQL test server) on %s.\n\n",
		time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %d cores (runtime.NumCPU), %s, %s/%s, %s. HAProxy, the replicas, PostgreSQL and the load generator share these cores.\n\n",
		runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, haproxy)
	fmt.Fprintf(&b, "%d replicas of `golden/%s` (fork strategy, plus the `article` resource), each its own process on its own loopback port, "+
		"all on one PostgreSQL database, run behind HAProxy (configuration below) while %d clients (%d on kept-alive connections, %d opening a new "+
		"connection per request) send GET /healthz and, every 4th request, POST /api/v1/articles through it, back to back. After 1s, each replica in turn gets "+
		"SIGTERM, drains and exits; a replica of a rebuilt binary (another version) starts on the same port and must answer /readyz and be reported UP by HAProxy "+
		"before the next replica is rolled; 1s of load follows the last roll. ShutdownTimeout %s. The same roll runs twice in one run: with the "+
		"replicas' DrainDelay (on SIGTERM /readyz answers 503 at once and the server keeps serving, accepting too, for DrainDelay before it "+
		"closes its listener), and without (DrainDelay 0s: the listener closes at once; the baseline). Both again with HAProxy's retries off "+
		"(`retries 0`), as a load balancer that never retries, such as a Kubernetes Service through kube-proxy, would behave.\n\n",
		c.replicas, rollbench.Golden, c.keepAlive+c.fresh, c.keepAlive, c.fresh, c.shutdownTimeout)
	b.WriteString("| run | requests (POSTs) in load time | failed | HAProxy retries / redispatches | HAProxy connection errors / response errors / 5xx | p50 / p99 / max latency | SIGTERM to new replica ready and UP, per replica | versions after the roll |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, f := range runs {
		name := fmt.Sprintf("DrainDelay %s", f.DrainDelay)
		if f.DrainDelay == 0 {
			name = "baseline: DrainDelay 0s"
		}
		if f.NoRetry {
			name += ", HAProxy without retries"
		}
		var rolls []string
		for _, d := range f.RollTimes {
			rolls = append(rolls, d.Round(10*time.Millisecond).String())
		}
		fmt.Fprintf(&b, "| %s | %d (%d) in %s | %s | %d / %d | %d / %d / %d | %s / %s / %s | %s | %s |\n",
			name, f.Sent, f.Posts, f.Duration.Round(100*time.Millisecond), failed(f), f.Retries, f.Redispatches, f.ConnErrors, f.RespErrors, f.HTTP5xx,
			ms(f.P50), ms(f.P99), ms(f.Max), strings.Join(rolls, ", "), versions(f.LastVersions))
	}
	if len(runs) == 4 {
		with, base, withNR, baseNR := runs[0], runs[1], runs[2], runs[3]
		fmt.Fprintf(&b, "\nWith DrainDelay %s, %d of %d requests failed and HAProxy needed %d retries or redispatches: each replica was out of rotation "+
			"before its listener closed. Without it, %d of %d failed, and HAProxy retried on another replica %d connections that a closed listener "+
			"refused: until its checks fail (2 x 500ms), HAProxy keeps choosing a replica that stopped accepting, and each refused "+
			"connection costs a client a retry turn-around (up to 1s) or, when the retries run out, a 503; and HAProxy counted %d response "+
			"errors (a 502: a request it had already sent on a connection the stopping server closed), which no retry covers. "+
			"With HAProxy's retries off, DrainDelay alone: %d of %d failed; the baseline: %d of %d.\n",
			with.DrainDelay, with.Failed, with.Sent, with.Retries+with.Redispatches, base.Failed, base.Sent, base.Retries+base.Redispatches,
			base.RespErrors, withNR.Failed, withNR.Sent, baseNR.Failed, baseNR.Sent)
	}
	b.WriteString("\nHAProxy's counters are those of the backend: a retry is a new connection attempt after a refused or failed one, a ")
	b.WriteString("redispatch a retry sent to another server. A request HAProxy retried successfully did not fail for the client, ")
	b.WriteString("but a retry only covers failures before the request reached a server (`retry-on conn-failure`); a POST cut after ")
	b.WriteString("it was sent cannot be retried safely, which is why the servers must not close connections HAProxy is still using.\n\n")
	b.WriteString("The HAProxy configuration (the stats socket is how the benchmark reads the states and counters):\n\n```haproxy\n")
	cfg, err := rollbench.ExampleHAProxyConfig(c.replicas)
	if err != nil {
		return "", err
	}
	b.WriteString(cfg)
	b.WriteString("```\n")
	return b.String(), nil
}

func failed(f rollbench.Figures) string {
	if f.Failed == 0 {
		return "0"
	}
	var kinds []string
	for k, v := range f.ByError {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("%d (%s)", f.Failed, strings.Join(kinds, ", "))
}

func versions(v map[string]int) string {
	var out []string
	for k, n := range v {
		out = append(out, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
