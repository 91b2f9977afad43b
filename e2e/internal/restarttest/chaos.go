package restarttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gingen/gingen/e2e/internal/nspawn"
)

// The chaos suite's faults (issue 16), each run on a healthy unit under load, under a real
// systemd.
const (
	// FaultStorm: 12 `systemctl reload`s, 6 of them one after the other and 6 at once, plus raw
	// SIGHUPs to MainPID. No request may fail.
	FaultStorm = "reload storm"
	// FaultKillServing: kill -9 of the process that answers (fork: the process; supervisor,
	// systemd: the worker).
	FaultKillServing = "kill -9 serving process"
	// FaultKillMaster: kill -9 of the master (supervisor, systemd; the fork strategy has none).
	FaultKillMaster = "kill -9 master"
	// FaultKillNew: a slow request in flight on the serving generation, `systemctl reload`,
	// then kill -9 of the new generation while the old one drains.
	FaultKillNew = "kill -9 new generation mid-drain"
	// FaultCrash: a reload onto a build that crashes (exits 2) 2 s after it serves.
	FaultCrash = "build crashes 2 s after ready"
	// FaultLongReload: a request longer than ShutdownTimeout in flight during a reload. No
	// request of the load may fail; the long one is cut at ShutdownTimeout (reported).
	FaultLongReload = "request > ShutdownTimeout, reload"
	// FaultLongStop: the same during `systemctl stop` (no load: it is the stop's drain).
	FaultLongStop = "request > ShutdownTimeout, stop"
	// FaultStop: `systemctl stop` under load.
	FaultStop = "stop under load"
)

// AllFaults is every fault, in the order the suite runs them.
func AllFaults() []string {
	return []string{FaultStorm, FaultKillServing, FaultKillMaster, FaultKillNew, FaultCrash,
		FaultLongReload, FaultLongStop, FaultStop}
}

// ChaosLoad is the chaos suite's traffic: 36 clients, 27 on kept-alive connections and 9
// opening one per request, every 9th request of each a POST of PostJSON (the work of 32 GET
// and 4 POST clients).
func ChaosLoad() LoadConfig {
	return LoadConfig{
		KeepAlive: 27, Fresh: 9,
		PostPath: PostPath, PostBody: []byte(PostJSON), PostStatus: PostStatus, PostEvery: 9,
	}
}

// ChaosPlan is one strategy's chaos run. The units are installed once, with the generated
// README's commands; before each fault the unit is stopped, the good binary installed and the
// unit started again, so that every fault starts from a healthy unit.
type ChaosPlan struct {
	Strategy string
	// Project is the project's source folder (README.md, conf/, deploy/).
	Project         string
	Name, EnvPrefix string
	// Binary is the good build, answering /healthz with Version; Crashing the same project
	// built to exit 2 s after it serves (Fixtures.CrashAfterReady). Both static.
	Binary, Version, Crashing string
	// Port is a loopback port free on the host (the container shares its network).
	Port int
	// Load is the traffic of every fault; its BaseURL is filled in.
	Load LoadConfig
	// Slow is the POST kept in flight where a fault needs one (its Trickle is set per fault).
	Slow SlowConfig
	// ShutdownTimeout and ReadyTimeout are set with a drop-in; keep ShutdownTimeout short
	// (a few seconds): FaultLongReload and FaultLongStop wait for it.
	ShutdownTimeout, ReadyTimeout time.Duration
	// Faults to run (nil: all).
	Faults []string
	// Logf, when set, gets a line per fault as it ends.
	Logf func(format string, args ...any)
}

