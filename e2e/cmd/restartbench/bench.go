package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// bench runs the measurements.
type bench struct {
	cfg  config
	fx   *restarttest.Fixtures
	work string
	runs int // servers started so far, to name their folders
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s restartbench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// start starts v1 of the strategy's project in a folder of its own, its output in server.log
// (Config().Log).
func (b *bench) start(ctx context.Context, strategy string) (*restarttest.Server, func(), error) {
	b.runs++
	dir := filepath.Join(b.work, fmt.Sprintf("run%d-%s", b.runs, strategy))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, nil, err
	}
	srv, err := b.fx.Start(ctx, strategy, "v1", restarttest.ServerConfig{
		WorkDir:         dir,
		ShutdownTimeout: b.cfg.shutdownTimeout,
		ReadyTimeout:    b.cfg.readyTimeout,
		Log:             log,
		Ports:           b.cfg.ports,
	})
	if err != nil {
		log.Close()
		return nil, nil, fmt.Errorf("%w (log: %s)", err, log.Name())
	}
	return srv, func() { shutdown(srv); log.Close() }, nil
}

// shutdown stops the server gracefully if it can, and kills what is left.
func shutdown(srv *restarttest.Server) {
	if pid, err := srv.MainPID(); err == nil {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		_ = restarttest.WaitGone(pid, srv.Config().ShutdownTimeout+5*time.Second)
	}
	srv.Kill()
}

// loadTimeout bounds every request of the load.
const loadTimeout = 10 * time.Second

func (b *bench) load() restarttest.LoadConfig {
	cfg := restarttest.LoadConfig{KeepAlive: b.cfg.keepAlive, Fresh: b.cfg.fresh, Timeout: loadTimeout}
	if b.cfg.postEvery > 0 {
		cfg.PostPath, cfg.PostBody, cfg.PostStatus = restarttest.PostPath, []byte(restarttest.PostJSON), restarttest.PostStatus
		cfg.PostEvery = b.cfg.postEvery
	}
	return cfg
}

// restarts runs plan against a fresh server of the strategy and counts the "database is
// locked" errors its log holds.
func (b *bench) restarts(ctx context.Context, strategy string, plan restarttest.Plan) (restarttest.Figures, locked, error) {
	srv, stop, err := b.start(ctx, strategy)
	if err != nil {
		return restarttest.Figures{}, locked{}, err
	}
	defer stop()
	plan.Steady = b.cfg.steady
	plan.Load = b.load()
	plan.SlowCount = b.cfg.slow
	plan.Slow = restarttest.SlowConfig{
		Path:    restarttest.PostPath,
		Body:    []byte(restarttest.PostJSON),
		Status:  restarttest.PostStatus,
		Trickle: b.cfg.trickle,
	}
	run, err := restarttest.RunRestarts(ctx, srv, srv.Config().Binary, plan)
	if err != nil {
		return restarttest.Figures{}, locked{}, err
	}
	return run.Figures(), databaseLocked(srv, run.Windows()), nil
}

// locked counts the requests a server logged as failed on SQLite's "database is locked"
// (busy_timeout ran out), in all and inside restart windows.
type locked struct {
	All, InRestart int
}

