package restarttest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gingen/gingen/e2e/internal/nspawn"
)

// RealSystemdPlan is a strategy's run under a real systemd: install the project's units as its
// README says, then, under load and with a slow request in flight across each event,
// `systemctl reload` once per binary in Binaries[1:], `systemctl restart`, `systemctl stop`.
type RealSystemdPlan struct {
	Strategy string
	// Project is the project's source folder: README.md, conf/, deploy/.
	Project string
	// Name is the project's name (the unit's and the user's), EnvPrefix its settings prefix.
	Name, EnvPrefix string
	// Binaries[0] is installed first; each later one is installed before a reload. They
	// answer /healthz with Versions[i] and must run in the container (static: GoEnv turns cgo off).
	Binaries, Versions []string
	// Failing, when set, is a binary that exits at start: after the reloads it is installed
	// and reloaded onto, which must leave the running version serving, the unit active and
	// no request failed; then the last good binary is installed back.
	Failing string
	// Port is the loopback port the service is moved to (a drop-in), free on the host: the
	// container shares the host's network.
	Port int
	// Load is the traffic during the reloads and the restart; its BaseURL is filled in.
	Load LoadConfig
	// Slow is the request kept in flight across every reload, the restart and the stop.
	Slow SlowConfig
	// ShutdownTimeout and ReadyTimeout are set with a drop-in.
	ShutdownTimeout, ReadyTimeout time.Duration
}

// RealSystemdEvent is what one systemctl command did.
type RealSystemdEvent struct {
	Action  string // reload, restart, stop
	Version string // served afterwards ("" after stop)
	// Took is how long systemctl took; Serving how long until the new version answered.
	Took, Serving time.Duration
	// From and To delimit the event: from the command until the new version served, the old
	// process exited and the unit settled.
	From, To time.Time
	// Failed and Sent count the load's requests started during the event (from the command
	// until the new version served and the old process exited).
	Failed, Sent int
	ByError      map[string]int
	SlowErr      string // "" when the request in flight was answered
	// ActiveState/SubState/Result of the unit afterwards; MainPID and who serves.
	ActiveState, SubState, Result    string
	MainPID, ServingPID, ServingPPID int
}

// RealSystemdRun is the record of a RealSystemdPlan.
type RealSystemdRun struct {
	Strategy string
	Events   []RealSystemdEvent
	Results  []Result
	// Journal is the unit's journal during the run; Problems the rules broken.
	Journal  string
	Problems []string
}

func (r *RealSystemdRun) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// journalForbidden are systemd's messages that say it lost track of the service or killed it.
var journalForbidden = regexp.MustCompile(`not our child|SIGKILL|reception only permitted|remains running after unit stopped|Failed with result|Main process exited, code=killed`)

