// Command perfbench measures what a request costs on a generated project against a
// hand-written gin + gorm server doing the same work (e2e/internal/perfbench), both built
// from the golden project's go.mod with the Makefile's build tags, in one run with
// interleaved rounds, and writes the "cost-per-request" section of docs/BENCHMARKS.md. It
// measures on SQLite, and on PostgreSQL too when the GINGEN_TEST_POSTGRES_* variables name a
// server (.ci/databases env); a server they name that does not answer fails the run. Run it
// from a gingen checkout:
//
//	go -C e2e run ./cmd/perfbench                  # 3 rounds: a few minutes on 2 cores
//	go -C e2e run ./cmd/perfbench -rounds 1 -scale 0.2 -out -   # a quick look, to stdout
//	.ci/databases start postgres && eval "$(.ci/databases env)" && go -C e2e run ./cmd/perfbench
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/gingen/gingen/e2e/internal/benchdoc"
	"github.com/gingen/gingen/e2e/internal/perfbench"
	"github.com/gingen/gingen/e2e/internal/restarttest"
	"github.com/gingen/gingen/e2e/internal/rollbench"
	"github.com/gingen/gingen/generator"
)

// missed is perfbench.Verdict's word for a missed goal.
const missed = "**missed**"

type config struct {
	rounds, clients, startups int
	scale                     float64
	timeout                   time.Duration
	profile                   time.Duration
	out, golden, note         string
	keep                      bool
	ports                     restarttest.PortRange
}

func main() {
	if err := restarttest.ChdirCheckoutRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "perfbench:", err)
		os.Exit(1)
	}
	var c config
	flag.IntVar(&c.rounds, "rounds", 3, "interleaved rounds: each round runs every request kind on both servers, in alternating order")
	flag.IntVar(&c.clients, "clients", 8, "concurrent keep-alive clients")
	flag.Float64Var(&c.scale, "scale", 1, "multiplies the requests per batch (8000 /healthz, 2000 list, 4000 get, 1000 create)")
	flag.IntVar(&c.startups, "startups", 5, "start-up measurements per server")
	flag.DurationVar(&c.timeout, "timeout", 6*time.Minute, "the whole run's bound")
	flag.DurationVar(&c.profile, "profile", 4*time.Second, "CPU profile length per missed goal (0: no profile)")
	flag.StringVar(&c.out, "out", "docs/BENCHMARKS.md", "where to write the report (- for stdout)")
	flag.StringVar(&c.golden, "golden", "golden", "the golden projects")
	flag.StringVar(&c.note, "note", "", "a sentence about the machine added to the report")
	flag.BoolVar(&c.keep, "keep", false, "keep the work folder and print its path")
	flag.Func("ports", "loopback ports the servers listen on, FIRST-LAST (default: any free port)", func(s string) error {
		var err error
		c.ports, err = restarttest.ParsePortRange(s)
		return err
	})
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "perfbench: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if c.rounds < 1 || c.clients < 1 || c.startups < 1 || c.scale <= 0 || c.timeout <= 0 {
		fmt.Fprintln(os.Stderr, "perfbench: -rounds, -clients, -startups, -scale and -timeout must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := run(ctx, c, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "perfbench:", err)
		os.Exit(1)
	}
}

// stack is one database's pair of servers under measurement, and what the rounds measured.
type stack struct {
	database  string
	gen, base *target
	admin     string // the generated server's admin listener, for its profile
	genBin    string
	ids       map[string][]int
	samples   map[string]map[string][]perfbench.Sample // by server, then request kind
}

// postgres is the PostgreSQL server of the GINGEN_TEST_POSTGRES_* variables.
type postgres struct {
	db    rollbench.Database
	admin string // the database psql connects to for CREATE and DROP DATABASE
	psql  string
}

// postgresEnv are the variables .ci/databases env exports for PostgreSQL.
func postgresEnv() []string {
	return []string{"GINGEN_TEST_POSTGRES_HOST", "GINGEN_TEST_POSTGRES_PORT", "GINGEN_TEST_POSTGRES_USER",
		"GINGEN_TEST_POSTGRES_PASSWORD", "GINGEN_TEST_POSTGRES_NAME"}
}

