// Command systemdbench runs every restart strategy's deploy units under a real systemd
// (Debian bookworm's systemd 252, booted with systemd-nspawn, sharing the host's network) and
// writes what `systemctl reload`, `restart` and `stop` did under load as the "real-systemd"
// section of docs/BENCHMARKS.md, then, in the same container, issue 16's chaos suite (kill -9
// of each process, a crashing build, reload storms, long requests, stop under load; see
// restarttest.RunChaos) as its "real-systemd-chaos" section. Run it as root from the root of
// a gingen checkout:
//
//	go -C e2e run ./cmd/systemdbench               # both: ~10 min on 2 cores
//	go -C e2e run ./cmd/systemdbench -chaos-only   # the chaos table only: ~5 min
//	go -C e2e run ./cmd/systemdbench -chaos=false  # the reload table only
//	go -C e2e run ./cmd/systemdbench -out -        # to stdout
//
// The root file system comes from .ci/nspawn-rootfs (built and cached on first use).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/gingen/gingen/e2e/internal/benchdoc"
	"github.com/gingen/gingen/e2e/internal/nspawn"
	"github.com/gingen/gingen/e2e/internal/restarttest"
)

func main() {
	// Paths, given or default, are relative to the checkout's root.
	if err := restarttest.ChdirCheckoutRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "systemdbench:", err)
		os.Exit(1)
	}
	reloads := flag.Int("reloads", 5, "systemctl reloads per strategy, each onto a rebuilt binary")
	keepAlive := flag.Int("keepalive", 24, "clients on kept-alive connections")
	fresh := flag.Int("fresh", 8, "clients opening a new connection per request")
	trickle := flag.Duration("trickle", 2*time.Second, "how long the request in flight across each event trickles its body")
	out := flag.String("out", "docs/BENCHMARKS.md", "where to write the section (- for stdout)")
	golden := flag.String("golden", "golden", "the golden projects")
	note := flag.String("note", "", "a sentence about the machine added to the report")
	withChaos := flag.Bool("chaos", true, "also run the chaos suite and write its section")
	chaosOnly := flag.Bool("chaos-only", false, "run the chaos suite only")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "systemdbench: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if *reloads < 1 {
		fmt.Fprintln(os.Stderr, "systemdbench: -reloads must be at least 1")
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "systemdbench: booting systemd in a container needs root; run it with sudo")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	command := strings.TrimSpace("sudo go -C e2e run ./cmd/systemdbench " + shellquote.Join(os.Args[1:]...))
	sections, err := run(ctx, command, *reloads, *keepAlive, *fresh, *trickle, *golden, *note, *withChaos || *chaosOnly, !*chaosOnly)
	if err != nil {
		fmt.Fprintln(os.Stderr, "systemdbench:", err)
		os.Exit(1)
	}
	for _, name := range []string{"real-systemd", "real-systemd-chaos"} {
		body, ok := sections[name]
		if !ok {
			continue
		}
		if *out == "-" {
			os.Stdout.Write(body)
			continue
		}
		if err := benchdoc.ReplaceSection(*out, name, body); err != nil {
			fmt.Fprintln(os.Stderr, "systemdbench:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "systemdbench: wrote the %s section of %s\n", name, *out)
	}
}

// run boots one container and runs the reload plan (reloads) and the chaos suite (chaos) in
// it; it returns the sections of docs/BENCHMARKS.md by name.
func run(ctx context.Context, command string, reloads, keepAlive, fresh int, trickle time.Duration, golden, note string,
	chaos, reloadTable bool) (map[string][]byte, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	goldenAbs, err := filepath.Abs(golden)
	if err != nil {
		return nil, err
	}
	rootfs, err := nspawn.Rootfs(ctx, root)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "gingen-systemdbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	// The stage is bound into the container: not under /tmp, which its systemd would empty.
	stage, err := os.MkdirTemp("/var/tmp", "gingen-nspawn-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	fx := restarttest.NewFixtures(goldenAbs, work)

	versions := make([]string, reloads+1)
	for i := range versions {
		versions[i] = fmt.Sprintf("sd%d", i+1)
	}
	if !reloadTable {
		versions = versions[:1]
	}
	failing, err := fx.Failing(ctx)
	if err != nil {
		return nil, err
	}
	type built struct {
		project string
		bins    []string
	}
	projects := map[string]built{}
	crashing := map[string]string{}
	for _, strategy := range []string{restarttest.Fork, restarttest.Supervisor, restarttest.Systemd} {
		fmt.Fprintf(os.Stderr, "systemdbench: building %s (%d versions)\n", strategy, len(versions))
		bins, err := fx.Versions(ctx, strategy, versions...)
		if err != nil {
			return nil, err
		}
		project, err := fx.Project(strategy)
		if err != nil {
			return nil, err
		}
		projects[strategy] = built{project, bins}
		if chaos {
			if crashing[strategy], err = fx.CrashAfterReady(ctx, strategy); err != nil {
				return nil, err
			}
		}
	}

	c, err := nspawn.Boot(ctx, rootfs, stage, filepath.Base(stage))
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	systemdVersion, _ := c.Output(ctx, "systemctl", "--version")
	systemdVersion, _, _ = strings.Cut(systemdVersion, "\n")

	sections := map[string][]byte{}
	var runs []*restarttest.RealSystemdRun
	for _, strategy := range []string{restarttest.Fork, restarttest.Supervisor, restarttest.Systemd} {
		if !reloadTable {
			break
		}
		fmt.Fprintf(os.Stderr, "systemdbench: %s under %s\n", strategy, systemdVersion)
		port, err := restarttest.FreeLoopbackPort()
		if err != nil {
			return nil, err
		}
		p := projects[strategy]
		run, err := restarttest.RunRealSystemd(ctx, c, restarttest.RealSystemdPlan{
			Strategy:  strategy,
			Project:   p.project,
			Name:      "myblog",
			EnvPrefix: "MYBLOG",
			Binaries:  p.bins,
			Versions:  versions,
			Failing:   failing,
			Port:      port,
			Load: restarttest.LoadConfig{
				KeepAlive: keepAlive, Fresh: fresh,
				PostPath: restarttest.PostPath, PostBody: []byte(restarttest.PostJSON),
				PostStatus: restarttest.PostStatus, PostEvery: 4,
			},
			Slow: restarttest.SlowConfig{
				Path: restarttest.PostPath, Body: []byte(restarttest.PostJSON),
				Status: restarttest.PostStatus, Trickle: trickle,
			},
			ShutdownTimeout: 10 * time.Second,
			ReadyTimeout:    10 * time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strategy, err)
		}
		runs = append(runs, run)
	}
	if reloadTable {
		sections["real-systemd"] = report(runs, command, systemdVersion, reloads, keepAlive+fresh, trickle, note)
	}
	if !chaos {
		return sections, nil
	}
	var results []restarttest.ChaosResult
	began := time.Now()
	for _, strategy := range []string{restarttest.Fork, restarttest.Supervisor, restarttest.Systemd} {
		fmt.Fprintf(os.Stderr, "systemdbench: chaos suite, %s\n", strategy)
		port, err := restarttest.FreeLoopbackPort()
		if err != nil {
			return nil, err
		}
		p := projects[strategy]
		rs, err := restarttest.RunChaos(ctx, c, restarttest.ChaosPlan{
			Strategy: strategy, Project: p.project, Name: "myblog", EnvPrefix: "MYBLOG",
			Binary: p.bins[0], Version: versions[0], Crashing: crashing[strategy], Port: port,
			Load: restarttest.ChaosLoad(),
			Slow: restarttest.SlowConfig{
				Path: restarttest.PostPath, Body: []byte(restarttest.PostJSON), Status: restarttest.PostStatus,
			},
			ShutdownTimeout: restarttest.ChaosShutdownTimeout, ReadyTimeout: 10 * time.Second,
			Logf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, "systemdbench: "+format+"\n", args...) },
		})
		if err != nil {
			return nil, fmt.Errorf("chaos, %s: %w", strategy, err)
		}
		results = append(results, rs...)
	}
	sections["real-systemd-chaos"] = chaosReport(results, command, systemdVersion, time.Since(began), note)
	return sections, nil
}