// RunRealSystemd runs plan in c. The error is for a harness failure; rules broken are in
// RealSystemdRun.Problems. The units are removed at the end.
func RunRealSystemd(ctx context.Context, c *nspawn.Container, plan RealSystemdPlan) (*RealSystemdRun, error) {
	run := &RealSystemdRun{Strategy: plan.Strategy}
	stage := filepath.Join(c.Stage, plan.Strategy)
	inside := nspawn.StageDir + "/" + plan.Strategy
	if err := stageProject(plan, stage); err != nil {
		return nil, err
	}
	install, err := ReadmeInstall(filepath.Join(plan.Project, "README.md"))
	if err != nil {
		return nil, err
	}
	unit := plan.Name + ".service"
	defer removeUnits(c, plan)

	cursor, err := c.Output(ctx, "journalctl", "--show-cursor", "-n", "0", "--quiet")
	if err != nil {
		return nil, err
	}
	cursor = strings.TrimPrefix(strings.TrimSpace(cursor), "-- cursor: ")

	// A drop-in moves the service to plan.Port on loopback and sets the timeouts, before the
	// README's commands start it.
	if _, err := c.Shell(ctx, inside, dropIns(plan)); err != nil {
		return nil, err
	}
	for _, line := range install {
		if _, err := c.Shell(ctx, inside, line); err != nil {
			return nil, fmt.Errorf("README install step %q: %w", line, err)
		}
	}
	base := "http://127.0.0.1:" + strconv.Itoa(plan.Port)
	probe := &Server{cfg: ServerConfig{Strategy: plan.Strategy}, BaseURL: base}
	if _, err := probe.WaitFor(ctx, 30*time.Second, func(h Health) bool { return h.Version == plan.Versions[0] }); err != nil {
		return nil, fmt.Errorf("after the README's install: %w\n%s", err, journal(ctx, c, cursor, unit))
	}
	prevMain, _ := unitInt(ctx, c, unit, "MainPID")

	plan.Load.BaseURL = base
	plan.Slow.Addr = "127.0.0.1:" + strconv.Itoa(plan.Port)
	load := StartLoad(ctx, plan.Load)
	time.Sleep(time.Second)
	var marks []time.Time // start and end of every event, for counting the load's failures
	for i := 1; i < len(plan.Binaries); i++ {
		if _, err := c.Shell(ctx, inside, "install -m 0755 bin/"+plan.Versions[i]+" /opt/"+plan.Name+"/"+plan.Name); err != nil {
			run.Results = load.Stop()
			return run, err
		}
		ev, from, to := event(ctx, c, plan, probe, "reload", plan.Versions[i], i-1)
		marks = append(marks, from, to)
		run.Events = append(run.Events, ev)
		// Who the unit names: fork - the serving process; supervisor, systemd - the master,
		// which never changes, and whose child serves.
		switch plan.Strategy {
		case Fork:
			if ev.MainPID != ev.ServingPID {
				run.problem("reload %d: MainPID %d, but %d serves", i, ev.MainPID, ev.ServingPID)
			}
		default:
			if ev.MainPID != prevMain || ev.ServingPPID != ev.MainPID {
				run.problem("reload %d: MainPID %d (was %d), the serving process %d is a child of %d",
					i, ev.MainPID, prevMain, ev.ServingPID, ev.ServingPPID)
			}
		}
		time.Sleep(time.Second)
	}
	last := plan.Versions[len(plan.Versions)-1]
	if plan.Failing != "" {
		ev, from, to := failedReload(ctx, c, plan, probe, inside)
		marks = append(marks, from, to)
		run.Events = append(run.Events, ev)
		if _, err := c.Shell(ctx, inside, "install -m 0755 bin/"+last+" /opt/"+plan.Name+"/"+plan.Name); err != nil {
			run.Results = load.Stop()
			return run, err
		}
		time.Sleep(time.Second)
	}
	ev, from, to := event(ctx, c, plan, probe, "restart", last, -1)
	marks = append(marks, from, to)
	run.Events = append(run.Events, ev)
	time.Sleep(time.Second)
	run.Results = load.Stop()

	// The stop, with nothing but the request in flight (the load would socket-activate a
	// stopped systemd service again).
	ev, _, _ = event(ctx, c, plan, probe, "stop", "", -1)
	run.Events = append(run.Events, ev)

	for i := range run.Events {
		e := &run.Events[i]
		if e.Action != "stop" {
			countFailures(e, run.Results, marks[2*i], marks[2*i+1])
		}
		switch {
		case e.SlowErr != "":
			run.problem("%s: the request in flight failed: %s", e.Action, e.SlowErr)
		case (e.Action == "reload" || e.Action == "failed reload") && e.Failed > 0:
			run.problem("%s onto %s: %d of %d requests failed: %v", e.Action, e.Version, e.Failed, e.Sent, e.ByError)
		case e.Action != "stop" && (e.ActiveState != "active" || e.SubState != "running"):
			run.problem("%s: unit %s/%s afterwards, want active/running", e.Action, e.ActiveState, e.SubState)
		case e.Action == "stop" && (e.ActiveState != "inactive" || e.Result != "success"):
			run.problem("stop: unit %s (result %s) afterwards, want inactive (success)", e.ActiveState, e.Result)
		}
	}
	run.Journal = journal(ctx, c, cursor, unit)
	for _, line := range strings.Split(run.Journal, "\n") {
		if journalForbidden.MatchString(line) {
			run.problem("journal: %s", line)
		}
	}
	return run, nil
}