func databaseLocked(srv *restarttest.Server, windows []restarttest.Window) locked {
	var n locked
	f, ok := srv.Config().Log.(*os.File)
	if !ok {
		return n
	}
	log, err := os.ReadFile(f.Name())
	if err != nil {
		return n
	}
	for _, line := range strings.Split(string(log), "\n") {
		var entry struct {
			Time  time.Time `json:"time"`
			Error string    `json:"error"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil || !strings.Contains(entry.Error, "database is locked") {
			continue
		}
		n.All++
		if restarttest.InAny(entry.Time, windows) {
			n.InRestart++
		}
	}
	return n
}

// killFigures are the outcome of SIGKILLing the supervisor's worker under load.
type killFigures struct {
	Kills                         int
	Sent, Failed                  int
	ByError                       map[string]int
	LateFailed                    int // failed requests started more than a second after a kill
	RecoveredMedian, RecoveredMax time.Duration
}

// killWorkers SIGKILLs the supervisor's worker cfg.kills times under load, each followed by
// the steady time.
func (b *bench) killWorkers(ctx context.Context) (killFigures, error) {
	srv, stop, err := b.start(ctx, restarttest.Supervisor)
	if err != nil {
		return killFigures{}, err
	}
	defer stop()
	cfg := b.load()
	cfg.BaseURL = srv.BaseURL
	load := restarttest.StartLoad(ctx, cfg)
	var kills []restarttest.KillRecord
	var recovered []time.Duration
	time.Sleep(b.cfg.steady)
	for i := range b.cfg.kills {
		if i > 0 {
			time.Sleep(b.cfg.killEvery)
		}
		k, err := restarttest.KillWorker(ctx, srv)
		if err != nil {
			load.Stop()
			return killFigures{}, err
		}
		kills = append(kills, k)
		recovered = append(recovered, k.Recovered)
	}
	time.Sleep(b.cfg.steady)
	results := load.Stop()
	sum := restarttest.Summarize(results)
	f := killFigures{Kills: len(kills), Sent: sum.Sent, Failed: sum.Failed, ByError: sum.ByError}
	// A request may fail if it was in flight on the killed worker (started at most a request
	// timeout before the kill) or was sent within the second after it.
	var excused []restarttest.Window
	for _, k := range kills {
		excused = append(excused, restarttest.Window{From: k.Killed.Add(-loadTimeout), To: k.Killed.Add(time.Second)})
	}
	for _, r := range results {
		if r.Err != "" && !restarttest.InAny(r.Start, excused) {
			f.LateFailed++
		}
	}
	f.RecoveredMedian, f.RecoveredMax = medianMax(recovered)
	return f, nil
}

// throughputFigures compare the generated server with bare gin on GET /healthz.
type throughputFigures struct {
	Clients         int
	Generated, Bare serverThroughput
}

// serverThroughput is one server's throughput rounds.
type serverThroughput struct {
	Rounds []restarttest.ThroughputResult
	RSS    int64
}

// Median is the median of the rounds' requests per second: the machine is shared, and a
// round slowed down by another process should not move the figure.
func (s serverThroughput) Median() float64 {
	if len(s.Rounds) == 0 {
		return 0
	}
	var rates []float64
	for _, r := range s.Rounds {
		rates = append(rates, r.PerSecond)
	}
	slices.Sort(rates)
	return rates[len(rates)/2]
}

// CPUPerRequest is the server's CPU time per request over every round.
func (s serverThroughput) CPUPerRequest() time.Duration {
	var cpu time.Duration
	n := 0
	for _, r := range s.Rounds {
		ok := r.Sent - r.Failed
		cpu += r.CPUPerRequest * time.Duration(ok)
		n += ok
	}
	return cpu / time.Duration(max(n, 1))
}

// Failed counts the failed requests of every round.
func (s serverThroughput) Failed() int {
	n := 0
	for _, r := range s.Rounds {
		n += r.Failed
	}
	return n
}

// compareThroughput measures the generated fork server and the bare gin server in
// interleaved rounds, so that both see the same machine.
func (b *bench) compareThroughput(ctx context.Context) (throughputFigures, error) {
	bare, err := b.fx.BareGin(ctx, b.cfg.bareGin)
	if err != nil {
		return throughputFigures{}, err
	}
	gen, stopGen, err := b.start(ctx, restarttest.Fork)
	if err != nil {
		return throughputFigures{}, err
	}
	defer stopGen()
	bareDir := filepath.Join(b.work, "baregin")
	if err := os.MkdirAll(bareDir, 0o755); err != nil {
		return throughputFigures{}, err
	}
	bs, err := restarttest.StartBareGin(ctx, bare, bareDir, b.cfg.ports)
	if err != nil {
		return throughputFigures{}, err
	}
	defer bs.Kill()

	clients := b.cfg.keepAlive + b.cfg.fresh
	f := throughputFigures{Clients: clients}
	genMem, bareMem := restarttest.SampleMemory(gen), restarttest.SampleMemory(bs)
	for range b.cfg.rounds {
		f.Generated.Rounds = append(f.Generated.Rounds, restarttest.Throughput(ctx, gen, clients, b.cfg.throughput))
		f.Bare.Rounds = append(f.Bare.Rounds, restarttest.Throughput(ctx, bs, clients, b.cfg.throughput))
	}
	f.Generated.RSS, f.Bare.RSS = genMem.Stop().PeakProcess, bareMem.Stop().PeakProcess
	return f, nil
}

func medianMax(ds []time.Duration) (time.Duration, time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2], s[len(s)-1]
}

// machine describes where the benchmark ran.
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d cores (runtime.NumCPU), Linux %s, %s %s/%s", model, runtime.NumCPU(), kernel,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