// postgresFromEnv returns the PostgreSQL server the variables name; ok is false when none of
// them is set (PostgreSQL not requested), and an error says which are missing when only some
// are.
func postgresFromEnv(getenv func(string) string) (pg postgres, ok bool, err error) {
	var set, missing []string
	vars := postgresEnv()
	for _, k := range vars {
		if getenv(k) != "" {
			set = append(set, k)
		} else {
			missing = append(missing, k)
		}
	}
	switch {
	case len(set) == 0:
		return postgres{}, false, nil
	case len(missing) > 0:
		return postgres{}, false, fmt.Errorf("PostgreSQL requested by %s but %s not set: "+
			`eval "$(.ci/databases env)", or unset them to measure SQLite only`, strings.Join(set, ", "), strings.Join(missing, ", "))
	}
	return postgres{db: rollbench.Database{Host: getenv(vars[0]), Port: getenv(vars[1]), User: getenv(vars[2]),
		Password: getenv(vars[3])}, admin: getenv(vars[4])}, true, nil
}

// check finds psql and makes sure the server answers, within 20 seconds.
func (p *postgres) check(ctx context.Context) error {
	var err error
	if p.psql, err = exec.LookPath("psql"); err != nil {
		return errors.New("PostgreSQL requested by GINGEN_TEST_POSTGRES_* but psql is not installed: apt-get install postgresql-client")
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := p.db.SQL(cctx, p.psql, p.admin, "SELECT 1"); err != nil {
		return fmt.Errorf("PostgreSQL requested by GINGEN_TEST_POSTGRES_* at %s:%s is unreachable (start it with "+
			".ci/databases start postgres, or unset GINGEN_TEST_POSTGRES_* to measure SQLite only): %w", p.db.Host, p.db.Port, err)
	}
	return nil
}

// create makes a fresh, empty database name (dropping a leftover of that name), and returns
// the function that drops it again.
func (p *postgres) create(ctx context.Context, name string) (drop func(), err error) {
	if err := p.db.SQL(ctx, p.psql, p.admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return nil, err
	}
	if err := p.db.SQL(ctx, p.psql, p.admin, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	return func() {
		_ = p.db.SQL(context.Background(), p.psql, p.admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}, nil
}

// target is a running server under measurement.
type target struct {
	name   string
	base   string // http://127.0.0.1:PORT
	allocs string // URL of its allocation counter
	pid    func() int
	stop   func()
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s perfbench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, c config, args []string) error {
	pg, withPostgres, err := postgresFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	if withPostgres {
		if err := pg.check(ctx); err != nil {
			return err
		}
	}
	fx, work, done, err := restarttest.BenchWork(c.golden, "perfbench", c.keep)
	if err != nil {
		return err
	}
	defer done()
	progress("building the generated project and the baseline (-tags %s)", generator.BuildTags)
	genBin, baseBin, confFile, err := build(ctx, fx)
	if err != nil {
		return err
	}
	rep := perfbench.Report{
		Command:   "go -C e2e run ./cmd/perfbench " + shellquote.Join(args...),
		Machine:   machine(c.note),
		Databases: []string{perfbench.SQLite},
		Rounds:    c.rounds,
		Clients:   c.clients,
	}
	if withPostgres {
		rep.Databases = append(rep.Databases, perfbench.PostgreSQL)
		rep.Notes = append(rep.Notes, "PostgreSQL: golden/"+restarttest.PostgresGolden+" with golden/myblog-article's article "+
			"resource added as `gingen add resource` adds it; both servers on one local PostgreSQL server ("+
			"`.ci/databases`), each in a fresh database of its own, created for the run and dropped after it (equal row "+
			"counts: the same seed and the same creates in the same rounds); both pools at the generated conf/app.ini's "+
			"20 open and 10 idle connections. The list, get and create lines of both databases alternate in the same rounds.")
	} else {
		rep.Notes = append(rep.Notes, "PostgreSQL: not measured (no GINGEN_TEST_POSTGRES_* environment: run "+
			"`.ci/databases start postgres && eval \"$(.ci/databases env)\"` first).")
	}
	for _, p := range []struct {
		bin string
		n   *int64
	}{{genBin, &rep.BinaryGenerated}, {baseBin, &rep.BinaryBaseline}} {
		st, err := os.Stat(p.bin)
		if err != nil {
			return err
		}
		*p.n = st.Size()
	}

	progress("start-up to the first 200: %d tries each", c.startups)
	var upGen, upBase []time.Duration
	for i := range c.startups {
		d, err := startup(ctx, filepath.Join(work, fmt.Sprintf("up-gen-%d", i)), genBin, confFile, "MYBLOG", c.ports)
		if err != nil {
			return fmt.Errorf("start-up of the generated server: %w", err)
		}
		upGen = append(upGen, d)
		if d, err = startup(ctx, filepath.Join(work, fmt.Sprintf("up-base-%d", i)), baseBin, "", "BASE", c.ports); err != nil {
			return fmt.Errorf("start-up of the baseline: %w", err)
		}
		upBase = append(upBase, d)
	}
	rep.StartupGenerated, rep.StartupBaseline, rep.StartupTries = perfbench.Median(upGen), perfbench.Median(upBase), c.startups

	gen, admin, err := startGenerated(ctx, filepath.Join(work, "gen"), genBin, confFile, c.ports)
	if err != nil {
		return err
	}
	defer gen.stop()
	base, err := startBaseline(ctx, filepath.Join(work, "base"), baseBin, c.ports)
	if err != nil {
		return err
	}
	defer base.stop()
	rep.IdleGenerated, _ = rss(gen.pid(), "VmRSS")
	rep.IdleBaseline, _ = rss(base.pid(), "VmRSS")
	stacks := []*stack{{database: perfbench.SQLite, gen: gen, base: base, admin: admin, genBin: genBin}}

	if withPostgres {
		s, stop, err := startPostgres(ctx, fx, work, pg, c.ports)
		if err != nil {
			return err
		}
		defer stop()
		stacks = append(stacks, s)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.clients, MaxConnsPerHost: c.clients}, Timeout: 10 * time.Second}
	for _, s := range stacks {
		s.ids = map[string][]int{}
		s.samples = map[string]map[string][]perfbench.Sample{"generated": {}, "baseline": {}}
		for _, t := range []*target{s.gen, s.base} {
			if s.ids[t.name], err = seed(ctx, client, t.base, 30); err != nil {
				return fmt.Errorf("seed %s on %s: %w", t.name, s.database, err)
			}
		}
	}
	kinds := requestKinds(c.scale)
	for round := range c.rounds {
		for _, s := range stacks {
			for _, k := range kinds {
				order := []*target{s.gen, s.base}
				if (round+len(k.name))%2 == 1 {
					order = []*target{s.base, s.gen}
				}
				for _, t := range order {
					if err := ctx.Err(); err != nil {
						return fmt.Errorf("stopped in round %d: %w", round+1, err)
					}
					smp, err := batch(ctx, client, t, k, s.ids[t.name], c.clients)
					if err != nil {
						return fmt.Errorf("%s %s on %s: %w", t.name, k.name, s.database, err)
					}
					s.samples[t.name][k.name] = append(s.samples[t.name][k.name], smp)
				}
				progress("round %d/%d: %s on %s", round+1, c.rounds, k.name, s.database)
			}
		}
	}
	rep.LoadedGenerated, _ = rss(gen.pid(), "VmHWM")
	rep.LoadedBaseline, _ = rss(base.pid(), "VmHWM")
	type line struct {
		s *stack
		k kind
	}
	var lines []line
	for _, s := range stacks {
		for _, k := range kinds {
			limit := perfbench.HandlerLimit
			if k.name == "/healthz" {
				limit = perfbench.HealthzLimit
			}
			rep.Endpoints = append(rep.Endpoints, perfbench.Endpoint{Name: k.name, What: k.what, Database: s.database, Limit: limit,
				Generated: perfbench.Summarize(s.samples["generated"][k.name]), Baseline: perfbench.Summarize(s.samples["baseline"][k.name])})
			lines = append(lines, line{s, k})
		}
	}
	if c.profile > 0 {
		for i, e := range rep.Endpoints {
			if perfbench.Verdict(e.CPURatio(), e.Limit) != missed {
				continue
			}
			l := lines[i]
			progress("profiling the generated server on %s for %s", e.Label(), c.profile)
			p, err := profile(ctx, client, l.s.gen, l.s.admin, l.s.genBin, l.k, l.s.ids[l.s.gen.name], c)
			if err != nil {
				p = "profile not taken: " + err.Error()
			}
			rep.Endpoints[i].Profile = p
		}
	}

	if perfbench.Verdict(perfbench.Ratio(float64(rep.BinaryGenerated), float64(rep.BinaryBaseline)), perfbench.BinaryLimit) == missed {
		if rep.BinaryShares, err = binaryShares(ctx, genBin, baseBin); err != nil {
			return err
		}
	}
	if perfbench.Verdict(perfbench.Ratio(float64(rep.StartupGenerated), float64(rep.StartupBaseline)), perfbench.StartupLimit) == missed {
		if rep.InitShares, err = initShares(ctx, work, genBin, baseBin, confFile, c.ports); err != nil {
			return err
		}
	}

	if c.out == "-" {
		return rep.Write(os.Stdout)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf); err != nil {
		return err
	}
	if err := benchdoc.ReplaceSection(c.out, "cost-per-request", buf.Bytes()); err != nil {
		return err
	}
	progress("wrote section cost-per-request of %s", c.out)
	return nil
}

// build composes the fork project with golden/myblog-article's resources, copies the
// baseline into it and builds both with generator.BuildTags.
func build(ctx context.Context, fx *restarttest.Fixtures) (gen, base, conf string, err error) {
	bins, err := fx.Versions(ctx, restarttest.Fork, "v1")
	if err != nil {
		return "", "", "", err
	}
	dir, _ := fx.Project(restarttest.Fork)
	if base, err = buildBaseline(ctx, dir, filepath.Join(fx.Dir(), "perfbaseline"), perfbench.SQLite); err != nil {
		return "", "", "", err
	}
	return bins[0], base, filepath.Join(dir, "conf", "app.ini"), nil
}

// buildPostgres composes golden/myblog-postgres with golden/myblog-article's article (see
// restarttest.Fixtures.PostgresProject), copies the PostgreSQL baseline into it and builds
// both with generator.BuildTags.
func buildPostgres(ctx context.Context, fx *restarttest.Fixtures) (gen, base, conf string, err error) {
	dir, err := fx.PostgresProject()
	if err != nil {
		return "", "", "", err
	}
	if gen, err = fx.Binary(ctx, dir, "v1"); err != nil {
		return "", "", "", err
	}
	if base, err = buildBaseline(ctx, dir, filepath.Join(fx.Dir(), "perfbaseline-postgres"), perfbench.PostgreSQL); err != nil {
		return "", "", "", err
	}
	return gen, base, filepath.Join(dir, "conf", "app.ini"), nil
}

// buildBaseline copies the baseline's files for database into the project in dir, as
// cmd/perfbaseline, and builds it into out with the project's go.mod and generator.BuildTags.
func buildBaseline(ctx context.Context, dir, out, database string) (string, error) {
	files, err := perfbench.BaselineFiles(database)
	if err != nil {
		return "", err
	}
	bdir := filepath.Join(dir, "cmd", "perfbaseline")
	if err := os.RemoveAll(bdir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(bdir, 0o755); err != nil {
		return "", err
	}
	for _, f := range files {
		src, err := os.ReadFile(filepath.Join("e2e", "internal", "perfbench", perfbench.BaselineDir, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(bdir, f), src, 0o644); err != nil {
			return "", err
		}
	}
	cmd := restarttest.GoCmd(ctx, dir, "build", "-tags", generator.BuildTags, "-o", out, "./cmd/perfbaseline")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the %s baseline: %w\n%s", database, err, msg)
	}
	return out, nil
}

// startPostgres builds the PostgreSQL project and its baseline, gives each a fresh database
// and starts them. stop stops both servers and drops their databases.
func startPostgres(ctx context.Context, fx *restarttest.Fixtures, work string, pg postgres, ports restarttest.PortRange) (*stack, func(), error) {
	progress("building the PostgreSQL project and its baseline")
	genBin, baseBin, conf, err := buildPostgres(ctx, fx)
	if err != nil {
		return nil, nil, err
	}
	var undo []func()
	stop := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	names := make([]string, 2)
	for i, who := range []string{"gen", "base"} {
		names[i] = fmt.Sprintf("gingen_perfbench_%d_%s", os.Getpid(), who)
		drop, err := pg.create(ctx, names[i])
		if err != nil {
			stop()
			return nil, nil, err
		}
		undo = append(undo, drop)
	}
	gen, admin, err := startGenerated(ctx, filepath.Join(work, "gen-postgres"), genBin, conf, ports, pg.db.Env("MYBLOG", names[0])...)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("on PostgreSQL: %w", err)
	}
	undo = append(undo, gen.stop)
	base, err := startBaseline(ctx, filepath.Join(work, "base-postgres"), baseBin, ports, "BASE_DATABASE_DSN="+pg.db.DSN(names[1]))
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("on PostgreSQL: %w", err)
	}
	undo = append(undo, base.stop)
	return &stack{database: perfbench.PostgreSQL, gen: gen, base: base, admin: admin, genBin: genBin}, stop, nil
}

// launch starts bin in dir (a fresh folder) on a port of ports, its output in dir/server.log.
func launch(dir, bin, conf, prefix string, ports restarttest.PortRange, env ...string) (*exec.Cmd, string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		return nil, "", err
	}
	if conf != "" {
		b, err := os.ReadFile(conf)
		if err != nil {
			return nil, "", err
		}
		if err := os.WriteFile(filepath.Join(dir, "conf", "app.ini"), b, 0o644); err != nil {
			return nil, "", err
		}
	}
	port, err := ports.FreePort()
	if err != nil {
		return nil, "", err
	}
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), prefix+"_SERVER_HTTPPORT="+strconv.Itoa(port), prefix+"_APP_RUNMODE=release",
		prefix+"_APP_PIDFILE="+filepath.Join(dir, "server.pid"))
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, "", err
	}
	go func() { _ = cmd.Wait(); log.Close() }()
	return cmd, "http://127.0.0.1:" + strconv.Itoa(port), nil
}

