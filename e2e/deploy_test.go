package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unitKeys reads the Key=Value lines of one section of a systemd unit file.
func unitKeys(t *testing.T, path, section string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			in = line == "["+section+"]"
		case in:
			k, v, _ := strings.Cut(line, "=")
			keys[k] = append(keys[k], v)
		}
	}
	return keys
}

// TestDeployFilesFitTheirStrategy checks what systemd-analyze verify cannot: that each
// strategy's unit is the kind that strategy needs. fork: systemd follows the pid through
// PIDFile= and reloads with SIGHUP; supervisor: the master's pid is stable, Type=simple;
// systemd: a .socket and a Type=notify service whose main process (the master) alone notifies.
// Every unit SIGTERMs the whole control group (KillMode=control-group: a draining worker or
// generation is not SIGKILLed when the main process dies), restarts at once after a failure
// and gives up after a start limit. And that a fork project says what to use under
// supervisord instead.
func TestDeployFilesFitTheirStrategy(t *testing.T) {
	for _, dir := range goldenDirs(t) {
		strategy := manifestValue(t, dir, "strategy")
		name := projectName(t, dir)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			service := unitKeys(t, filepath.Join(dir, "deploy", name+".service"), "Service")
			want := map[string]string{"ExecReload": "/bin/kill -HUP $MAINPID", "KillSignal": "SIGTERM",
				"KillMode": "control-group", "Restart": "on-failure", "RestartSec": "100ms"}
			unit := unitKeys(t, filepath.Join(dir, "deploy", name+".service"), "Unit")
			for k, v := range map[string]string{"StartLimitIntervalSec": "120s", "StartLimitBurst": "5"} {
				if got := unit[k]; len(got) != 1 || got[0] != v {
					t.Errorf("%s.service [Unit] %s = %v, want %s", name, k, got, v)
				}
			}
			switch strategy {
			case "fork":
				want["Type"] = "simple"
				want["PIDFile"] = "/run/" + name + "/" + name + ".pid"
				// ExecReload= waits until the hand-over is over (see the unit's comments).
				delete(want, "ExecReload")
				if got := service["ExecReload"]; len(got) != 1 || !strings.HasPrefix(got[0], "/bin/sh -c ") ||
					!strings.Contains(got[0], `kill -HUP "$$1"`) || !strings.HasSuffix(got[0], " sh $MAINPID") {
					t.Errorf("%s.service ExecReload = %v, want the waiting /bin/sh script", name, got)
				}
				readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(readme), "Not under supervisord") || !strings.Contains(string(readme), "--strategy supervisor") {
					t.Error("README.md of a fork project does not say to use --strategy supervisor under supervisord")
				}
			case "supervisor":
				want["Type"] = "simple"
				if _, err := os.Stat(filepath.Join(dir, "deploy", "supervisord.conf")); err != nil {
					t.Error(err)
				}
			case "systemd":
				want["Type"] = "notify"
				want["NotifyAccess"] = "main"
				socket := unitKeys(t, filepath.Join(dir, "deploy", name+".socket"), "Socket")
				if len(socket["ListenStream"]) != 1 {
					t.Errorf("%s.socket ListenStream = %v, want one", name, socket["ListenStream"])
				}
				if got := unitKeys(t, filepath.Join(dir, "deploy", name+".service"), "Unit")["Requires"]; len(got) != 1 || got[0] != name+".socket" {
					t.Errorf("%s.service Requires = %v, want %s.socket", name, got, name)
				}
			default:
				t.Fatalf("unknown strategy %q in %s/gingen.yaml", strategy, dir)
			}
			for k, v := range want {
				if got := service[k]; len(got) != 1 || got[0] != v {
					t.Errorf("%s.service %s = %v, want %s", name, k, got, v)
				}
			}
		})
	}
}