func report(runs []*restarttest.RealSystemdRun, command, systemdVersion string, reloads, clients int, trickle time.Duration, note string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "## Under a real systemd\n\n")
	fmt.Fprintf(&b, "Made by `%s` (%s, `%s`). Each strategy's units, installed in a Debian bookworm "+
		"container booted with `systemd-nspawn` with the commands of the generated README, under %d clients on loopback "+
		"(GET /healthz and POST /api/v1/articles, kept-alive and fresh connections): `systemctl reload` %d times, each onto "+
		"a rebuilt binary, then once onto a binary that exits at start, then `systemctl restart`, then `systemctl stop` (after the load, so that nothing socket-activates "+
		"the systemd strategy again). Across every event a POST whose body trickles for %s is in flight. The same checks "+
		"run in CI (e2e/realsystemd/realsystemd_test.go).\n\n", command, time.Now().UTC().Format("2006-01-02"), systemdVersion, clients, reloads, trickle)
	if note != "" {
		fmt.Fprintf(&b, "%s\n\n", note)
	}
	b.WriteString("| strategy | reloads: failed / requests | `systemctl reload` took (max) | new version served after (max) | " +
		"reload onto a broken binary | restart: failed / requests | restart: longest time without an answer | request in flight answered (reload, restart, stop) | " +
		"unit after reloads / after stop | MainPID after reloads | journal |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, run := range runs {
		var rFailed, rSent, sFailed, sSent int
		var took, serving, gap time.Duration
		slow := map[string]string{}
		var unitAfter, stopAfter, mainPID string
		broken := "not tried"
		restartErrs := map[string]int{}
		for _, e := range run.Events {
			answered := "yes"
			if e.SlowErr != "" {
				answered = "no: " + e.SlowErr
			}
			switch e.Action {
			case "reload":
				rFailed += e.Failed
				rSent += e.Sent
				took = max(took, e.Took)
				serving = max(serving, e.Serving)
				if slow["reload"] == "" || answered != "yes" {
					slow["reload"] = answered
				}
				unitAfter = e.ActiveState + "/" + e.SubState
				if run.Strategy == restarttest.Fork {
					mainPID = "the serving process"
				} else {
					mainPID = "the master (unchanged), parent of the serving worker"
				}
			case "failed reload":
				broken = fmt.Sprintf("%s kept serving, %d / %d failed, in flight answered, unit %s", e.Version, e.Failed, e.Sent, e.ActiveState)
				if e.SlowErr != "" {
					broken = "no: " + e.SlowErr
				}
			case "restart":
				sFailed, sSent = e.Failed, e.Sent
				for k, v := range e.ByError {
					restartErrs[k] += v
				}
				gap = restarttest.LongestGap(run.Results, restarttest.Window{From: e.From, To: e.To})
				slow["restart"] = answered
			case "stop":
				slow["stop"] = answered
				stopAfter = fmt.Sprintf("%s (%s)", e.ActiveState, e.Result)
			}
		}
		journal := "clean"
		for _, p := range run.Problems {
			if strings.HasPrefix(p, "journal:") {
				journal = "see below"
			}
			if strings.Contains(p, "MainPID") {
				mainPID = "see below"
			}
		}
		restartCell := fmt.Sprintf("%d / %d", sFailed, sSent)
		if len(restartErrs) > 0 {
			var kinds []string
			for k, v := range restartErrs {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, v))
			}
			slices.Sort(kinds)
			restartCell += " (" + strings.Join(kinds, ", ") + ")"
		}
		fmt.Fprintf(&b, "| %s | %d / %d | %s | %s | %s | %s | %s | %s, %s, %s | %s / %s | %s | %s |\n",
			run.Strategy, rFailed, rSent, took.Round(time.Millisecond), serving.Round(time.Millisecond),
			broken, restartCell, gap.Round(time.Millisecond), slow["reload"], slow["restart"], slow["stop"],
			unitAfter, stopAfter, mainPID, journal)
	}
	b.WriteString("\n`systemctl reload` of the fork strategy returns once the old process has drained and exited (its " +
		"ExecReload= waits, so that systemd adopts the new pid only as its own child); under supervisor and systemd it " +
		"returns once the signal is sent, and the new version serves as soon as the new worker is ready. " +
		"`systemctl restart` of the fork and supervisor strategies closes the port during the drain and the start: " +
		"the refused requests above are that cost (use reload); the systemd strategy's socket stays open, so " +
		"connections wait instead.\n\n")
	var problems []string
	for _, run := range runs {
		for _, p := range run.Problems {
			problems = append(problems, fmt.Sprintf("- %s: %s", run.Strategy, p))
		}
	}
	b.WriteString("Rules broken: ")
	if len(problems) == 0 {
		b.WriteString("none (no failed request on reload, every request in flight answered, units active after every " +
			"reload and the restart and inactive (success) after the stop, no `not our child`, no SIGKILL in the journal).\n")
	} else {
		b.WriteString("\n\n" + strings.Join(problems, "\n") + "\n")
	}
	return b.Bytes()
}
