package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gingen/gingen/e2e/internal/restarttest"
)

// chaosReport is the "real-systemd-chaos" section: a row per strategy and fault.
func chaosReport(results []restarttest.ChaosResult, command, systemdVersion string, took time.Duration, note string) []byte {
	var b bytes.Buffer
	b.WriteString("## Chaos under a real systemd\n\n")
	fmt.Fprintf(&b, "Made by `%s` (%s, `%s`, the chaos suite took %s). Each strategy's units, installed in a Debian bookworm "+
		"container booted with `systemd-nspawn` with the commands of the generated README, with [server] ShutdownTimeout = %s; "+
		"each fault starts from a healthy unit (stopped, the good binary installed, started) under 36 clients on loopback "+
		"(27 kept-alive, 9 opening a connection per request; one request in 9 a POST /api/v1/articles, the others GET /healthz). "+
		"The faults: a reload storm (6 `systemctl reload` one after the other, then 6 at once and 3 raw SIGHUPs to MainPID); "+
		"kill -9 of the serving process (fork: the process; supervisor, systemd: the worker); kill -9 of the master; kill -9 of "+
		"the new generation once it serves while the old one drains a 4 s request (`systemctl reload` in flight); a reload onto "+
		"a build that exits 2 s after it serves; a request longer than ShutdownTimeout in flight across a reload, and across a "+
		"stop (no load); `systemctl stop` under load (the systemd strategy's socket too, as the README says). "+
		"The same suite runs in CI (e2e/realsystemd/chaos_test.go).\n\n",
		command, time.Now().UTC().Format("2006-01-02"), systemdVersion, took.Round(time.Second), restarttest.ChaosShutdownTimeout)
	if note != "" {
		fmt.Fprintf(&b, "%s\n\n", note)
	}
	b.WriteString("Failed counts the load's requests from 1 s before the fault to 1 s after the unit settled. Recovery is the time " +
		"from the first failed request to the end of the first request that succeeded after the last failure (\"never\": none " +
		"did before the fault's window ended). The final state is the unit's `ActiveState/SubState (Result)` and `NRestarts` " +
		"at the end; \"serving\" says whether /healthz answered then. SIGKILL counts the journal's lines where systemd or the " +
		"master SIGKILLed a process of the unit (the test's own kill -9 is not among them).\n\n")
	b.WriteString("| strategy | fault | sent | failed | recovery | request in flight | final state | serving | SIGKILL | rules broken |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	var problems []string
	for _, r := range results {
		if r.NA != "" {
			fmt.Fprintf(&b, "| %s | %s | n/a | | | | | | | %s |\n", r.Strategy, r.Fault, r.NA)
			continue
		}
		failed := fmt.Sprint(r.Failed)
		if len(r.ByError) > 0 {
			byKind := map[string]int{}
			for k, v := range r.ByError {
				byKind[errorKind(k)] += v
			}
			var kinds []string
			for k, v := range byKind {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, v))
			}
			slices.Sort(kinds)
			failed += " (" + strings.Join(kinds, ", ") + ")"
		}
		recovery := "0"
		switch {
		case r.Failed == 0:
		case r.Fault == restarttest.FaultStop:
			recovery = "n/a (stopped)"
		case r.Fault == restarttest.FaultCrash:
			recovery = fmt.Sprintf("n/a (every start crashes; systemd restarted the unit after %s)", r.Settled.Round(100*time.Millisecond))
			if r.ActiveState == "failed" {
				recovery = fmt.Sprintf("n/a (every start crashes; the unit failed after %s)", r.Settled.Round(100*time.Millisecond))
			}
		case !r.Recovered:
			recovery = "never"
		default:
			recovery = r.Recovery.Round(time.Millisecond).String()
		}
		slow := "none sent"
		switch r.SlowErr {
		case "-":
		case "":
			slow = "answered"
		default:
			slow = "failed: " + r.SlowErr
		}
		serving := "no"
		if r.Serving {
			serving = "yes"
		}
		rules := "none"
		if len(r.Problems) > 0 {
			rules = fmt.Sprintf("%d, see below", len(r.Problems))
			for _, p := range r.Problems {
				problems = append(problems, fmt.Sprintf("- %s, %s: %s", r.Strategy, r.Fault, p))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %d | %s |\n", r.Strategy, r.Fault, r.Sent, failed, recovery,
			slow, strings.ReplaceAll(r.FinalState(), "|", "/"), serving, len(r.Killed), rules)
	}
	b.WriteString("\nThe rules, asserted in CI: no failed request during the reload storm and the reload with a long request; " +
		"after every fault the unit serves or is `failed` (never inactive or active with nothing serving); a crashing build " +
		"reaches systemd (the unit restarts or fails); no SIGKILL of a process of the unit. The gaps after kill -9 of the serving " +
		"process or of the master are reported, not asserted.\n\n")
	b.WriteString("Rules broken: ")
	if len(problems) == 0 {
		b.WriteString("none.\n")
	} else {
		b.WriteString("\n\n" + strings.Join(problems, "\n") + "\n")
	}
	return b.Bytes()
}

// errorKind shortens a load error for the table: the client's "server closed idle connection"
// (a kept-alive connection closed by a dying server as a request was sent) without its URL.
func errorKind(err string) string {
	if strings.Contains(err, "server closed idle connection") {
		return "closed idle connection"
	}
	return err
}