// ChaosResult is what one fault did.
type ChaosResult struct {
	Strategy, Fault string
	// NA says why the fault does not apply to the strategy; nothing else is set then.
	NA string
	// Sent and Failed count the load's requests during the fault (from 1 s before it to 1 s
	// after the unit settled).
	Sent, Failed int
	ByError      map[string]int
	// Recovery is the time from the first failed request to the end of the first request
	// that succeeded after the last failure (0: nothing failed). Recovered is false when no
	// request succeeded after the last failure.
	Recovery  time.Duration
	Recovered bool
	// SlowErr is the outcome of the request kept in flight ("" answered; "-" none was sent).
	SlowErr string
	// The unit afterwards.
	ActiveState, SubState, Result, StatusText string
	NRestarts                                 int
	// Serving: /healthz answered afterwards.
	Serving bool
	// Settled is how long the unit took, after the fault, to reach its final state.
	Settled time.Duration
	// Killed are the journal's lines saying that a process of the unit got SIGKILL from
	// systemd or from the master (a draining worker cut short); the test's own kill -9 is
	// not among them.
	Killed []string
	// Notes are facts worth reporting that break no rule; Problems the rules broken.
	Notes, Problems []string
	// Journal is the unit's journal during the fault, without the access log.
	Journal string
	Took    time.Duration
	// workers are the worker pids that served when the fault began, where the fault knows
	// them (kill -9 master): a SIGKILL from systemd after every one of them logged "drained"
	// reaches a process that is exiting, not a drain (see judgeKills).
	workers []int
}

func (r *ChaosResult) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func (r *ChaosResult) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// FinalState is "ActiveState/SubState (Result), NRestarts=N".
func (r *ChaosResult) FinalState() string {
	return fmt.Sprintf("%s/%s (%s), NRestarts=%d", r.ActiveState, r.SubState, r.Result, r.NRestarts)
}

// killedLine matches a journal line saying that a process of the unit was SIGKILLed by
// systemd (stop timeout, KillMode's final kill, main process gone) or by the master (a
// worker whose drain outlived ShutdownTimeout).
var killedLine = regexp.MustCompile(`Killing process \d+ .*SIGKILL|did not exit in time; killing it|worker survived SIGKILL`)

type chaos struct {
	c       *nspawn.Container
	plan    ChaosPlan
	rs      RealSystemdPlan
	unit    string
	inside  string
	probe   *Server
	control string // the units started and stopped together
}

// RunChaos runs plan in c; the error is for a harness failure, the rules broken are in each
// result's Problems. The units are removed at the end.
func RunChaos(ctx context.Context, c *nspawn.Container, plan ChaosPlan) ([]ChaosResult, error) {
	ch := &chaos{c: c, plan: plan, unit: plan.Name + ".service", inside: nspawn.StageDir + "/" + plan.Strategy}
	ch.rs = RealSystemdPlan{
		Strategy: plan.Strategy, Project: plan.Project, Name: plan.Name, EnvPrefix: plan.EnvPrefix,
		Binaries: []string{plan.Binary}, Versions: []string{plan.Version}, Port: plan.Port,
		ShutdownTimeout: plan.ShutdownTimeout, ReadyTimeout: plan.ReadyTimeout,
	}
	ch.control = ch.unit
	if plan.Strategy == Systemd {
		ch.control += " " + plan.Name + ".socket"
	}
	stage := filepath.Join(c.Stage, plan.Strategy)
	if err := stageProject(ch.rs, stage); err != nil {
		return nil, err
	}
	if err := copyFile(plan.Crashing, filepath.Join(stage, "bin", "crashing"), 0o755); err != nil {
		return nil, err
	}
	install, err := ReadmeInstall(filepath.Join(plan.Project, "README.md"))
	if err != nil {
		return nil, err
	}
	defer removeUnits(c, ch.rs)
	if _, err := c.Shell(ctx, ch.inside, dropIns(ch.rs)); err != nil {
		return nil, err
	}
	for _, line := range install {
		if _, err := c.Shell(ctx, ch.inside, line); err != nil {
			return nil, fmt.Errorf("README install step %q: %w", line, err)
		}
	}
	base := "http://127.0.0.1:" + strconv.Itoa(plan.Port)
	ch.probe = &Server{cfg: ServerConfig{Strategy: plan.Strategy}, BaseURL: base}
	ch.plan.Load.BaseURL = base
	ch.plan.Slow.Addr = "127.0.0.1:" + strconv.Itoa(plan.Port)

	faults := plan.Faults
	if faults == nil {
		faults = AllFaults()
	}
	var out []ChaosResult
	for _, fault := range faults {
		res := ChaosResult{Strategy: plan.Strategy, Fault: fault, SlowErr: "-", ByError: map[string]int{}}
		if fault == FaultKillMaster && plan.Strategy == Fork {
			res.NA = "no master: the serving process is the main process (see " + FaultKillServing + ")"
			out = append(out, res)
			continue
		}
		if err := ch.healthy(ctx); err != nil {
			return out, fmt.Errorf("%s, before %q: %w", plan.Strategy, fault, err)
		}
		cursor, err := ch.cursor(ctx)
		if err != nil {
			return out, err
		}
		start := time.Now()
		var results []Result
		switch fault {
		case FaultStorm:
			results = ch.storm(ctx, &res)
		case FaultKillServing:
			results = ch.killServing(ctx, &res)
		case FaultKillMaster:
			results = ch.killMaster(ctx, &res)
		case FaultKillNew:
			results = ch.killNew(ctx, &res)
		case FaultCrash:
			results = ch.crash(ctx, &res)
		case FaultLongReload:
			results = ch.longReload(ctx, &res)
		case FaultLongStop:
			ch.longStop(ctx, &res)
		case FaultStop:
			results = ch.stopUnderLoad(ctx, &res)
		default:
			return out, fmt.Errorf("unknown fault %q", fault)
		}
		res.Took = time.Since(start)
		count(&res, results)
		ch.state(ctx, &res)
		ch.judge(ctx, &res, cursor)
		if plan.Logf != nil {
			plan.Logf("%s / %s: %d/%d failed %v, recovery %s (recovered %t), in flight %q, %s, serving %t, settled after %s, took %s; notes %v",
				res.Strategy, res.Fault, res.Failed, res.Sent, res.ByError, res.Recovery.Round(time.Millisecond), res.Recovered,
				res.SlowErr, res.FinalState(), res.Serving, res.Settled.Round(time.Millisecond), res.Took.Round(time.Millisecond), res.Notes)
		}
		out = append(out, res)
	}
	return out, nil
}

