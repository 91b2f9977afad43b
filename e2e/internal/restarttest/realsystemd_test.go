package restarttest

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadmeInstallReadsTheGeneratedCommands(t *testing.T) {
	root, err := CheckoutRoot()
	if err != nil {
		t.Fatal(err)
	}
	for strategy, last := range map[string]string{
		Fork:       "systemctl enable --now myblog.service",
		Supervisor: "systemctl enable --now myblog.service",
		Systemd:    "systemctl enable --now myblog.socket myblog.service",
	} {
		t.Run(strategy, func(t *testing.T) {
			cmds, err := ReadmeInstall(filepath.Join(root, "golden", "myblog-"+strategy, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			if cmds[len(cmds)-1] != last {
				t.Errorf("last command %q, want %q", cmds[len(cmds)-1], last)
			}
			if !slices.ContainsFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "useradd --system ") }) {
				t.Errorf("no useradd among %q", cmds)
			}
			for _, c := range cmds {
				if strings.Contains(c, "sudo") || strings.HasPrefix(c, "make") {
					t.Errorf("command %q: sudo and the build step are not run on the server", c)
				}
			}
		})
	}
}

func TestDropInsMoveTheServiceToTheTestPort(t *testing.T) {
	script := dropIns(RealSystemdPlan{Strategy: Systemd, Name: "myblog", EnvPrefix: "MYBLOG", Port: 4242})
	for _, want := range []string{"MYBLOG_SERVER_HTTPPORT=4242", "ListenStream=\nListenStream=127.0.0.1:4242", "myblog.socket.d"} {
		if !strings.Contains(script, want) {
			t.Errorf("drop-in script lacks %q:\n%s", want, script)
		}
	}
}
