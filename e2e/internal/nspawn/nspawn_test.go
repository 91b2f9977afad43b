package nspawn

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestBootRefusesAStageUnderTmp(t *testing.T) {
	// The container's systemd empties its /tmp at boot: nothing of the host's /tmp may be in it.
	_, err := Boot(context.Background(), "/nonexistent", "/tmp/stage", "x")
	if err == nil || !strings.Contains(err.Error(), "/var/tmp") {
		t.Fatalf("Boot with a stage under /tmp: %v, want a refusal naming /var/tmp", err)
	}
}

func TestChildInOtherPIDNamespaceIgnoresOrdinaryChildren(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if pid := childInOtherPIDNamespace(os.Getpid()); pid != 0 {
		t.Errorf("found %d, a child in this pid namespace, as a container's init", pid)
	}
}

func TestShellQuote(t *testing.T) {
	out, err := exec.Command("sh", "-c", "printf %s "+shellQuote("it's /srv/a b")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "it's /srv/a b" {
		t.Errorf("quoted and unquoted by sh: %q", out)
	}
}
