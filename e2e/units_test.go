package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gingen/gingen/e2e/internal/e2etest"
)

// requireTool returns the path of an external tool; a missing one skips the test locally and
// fails it in CI (e2etest.RequireTool).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	return e2etest.RequireTool(t, name)
}

// missing skips the test for want of something it needs, or fails it when CI=true
// (e2etest.Missing).
func missing(t *testing.T, msg string) {
	t.Helper()
	e2etest.Missing(t, msg)
}

// TestSystemdUnitsVerify runs systemd-analyze verify on every unit under golden/*/deploy.
// verify insists that ExecStart's binary exists, so the units are copied with /opt/<name>
// pointed at a folder holding an executable stand-in.
func TestSystemdUnitsVerify(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze")
	for _, dir := range goldenDirs(t) {
		services, _ := filepath.Glob(filepath.Join(dir, "deploy", "*.service"))
		sockets, _ := filepath.Glob(filepath.Join(dir, "deploy", "*.socket"))
		units := append(services, sockets...)
		if len(units) == 0 {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			name := projectName(t, dir)
			tmp := t.TempDir()
			opt := filepath.Join(tmp, "opt", name)
			if err := os.MkdirAll(opt, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(opt, name), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			var copies []string
			for _, u := range units {
				body, err := os.ReadFile(u)
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(tmp, filepath.Base(u))
				if err := os.WriteFile(out, []byte(strings.ReplaceAll(string(body), "/opt/"+name, opt)), 0o644); err != nil {
					t.Fatal(err)
				}
				copies = append(copies, out)
			}
			cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, copies...)...)
			out, err := cmd.CombinedOutput()
			// verify exits 0 on warnings such as an unknown key: any output is a finding.
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("systemd-analyze verify %v: %v\n%s", units, err, out)
			}
		})
	}
}

// projectName reads the name from a golden tree's manifest.
func projectName(t *testing.T, dir string) string {
	t.Helper()
	name := manifestValue(t, dir, "name")
	if name == "" {
		t.Fatalf("no name in %s/gingen.yaml", dir)
	}
	return name
}