func kill(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// startup is the time from exec to the first 200 on /healthz, polled every millisecond over
// fresh connections.
func startup(ctx context.Context, dir, bin, conf, prefix string, ports restarttest.PortRange) (time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	start := time.Now()
	cmd, base, err := launch(dir, bin, conf, prefix, ports)
	if err != nil {
		return 0, err
	}
	defer kill(cmd)
	for time.Since(start) < 30*time.Second {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if resp, err := client.Get(base + "/healthz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s: no 200 on /healthz within 30s (log: %s)", bin, filepath.Join(dir, "server.log"))
}

func waitUp(ctx context.Context, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if code, _, err := get(ctx, http.DefaultClient, base+"/healthz"); err == nil && code == http.StatusOK {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s: not up within 30s", base)
}

// startGenerated starts the generated server with its admin listener on, where /metrics and
// pprof are then.
func startGenerated(ctx context.Context, dir, bin, conf string, ports restarttest.PortRange, env ...string) (*target, string, error) {
	adminPort, err := ports.FreePort()
	if err != nil {
		return nil, "", err
	}
	admin := "127.0.0.1:" + strconv.Itoa(adminPort)
	cmd, base, err := launch(dir, bin, conf, "MYBLOG", ports, append([]string{"MYBLOG_ADMIN_ADDR=" + admin}, env...)...)
	if err != nil {
		return nil, "", err
	}
	if err := waitUp(ctx, base); err != nil {
		kill(cmd)
		return nil, "", fmt.Errorf("generated server: %w (log: %s)", err, filepath.Join(dir, "server.log"))
	}
	return &target{name: "generated", base: base, allocs: "http://" + admin + "/metrics",
		pid: func() int { return cmd.Process.Pid }, stop: func() { kill(cmd) }}, "http://" + admin, nil
}

func startBaseline(ctx context.Context, dir, bin string, ports restarttest.PortRange, env ...string) (*target, error) {
	cmd, base, err := launch(dir, bin, "", "BASE", ports, env...)
	if err != nil {
		return nil, err
	}
	if err := waitUp(ctx, base); err != nil {
		kill(cmd)
		return nil, fmt.Errorf("baseline: %w (log: %s)", err, filepath.Join(dir, "server.log"))
	}
	return &target{name: "baseline", base: base, allocs: base + "/debug/allocs",
		pid: func() int { return cmd.Process.Pid }, stop: func() { kill(cmd) }}, nil
}

func get(ctx context.Context, client *http.Client, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// seed creates n articles and returns their ids.
func seed(ctx context.Context, client *http.Client, base string, n int) ([]int, error) {
	var ids []int
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+restarttest.PostPath, strings.NewReader(restarttest.PostJSON))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != restarttest.PostStatus {
			return nil, fmt.Errorf("POST %s = %d %s", restarttest.PostPath, resp.StatusCode, b)
		}
		// {"id":N,...}: both servers answer the created item.
		i := bytes.Index(b, []byte(`"id":`))
		if i < 0 {
			return nil, fmt.Errorf("POST %s answered no id: %s", restarttest.PostPath, b)
		}
		rest := b[i+5:]
		end := bytes.IndexAny(rest, ",}")
		id, err := strconv.Atoi(string(rest[:max(end, 0)]))
		if err != nil {
			return nil, fmt.Errorf("POST %s answered id %q", restarttest.PostPath, rest)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// kind is one request kind of the benchmark.
type kind struct {
	name, what string
	n          int
	status     int
	request    func(ctx context.Context, base string, i int, ids []int) (*http.Request, error)
}

func requestKinds(scale float64) []kind {
	n := func(x int) int { return max(1, int(float64(x)*scale)) }
	getReq := func(path func(i int, ids []int) string) func(ctx context.Context, base string, i int, ids []int) (*http.Request, error) {
		return func(ctx context.Context, base string, i int, ids []int) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, base+path(i, ids), nil)
		}
	}
	return []kind{
		{"/healthz", "GET /healthz", n(8000), http.StatusOK, getReq(func(int, []int) string { return "/healthz" })},
		{"list", "GET /api/v1/articles?page_size=10", n(2000), http.StatusOK,
			getReq(func(int, []int) string { return "/api/v1/articles?page_size=10" })},
		{"get", "GET /api/v1/articles/:id", n(4000), http.StatusOK,
			getReq(func(i int, ids []int) string { return "/api/v1/articles/" + strconv.Itoa(ids[i%len(ids)]) })},
		{"create", "POST /api/v1/articles", n(1000), restarttest.PostStatus,
			func(ctx context.Context, base string, _ int, _ []int) (*http.Request, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+restarttest.PostPath, strings.NewReader(restarttest.PostJSON))
				if err == nil {
					req.Header.Set("Content-Type", "application/json")
				}
				return req, err
			}},
	}
}

func readAllocs(ctx context.Context, client *http.Client, url string) (uint64, error) {
	code, body, err := get(ctx, client, url)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET %s = %d", url, code)
	}
	return perfbench.ParseMallocs(body)
}

func cpu(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return perfbench.ParseProcStat(b)
}

func rss(pid int, key string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return perfbench.ParseStatusKB(b, key)
}

// batch sends k.n requests of kind k to t from clients goroutines and measures them.
func batch(ctx context.Context, client *http.Client, t *target, k kind, ids []int, clients int) (perfbench.Sample, error) {
	a0, err := readAllocs(ctx, client, t.allocs)
	if err != nil {
		return perfbench.Sample{}, err
	}
	c0, err := cpu(t.pid())
	if err != nil {
		return perfbench.Sample{}, err
	}
	start := time.Now()
	lat, failed := load(ctx, client, t.base, k, ids, clients, k.n)
	elapsed := time.Since(start)
	c1, err := cpu(t.pid())
	if err != nil {
		return perfbench.Sample{}, err
	}
	a1, err := readAllocs(ctx, client, t.allocs)
	if err != nil {
		return perfbench.Sample{}, err
	}
	// The counter's own read, measured right after: taken out of the batch's count.
	a2, err := readAllocs(ctx, client, t.allocs)
	if err != nil {
		return perfbench.Sample{}, err
	}
	own := a2 - a1
	allocs := uint64(0)
	if a1-a0 > own {
		allocs = a1 - a0 - own
	}
	if err := ctx.Err(); err != nil {
		return perfbench.Sample{}, err
	}
	return perfbench.Sample{Requests: k.n, Failed: failed, Elapsed: elapsed, CPU: c1 - c0, Allocs: allocs, Latencies: lat}, nil
}

// load sends n requests of kind k from clients goroutines; it returns their latencies and how
// many failed (an error or an unexpected status).
func load(ctx context.Context, client *http.Client, base string, k kind, ids []int, clients, n int) ([]time.Duration, int) {
	var next, failed atomic.Int64
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				req, err := k.request(ctx, base, i, ids)
				if err != nil {
					failed.Add(1)
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != k.status {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return lat, int(failed.Load())
}

// profile takes a CPU profile of the generated server from its admin listener while k's load
// runs, and returns pprof's -top -cum summary trimmed to the server's own and its libraries'
// functions.
func profile(ctx context.Context, client *http.Client, gen *target, admin, bin string, k kind, ids []int, c config) (string, error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for pctx.Err() == nil {
			load(pctx, client, gen.base, k, ids, c.clients, k.n)
		}
	}()
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", admin, max(1, int(c.profile.Seconds())))
	code, body, err := get(ctx, &http.Client{Timeout: c.profile + 30*time.Second}, url)
	cancel()
	<-done
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("GET %s = %d", url, code)
	}
	f, err := os.CreateTemp("", "perfbench-*.pprof")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(body); err != nil {
		f.Close()
		return "", err
	}
	f.Close()
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=80", bin, f.Name()).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go tool pprof: %w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("go tool pprof: %w", err)
	}
	return perfbench.TrimProfile(string(out), 25), nil
}