// healthy stops the unit, installs the good binary, clears a failed state and starts the unit,
// then waits until the good version serves.
func (ch *chaos) healthy(ctx context.Context) error {
	n := ch.plan.Name
	script := "systemctl stop " + ch.control + "; install -m 0755 bin/" + ch.plan.Version + " /opt/" + n + "/" + n +
		" && systemctl reset-failed " + ch.control + "; systemctl start " + ch.control
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if out, err := ch.c.Shell(sctx, ch.inside, script); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	if _, err := ch.probe.WaitFor(ctx, 30*time.Second, func(h Health) bool { return h.Version == ch.plan.Version }); err != nil {
		return fmt.Errorf("unit not serving: %w", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if s, _ := unitString(ctx, ch.c, ch.unit, "ActiveState"); s == "active" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("unit not active")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (ch *chaos) cursor(ctx context.Context) (string, error) {
	cursor, err := ch.c.Output(ctx, "journalctl", "--show-cursor", "-n", "0", "--quiet")
	return strings.TrimPrefix(strings.TrimSpace(cursor), "-- cursor: "), err
}

// load starts the traffic and lets it run a second before the fault.
func (ch *chaos) load(ctx context.Context) *Load {
	l := StartLoad(ctx, ch.plan.Load)
	time.Sleep(time.Second)
	return l
}

// systemctl runs systemctl with args, bounded.
func (ch *chaos) systemctl(ctx context.Context, args ...string) error {
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	_, err := ch.c.Output(sctx, "systemctl", args...)
	return err
}

func (ch *chaos) kill9(ctx context.Context, pid int) error {
	if pid <= 1 {
		return fmt.Errorf("refusing to kill pid %d", pid)
	}
	_, err := ch.c.Output(ctx, "kill", "-9", strconv.Itoa(pid))
	return err
}

// good is the state a fault must end in: serving (the unit active and /healthz answering),
// or failed, so that Restart= and StartLimit act.
func (ch *chaos) good(ctx context.Context) (bool, string) {
	state, _ := unitString(ctx, ch.c, ch.unit, "ActiveState")
	if state == "failed" {
		return true, state
	}
	if state != "active" {
		return false, state
	}
	_, err := ch.probe.Health(ctx)
	return err == nil, state
}

// settle waits, up to timeout, until the unit has been in a good state for a second; it
// returns how long that took from since.
func (ch *chaos) settle(ctx context.Context, since time.Time, timeout time.Duration) time.Duration {
	deadline := time.Now().Add(timeout)
	var goodFrom time.Time
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ok, _ := ch.good(ctx)
		switch {
		case !ok:
			goodFrom = time.Time{}
		case goodFrom.IsZero():
			goodFrom = time.Now()
		case time.Since(goodFrom) >= time.Second:
			return goodFrom.Sub(since)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(since)
}

// storm: 6 reloads one after the other, then 6 at once with 3 raw SIGHUPs to MainPID.
func (ch *chaos) storm(ctx context.Context, res *ChaosResult) []Result {
	l := ch.load(ctx)
	var mu sync.Mutex
	errs := map[string]int{}
	reload := func() {
		if err := ch.systemctl(ctx, "reload", ch.unit); err != nil {
			mu.Lock()
			errs[lastLine(err.Error())]++
			mu.Unlock()
		}
	}
	for range 6 {
		reload()
		ch.waitNotReloading(ctx, 30*time.Second)
		time.Sleep(200 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() { defer wg.Done(); reload() }()
	}
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 150 * time.Millisecond)
			if pid, err := unitInt(ctx, ch.c, ch.unit, "MainPID"); err == nil && pid > 1 {
				_, _ = ch.c.Output(ctx, "kill", "-HUP", strconv.Itoa(pid))
			}
		}()
	}
	wg.Wait()
	since := time.Now()
	ch.waitNotReloading(ctx, 30*time.Second)
	res.Settled = ch.settle(ctx, since, 30*time.Second)
	time.Sleep(time.Second)
	for e, n := range errs {
		res.note("%d systemctl reload failed: %s", n, e)
	}
	return l.Stop()
}

// waitNotReloading waits until the unit is no longer reloading (supervisor, systemd:
// systemctl reload returns before the new worker serves).
func (ch *chaos) waitNotReloading(ctx context.Context, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s, _ := unitString(ctx, ch.c, ch.unit, "ActiveState"); s != "reloading" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killServing: kill -9 of the process that answers /healthz.
func (ch *chaos) killServing(ctx context.Context, res *ChaosResult) []Result {
	l := ch.load(ctx)
	h, err := ch.probe.Health(ctx)
	if err != nil {
		res.problem("before the kill: %v", err)
		return l.Stop()
	}
	since := time.Now()
	if err := ch.kill9(ctx, h.PID); err != nil {
		res.problem("kill -9 %d: %v", h.PID, err)
	}
	res.note("killed pid %d", h.PID)
	res.Settled = ch.settle(ctx, since, 20*time.Second)
	time.Sleep(time.Second)
	return l.Stop()
}

// killMaster: kill -9 of MainPID, the master.
func (ch *chaos) killMaster(ctx context.Context, res *ChaosResult) []Result {
	l := ch.load(ctx)
	main, err := unitInt(ctx, ch.c, ch.unit, "MainPID")
	if err != nil || main <= 1 {
		res.problem("MainPID %d: %v", main, err)
		return l.Stop()
	}
	if h, err := ch.probe.Health(ctx); err == nil {
		res.workers = []int{h.PID}
	}
	since := time.Now()
	if err := ch.kill9(ctx, main); err != nil {
		res.problem("kill -9 %d: %v", main, err)
	}
	res.note("killed master pid %d", main)
	// Let systemd notice before judging: the orphaned worker may still answer.
	time.Sleep(500 * time.Millisecond)
	res.Settled = ch.settle(ctx, since, 20*time.Second)
	time.Sleep(time.Second)
	return l.Stop()
}

// killNew: a 4 s request in flight, systemctl reload, kill -9 of the new generation once it
// serves, while the old one drains.
func (ch *chaos) killNew(ctx context.Context, res *ChaosResult) []Result {
	l := ch.load(ctx)
	before, err := ch.probe.Health(ctx)
	if err != nil {
		res.problem("before: %v", err)
		return l.Stop()
	}
	slowCfg := ch.plan.Slow
	slowCfg.Trickle = 4 * time.Second
	slow, err := StartSlow(ctx, slowCfg)
	if err != nil {
		res.SlowErr = "start: " + err.Error()
	}
	reloaded := make(chan error, 1)
	go func() { reloaded <- ch.systemctl(ctx, "reload", ch.unit) }()
	nw, err := ch.probe.poll(ctx, 20*time.Second, 5*time.Millisecond, func(h Health) bool { return h.PID != before.PID })
	since := time.Now()
	if err != nil {
		res.problem("the new generation never served: %v", err)
	} else if err := ch.kill9(ctx, nw.PID); err != nil {
		res.problem("kill -9 %d: %v", nw.PID, err)
	} else {
		res.note("old generation %d, killed the new one %d", before.PID, nw.PID)
	}
	if slow != nil {
		r := slow.Wait()
		res.SlowErr = r.Err
	}
	select {
	case err := <-reloaded:
		if err != nil {
			res.note("systemctl reload: %s", lastLine(err.Error()))
		} else {
			res.note("systemctl reload succeeded")
		}
	case <-time.After(20 * time.Second):
		res.note("systemctl reload still running 20 s after the kill")
	}
	res.Settled = ch.settle(ctx, since, 20*time.Second)
	time.Sleep(time.Second)
	return l.Stop()
}

// crash: install the build that crashes 2 s after it serves, reload onto it. systemd must
// learn of the crashes: the unit restarts (NRestarts grows) or fails; a unit that stays
// active while its workers crash hides the fault.
func (ch *chaos) crash(ctx context.Context, res *ChaosResult) []Result {
	l := ch.load(ctx)
	n := ch.plan.Name
	if _, err := ch.c.Shell(ctx, ch.inside, "install -m 0755 bin/crashing /opt/"+n+"/"+n); err != nil {
		res.problem("install: %v", err)
		return l.Stop()
	}
	base, _ := unitInt(ctx, ch.c, ch.unit, "NRestarts")
	since := time.Now()
	if err := ch.systemctl(ctx, "reload", ch.unit); err != nil {
		res.note("systemctl reload: %s", lastLine(err.Error()))
	}
	deadline := time.Now().Add(30 * time.Second)
	seen := false
	for time.Now().Before(deadline) && !seen {
		state, _ := unitString(ctx, ch.c, ch.unit, "ActiveState")
		nr, _ := unitInt(ctx, ch.c, ch.unit, "NRestarts")
		if state == "failed" || nr > base {
			seen = true
			res.Settled = time.Since(since)
			res.note("systemd saw the crash after %s: %s, NRestarts %d", res.Settled.Round(time.Millisecond), state, nr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !seen {
		res.Settled = time.Since(since)
		st, _ := unitString(ctx, ch.c, ch.unit, "StatusText")
		res.problem("the build crashes every ~2 s, but for %s the unit neither restarted nor failed (STATUS=%q)",
			res.Settled.Round(time.Second), st)
	}
	time.Sleep(time.Second)
	return l.Stop()
}

// longReload: a request longer than ShutdownTimeout in flight during a reload. The load must
// lose nothing; the long request is cut once the old generation's drain times out.
func (ch *chaos) longReload(ctx context.Context, res *ChaosResult) []Result {
	l := ch.load(ctx)
	before, _ := ch.probe.Health(ctx)
	slowCfg := ch.plan.Slow
	slowCfg.Trickle = ch.plan.ShutdownTimeout + 3*time.Second
	slow, err := StartSlow(ctx, slowCfg)
	if err != nil {
		res.SlowErr = "start: " + err.Error()
	}
	since := time.Now()
	if err := ch.systemctl(ctx, "reload", ch.unit); err != nil {
		res.problem("systemctl reload: %s", lastLine(err.Error()))
	}
	if _, err := ch.probe.poll(ctx, 20*time.Second, 10*time.Millisecond, func(h Health) bool { return h.PID != before.PID }); err != nil {
		res.problem("the new generation never served: %v", err)
	}
	if slow != nil {
		res.SlowErr = slow.Wait().Err
	}
	ch.waitNotReloading(ctx, 30*time.Second)
	res.Settled = ch.settle(ctx, since, 20*time.Second)
	time.Sleep(time.Second)
	return l.Stop()
}

// longStop: a request longer than ShutdownTimeout in flight during `systemctl stop`, without
// load. The stop must end within ShutdownTimeout and a margin, by the service's own drain
// timeout, not by systemd's SIGKILL.
func (ch *chaos) longStop(ctx context.Context, res *ChaosResult) {
	slowCfg := ch.plan.Slow
	slowCfg.Trickle = ch.plan.ShutdownTimeout + 3*time.Second
	slow, err := StartSlow(ctx, slowCfg)
	if err != nil {
		res.SlowErr = "start: " + err.Error()
	}
	since := time.Now()
	if err := ch.systemctl(ctx, append([]string{"stop"}, strings.Fields(ch.control)...)...); err != nil {
		res.problem("systemctl stop: %s", lastLine(err.Error()))
	}
	res.Settled = time.Since(since)
	if limit := ch.plan.ShutdownTimeout + 10*time.Second; res.Settled > limit {
		res.problem("systemctl stop took %s, more than ShutdownTimeout + 10s", res.Settled.Round(time.Millisecond))
	}
	if slow != nil {
		res.SlowErr = slow.Wait().Err
	}
}

// stopUnderLoad: `systemctl stop` (and the socket, as the README says) under load.
func (ch *chaos) stopUnderLoad(ctx context.Context, res *ChaosResult) []Result {
	l := ch.load(ctx)
	since := time.Now()
	if err := ch.systemctl(ctx, append([]string{"stop"}, strings.Fields(ch.control)...)...); err != nil {
		res.problem("systemctl stop: %s", lastLine(err.Error()))
	}
	res.Settled = time.Since(since)
	time.Sleep(time.Second)
	results := l.Stop()
	// The requests that failed while the service drained, not those refused once it was gone.
	var cut int
	for _, r := range results {
		if r.Err != "" && r.Err != "refused" && r.Start.Before(since.Add(res.Settled)) {
			cut++
		}
	}
	if cut > 0 {
		res.note("%d requests failed other than refused before the stop returned", cut)
	}
	return results
}

// count fills in the load's figures.
func count(res *ChaosResult, results []Result) {
	var first, last *Result
	for i := range results {
		r := &results[i]
		res.Sent++
		if r.Err == "" {
			continue
		}
		res.Failed++
		res.ByError[r.Err]++
		if first == nil {
			first = r
		}
		if last == nil || r.Start.After(last.Start) {
			last = r
		}
	}
	if first == nil {
		res.Recovered = len(results) > 0
		return
	}
	if res.Fault == FaultCrash {
		// Every start of the build crashes: a success after the last failure is a restart's
		// two seconds of service, not a recovery.
		res.Recovery = last.End().Sub(first.Start)
		return
	}
	for _, r := range results {
		if r.Err == "" && r.Start.After(last.Start) {
			res.Recovery, res.Recovered = r.End().Sub(first.Start), true
			return
		}
	}
	res.Recovery = last.End().Sub(first.Start)
}

// state reads the unit's state and whether anything serves.
func (ch *chaos) state(ctx context.Context, res *ChaosResult) {
	res.ActiveState, _ = unitString(ctx, ch.c, ch.unit, "ActiveState")
	res.SubState, _ = unitString(ctx, ch.c, ch.unit, "SubState")
	res.Result, _ = unitString(ctx, ch.c, ch.unit, "Result")
	res.StatusText, _ = unitString(ctx, ch.c, ch.unit, "StatusText")
	res.NRestarts, _ = unitInt(ctx, ch.c, ch.unit, "NRestarts")
	_, err := ch.probe.Health(ctx)
	res.Serving = err == nil
}

// judge applies the rules: reloads lose no request; after a fault the unit serves or has
// failed (never inactive with nothing serving); no process of the unit is SIGKILLed.
func (ch *chaos) judge(ctx context.Context, res *ChaosResult, cursor string) {
	switch res.Fault {
	case FaultStorm, FaultLongReload:
		if res.Failed > 0 {
			res.problem("%d of %d requests failed: %v", res.Failed, res.Sent, res.ByError)
		}
	}
	switch res.Fault {
	case FaultLongStop, FaultStop:
		if res.ActiveState != "inactive" && res.ActiveState != "failed" {
			res.problem("after the stop the unit is %s", res.FinalState())
		}
	case FaultCrash:
		// Judged as it ran: the crash loop must reach systemd.
	default:
		serving := res.Serving && res.ActiveState == "active"
		if !serving && res.ActiveState != "failed" {
			res.problem("afterwards the unit is %s and %s; want serving or failed", res.FinalState(), servingWord(res.Serving))
		}
	}
	res.Journal = journal(ctx, ch.c, cursor, ch.unit)
	judgeKills(res)
	if len(res.Killed) > 0 {
		res.problem("SIGKILL of a process of the unit (%d journal lines), first: %s", len(res.Killed), res.Killed[0])
	}
}

// drainLine matches a worker's "draining" or "drained" log line; group 1 is the message and
// group 2 the worker's pid.
var drainLine = regexp.MustCompile(`"msg":"(draining|drained)","role":"worker","pid":(\d+)`)

// judgeKills fills res.Killed from the journal. One SIGKILL is forgiven, as a note: systemd's
// final kill of the control group after the master died (kill -9 master), when every worker
// that served at the fault had already logged "drained" and no worker was still draining.
// The process it reaches is exiting (closing its database, its threads going away): the
// kernel may still list it, or one of its threads, for a few milliseconds. In the other runs
// systemd acts first, sends SIGTERM while the worker drains and waits for it, as it must.
func judgeKills(res *ChaosResult) {
	draining := map[string]bool{}
	drained := map[string]bool{}
	for _, line := range strings.Split(res.Journal, "\n") {
		if m := drainLine.FindStringSubmatch(line); m != nil {
			if m[1] == "draining" {
				draining[m[2]] = true
			} else {
				delete(draining, m[2])
				drained[m[2]] = true
			}
			continue
		}
		if !killedLine.MatchString(line) {
			continue
		}
		exiting := strings.Contains(line, "Killing process") && len(res.workers) > 0 && len(draining) == 0
		for _, pid := range res.workers {
			exiting = exiting && drained[strconv.Itoa(pid)]
		}
		if exiting {
			res.note("systemd SIGKILLed an exiting process after the master died, once the worker had drained: %s", line)
			continue
		}
		res.Killed = append(res.Killed, line)
	}
}

func servingWord(serving bool) string {
	if serving {
		return "/healthz answers"
	}
	return "nothing serves"
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// CrashAfterReady builds the strategy's project (Project) patched so that every serving
// generation exits with status 2 two seconds after its Build returned, i.e. once it serves:
// a build that crashes after it reported ready. The product is not changed: the patch wraps
// the build function given to restart.Run in a copy of the project, in a test fixture.
func (f *Fixtures) CrashAfterReady(ctx context.Context, strategy string) (string, error) {
	src, err := f.Project(strategy)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(f.dir, "myblog-"+strategy+"-crash")
	f.mu.Lock()
	_, statErr := os.Stat(filepath.Join(dir, "chaos_crash.go"))
	f.mu.Unlock()
	if statErr != nil {
		if err := copyTree(src, dir); err != nil {
			return "", err
		}
		mainGo := filepath.Join(dir, "main.go")
		b, err := os.ReadFile(mainGo)
		if err != nil {
			return "", err
		}
		call := regexp.MustCompile(`restart\.Run\(ctx, (restart\.\w+), opts, build\)`)
		if !call.Match(b) {
			return "", fmt.Errorf("%s: no restart.Run(ctx, restart.<Strategy>, opts, build) call to patch", mainGo)
		}
		b = call.ReplaceAll(b, []byte(`restart.Run(ctx, $1, opts, crashAfterReady(build))`))
		if err := os.WriteFile(mainGo, b, 0o644); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, "chaos_crash.go"), []byte(crashAfterReadyGo), 0o644); err != nil {
			return "", err
		}
	}
	return f.Binary(ctx, dir, "crash")
}

// crashAfterReadyGo is the file CrashAfterReady adds to the project.
const crashAfterReadyGo = `package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/gingen/gingen/restart"
)

// crashAfterReady is the chaos suite's fault: the generation crashes 2 s after it serves.
func crashAfterReady(build restart.Build) restart.Build {
	return func(ctx context.Context) (handler http.Handler, cleanup func() error, err error) {
		handler, cleanup, err = build(ctx)
		if err == nil {
			time.AfterFunc(2*time.Second, func() {
				fmt.Fprintf(os.Stderr, "chaos: pid %d crashes 2 s after it became ready\n", os.Getpid())
				os.Exit(2)
			})
		}
		return handler, cleanup, err
	}
}
`

// ChaosShutdownTimeout is the suite's [server] ShutdownTimeout: longer than the 4 s request
// FaultKillNew keeps in flight on the draining generation, short enough that the faults with
// a request longer than it take seconds.
const ChaosShutdownTimeout = 5 * time.Second