// event runs one systemctl action with a slow request in flight and waits until it is over.
// version is what must serve afterwards; reload is the index of the reload (-1 otherwise).
func event(ctx context.Context, c *nspawn.Container, plan RealSystemdPlan, probe *Server, action, version string,
	reload int) (RealSystemdEvent, time.Time, time.Time) {
	ev := RealSystemdEvent{Action: action, Version: version}
	unit := plan.Name + ".service"
	before, _ := probe.Health(ctx)
	slow, err := StartSlow(ctx, plan.Slow)
	if err != nil {
		ev.SlowErr = "start: " + err.Error()
	}
	args := []string{action, unit}
	if action == "stop" && plan.Strategy == Systemd {
		// As the README says: stopping the service alone leaves the socket listening.
		args = append(args, plan.Name+".socket")
	}
	from := time.Now()
	_, sysErr := c.Output(ctx, "systemctl", args...)
	ev.Took = time.Since(from)
	if sysErr != nil {
		// The unit's command failed (e.g. ExecReload=): nothing will change, report it.
		ev.SlowErr = strings.TrimSpace(ev.SlowErr + " systemctl: " + sysErr.Error())
		version = ""
	}
	if version != "" {
		h, err := probe.poll(ctx, 60*time.Second, 5*time.Millisecond, func(h Health) bool {
			return h.Version == version && h.PID != before.PID
		})
		if err != nil {
			ev.SlowErr = strings.TrimSpace(ev.SlowErr + " new version not served: " + err.Error())
		}
		ev.Serving = time.Since(from)
		ev.ServingPID = h.PID
	}
	// The old serving process has exited (drained) and the unit has settled.
	deadline := time.Now().Add(plan.ShutdownTimeout + 10*time.Second)
	for before.PID != 0 && time.Now().Before(deadline) && procAlive(ctx, c, before.PID) {
		time.Sleep(20 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		ev.ActiveState, _ = unitString(ctx, c, unit, "ActiveState")
		if ev.ActiveState == "active" || ev.ActiveState == "inactive" || ev.ActiveState == "failed" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	to := time.Now()
	ev.SubState, _ = unitString(ctx, c, unit, "SubState")
	ev.Result, _ = unitString(ctx, c, unit, "Result")
	ev.From, ev.To = from, to
	ev.MainPID, _ = unitInt(ctx, c, unit, "MainPID")
	if ev.ServingPID != 0 {
		ev.ServingPPID = procPPID(ctx, c, ev.ServingPID)
	}
	if slow != nil {
		if res := slow.Wait(); res.Err != "" && ev.SlowErr == "" {
			ev.SlowErr = res.Err
		}
	}
	return ev, from, to
}

// failedReload installs plan.Failing and reloads onto it with a request in flight: the reload
// must fail (fork: systemctl reload exits non-zero; supervisor, systemd: the journal says so),
// and the version that served before must still serve, from the same process.
func failedReload(ctx context.Context, c *nspawn.Container, plan RealSystemdPlan, probe *Server, inside string) (RealSystemdEvent, time.Time, time.Time) {
	ev := RealSystemdEvent{Action: "failed reload"}
	unit := plan.Name + ".service"
	from := time.Now()
	before, err := probe.Health(ctx)
	if err != nil {
		ev.SlowErr = "before: " + err.Error()
		return ev, from, time.Now()
	}
	ev.Version = before.Version
	if _, err := c.Shell(ctx, inside, "install -m 0755 bin/failing /opt/"+plan.Name+"/"+plan.Name); err != nil {
		ev.SlowErr = err.Error()
		return ev, from, time.Now()
	}
	slow, err := StartSlow(ctx, plan.Slow)
	if err != nil {
		ev.SlowErr = "start: " + err.Error()
	}
	cursor, _ := c.Output(ctx, "journalctl", "--show-cursor", "-n", "0", "--quiet")
	cursor = strings.TrimPrefix(strings.TrimSpace(cursor), "-- cursor: ")
	from = time.Now()
	_, sysErr := c.Output(ctx, "systemctl", "reload", unit)
	ev.Took = time.Since(from)
	if plan.Strategy == Fork && sysErr == nil {
		ev.SlowErr = "systemctl reload onto a failing binary succeeded; want the reload to fail"
	}
	if plan.Strategy != Fork && sysErr != nil {
		ev.SlowErr = "systemctl reload: " + sysErr.Error()
	}
	// The strategy logs that it keeps serving.
	deadline := time.Now().Add(plan.ReadyTimeout + 10*time.Second)
	for !strings.Contains(journalGrep(ctx, c, cursor, unit, "keeps serving"), "keeps serving") {
		if time.Now().After(deadline) {
			ev.SlowErr = strings.TrimSpace(ev.SlowErr + ` no "keeps serving" in the journal`)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		ev.ActiveState, _ = unitString(ctx, c, unit, "ActiveState")
		if ev.ActiveState != "reloading" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	to := time.Now()
	ev.SubState, _ = unitString(ctx, c, unit, "SubState")
	ev.Result, _ = unitString(ctx, c, unit, "Result")
	ev.MainPID, _ = unitInt(ctx, c, unit, "MainPID")
	if after, err := probe.Health(ctx); err != nil || after.PID != before.PID || after.Version != before.Version {
		ev.SlowErr = strings.TrimSpace(fmt.Sprintf("%s after the failed reload %+v (%v) serves, want %+v", ev.SlowErr, after, err, before))
	} else {
		ev.ServingPID = after.PID
		ev.ServingPPID = procPPID(ctx, c, after.PID)
	}
	if slow != nil {
		if res := slow.Wait(); res.Err != "" && ev.SlowErr == "" {
			ev.SlowErr = res.Err
		}
	}
	return ev, from, to
}

func countFailures(e *RealSystemdEvent, results []Result, from, to time.Time) {
	e.ByError = map[string]int{}
	for _, r := range results {
		if r.Start.Before(from) || r.Start.After(to) {
			continue
		}
		e.Sent++
		if r.Err != "" {
			e.Failed++
			e.ByError[r.Err]++
		}
	}
}

// stageProject lays out what the container installs: the project's README, conf/ and deploy/,
// the first binary as ./NAME and every binary as bin/VERSION.
func stageProject(plan RealSystemdPlan, stage string) error {
	if err := os.MkdirAll(filepath.Join(stage, "bin"), 0o755); err != nil {
		return err
	}
	for _, dir := range []string{"conf", "deploy"} {
		if err := copyTree(filepath.Join(plan.Project, dir), filepath.Join(stage, dir)); err != nil {
			return err
		}
	}
	if err := copyFile(plan.Binaries[0], filepath.Join(stage, plan.Name), 0o755); err != nil {
		return err
	}
	for i, b := range plan.Binaries {
		if err := copyFile(b, filepath.Join(stage, "bin", plan.Versions[i]), 0o755); err != nil {
			return err
		}
	}
	if plan.Failing != "" {
		return copyFile(plan.Failing, filepath.Join(stage, "bin", "failing"), 0o755)
	}
	return nil
}

// dropIns is the shell script that writes the test's drop-ins: loopback port, timeouts,
// release mode.
func dropIns(plan RealSystemdPlan) string {
	d := "/etc/systemd/system/" + plan.Name + ".service.d"
	p := plan.EnvPrefix
	svc := fmt.Sprintf("[Service]\nEnvironment=%s_SERVER_HTTPPORT=%d %s_SERVER_SHUTDOWNTIMEOUT=%s %s_SERVER_READYTIMEOUT=%s %s_APP_RUNMODE=release\n",
		p, plan.Port, p, plan.ShutdownTimeout, p, plan.ReadyTimeout, p)
	script := "mkdir -p " + d + " && printf '%s' '" + svc + "' > " + d + "/gingen-test.conf"
	if plan.Strategy == Systemd {
		s := "/etc/systemd/system/" + plan.Name + ".socket.d"
		sock := fmt.Sprintf("[Socket]\nListenStream=\nListenStream=127.0.0.1:%d\n", plan.Port)
		script += " && mkdir -p " + s + " && printf '%s' '" + sock + "' > " + s + "/gingen-test.conf"
	}
	return script
}

// removeUnits undoes the install, so that the next strategy starts from a clean system.
func removeUnits(c *nspawn.Container, plan RealSystemdPlan) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n := plan.Name
	_, _ = c.Shell(ctx, "/", "systemctl disable --now "+n+".socket "+n+".service 2>/dev/null; "+
		"rm -rf /etc/systemd/system/"+n+".service /etc/systemd/system/"+n+".socket /etc/systemd/system/"+n+".service.d "+
		"/etc/systemd/system/"+n+".socket.d /opt/"+n+"; systemctl daemon-reload; systemctl reset-failed; userdel "+n+" 2>/dev/null; true")
}

// ReadmeInstall returns the commands of the generated README's install block (the ```sh block
// under "## Deploy under systemd"), the lines that start with sudo, without sudo: what an
// administrator runs on the server.
func ReadmeInstall(readme string) ([]string, error) {
	b, err := os.ReadFile(readme)
	if err != nil {
		return nil, err
	}
	text := string(b)
	i := strings.Index(text, "\n## Deploy under systemd\n")
	if i < 0 {
		return nil, fmt.Errorf("%s has no \"## Deploy under systemd\" section", readme)
	}
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	if start < 0 {
		return nil, fmt.Errorf("%s: no ```sh block under \"## Deploy under systemd\"", readme)
	}
	text = text[start+len("```sh\n"):]
	end := strings.Index(text, "```")
	if end < 0 {
		return nil, fmt.Errorf("%s: unterminated ```sh block", readme)
	}
	var out []string
	for _, line := range strings.Split(text[:end], "\n") {
		line, _, _ = strings.Cut(line, " #")
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "sudo ") {
			continue
		}
		out = append(out, strings.ReplaceAll(strings.TrimPrefix(line, "sudo "), "&& sudo ", "&& "))
	}
	if len(out) == 0 {
		return nil, errors.New(readme + ": no sudo command in the install block")
	}
	return out, nil
}

func unitString(ctx context.Context, c *nspawn.Container, unit, prop string) (string, error) {
	out, err := c.Output(ctx, "systemctl", "show", "--property", prop, "--value", unit)
	return strings.TrimSpace(out), err
}

func unitInt(ctx context.Context, c *nspawn.Container, unit, prop string) (int, error) {
	s, err := unitString(ctx, c, unit, prop)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}

// procAlive reports whether pid (in the container) exists and is not a zombie.
func procAlive(ctx context.Context, c *nspawn.Container, pid int) bool {
	out, err := c.Output(ctx, "cat", "/proc/"+strconv.Itoa(pid)+"/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(out, ')')
	return i >= 0 && i+2 < len(out) && out[i+2] != 'Z' && out[i+2] != 'X'
}

// procPPID is the parent of pid in the container, 0 if unknown.
func procPPID(ctx context.Context, c *nspawn.Container, pid int) int {
	out, err := c.Output(ctx, "cat", "/proc/"+strconv.Itoa(pid)+"/stat")
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(out, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(out[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// journal is the unit's journal after cursor, without the access log.
func journal(ctx context.Context, c *nspawn.Container, cursor, unit string) string {
	return journalGrep(ctx, c, cursor, unit, accessLines)
}

// accessLines is a journalctl --grep pattern (PCRE2) of every line but the access log's: the
// load writes one per request, hundreds of thousands in a run.
const accessLines = `^(?!\{.*"msg":"request",)`

// journalGrep is the part of the unit's journal after cursor whose messages match pattern.
func journalGrep(ctx context.Context, c *nspawn.Container, cursor, unit, pattern string) string {
	out, err := c.Output(ctx, "journalctl", "--no-pager", "--after-cursor="+cursor, "-o", "short-monotonic",
		"--grep", pattern, "-u", unit, "-u", strings.TrimSuffix(unit, ".service")+".socket")
	if err != nil {
		return "journalctl: " + err.Error()
	}
	return out
}

// FreeLoopbackPort is a TCP port free on 127.0.0.1 now.
func FreeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