func machine(note string) string {
	m := fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m += ", load average " + f[0] + " at the start"
		}
	}
	if note != "" {
		m += " (" + note + ")"
	}
	return m
}

// binaryShares compares the two binaries' symbol sizes by package.
func binaryShares(ctx context.Context, gen, base string) ([]perfbench.Share, error) {
	sizes := make([]map[string]float64, 2)
	for i, bin := range []string{gen, base} {
		out, err := exec.CommandContext(ctx, "go", "tool", "nm", "-size", bin).Output()
		if err != nil {
			return nil, fmt.Errorf("go tool nm -size %s: %w", bin, err)
		}
		sizes[i] = perfbench.PackageSizes(string(out))
	}
	return perfbench.TopDifferences(sizes[0], sizes[1], 12), nil
}

// initShares starts each binary once with GODEBUG=inittrace=1 and compares their package
// initialization by package.
func initShares(ctx context.Context, work, gen, base, conf string, ports restarttest.PortRange) ([]perfbench.Share, error) {
	traces := make([]map[string]float64, 2)
	for i, p := range []struct{ bin, conf, prefix string }{{gen, conf, "MYBLOG"}, {base, "", "BASE"}} {
		dir := filepath.Join(work, fmt.Sprintf("inittrace-%d", i))
		cmd, url, err := launch(dir, p.bin, p.conf, p.prefix, ports, "GODEBUG=inittrace=1")
		if err != nil {
			return nil, err
		}
		err = waitUp(ctx, url)
		kill(cmd)
		if err != nil {
			return nil, fmt.Errorf("%s with GODEBUG=inittrace=1: %w", p.bin, err)
		}
		log, err := os.ReadFile(filepath.Join(dir, "server.log"))
		if err != nil {
			return nil, err
		}
		traces[i] = perfbench.ParseInitTrace(string(log))
	}
	return perfbench.TopDifferences(traces[0], traces[1], 10), nil
}
