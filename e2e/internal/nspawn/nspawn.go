// Package nspawn boots a real systemd in a container (systemd-nspawn -b) sharing the host's
// network, and runs commands inside it (nsenter), so that generated deploy units can be
// installed and driven with systemctl as on a server. It needs root, systemd-nspawn and
// nsenter; the root file system comes from .ci/nspawn-rootfs (a Debian tree, cached).
package nspawn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Container is a booted systemd.
type Container struct {
	// Stage is the host folder bound read-only at /srv/gingen inside the container: put what
	// is to be installed there.
	Stage string
	// Init is the host pid of the container's systemd (its pid 1).
	Init int

	cmd    *exec.Cmd
	exited chan struct{}
	log    *syncBuffer
}

// StageDir is where Stage is seen inside the container.
const StageDir = "/srv/gingen"

// Boot boots rootfs, read-only with a throw-away overlay on top (--volatile=overlay: the cached
// tree is never changed), and waits until its systemd has finished starting up. stage must not
// be under the host's /tmp: systemd's tmpfiles setup would empty it. Stop the container with
// Stop, always.
func Boot(ctx context.Context, rootfs, stage, name string) (*Container, error) {
	if strings.HasPrefix(filepath.Clean(stage)+"/", "/tmp/") {
		return nil, fmt.Errorf("nspawn: stage %s is under /tmp; use /var/tmp", stage)
	}
	cmd := exec.Command("systemd-nspawn", "--boot", "--directory="+rootfs, "--volatile=overlay",
		"--register=no", "--keep-unit", "--console=pipe", "--machine="+name,
		"--bind-ro="+stage+":"+StageDir)
	// cgroup v2 inside the container whatever the host's default.
	cmd.Env = append(os.Environ(), "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1")
	c := &Container{Stage: stage, cmd: cmd, exited: make(chan struct{}), log: &syncBuffer{}}
	// One writer for both: os/exec then never calls it from two goroutines at once.
	cmd.Stdout, cmd.Stderr = c.log, c.log
	// Its own process group: a stray signal to ours does not reach it, and Stop can reach it all.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("nspawn: start systemd-nspawn: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for c.Init == 0 {
		if pid := childInOtherPIDNamespace(cmd.Process.Pid); pid != 0 {
			c.Init = pid
			break
		}
		select {
		case <-c.exited:
			return nil, fmt.Errorf("nspawn: systemd-nspawn exited during boot:\n%s", c.Log())
		case <-ctx.Done():
			c.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return nil, fmt.Errorf("nspawn: no container init within 60s:\n%s", c.Log())
		}
	}
	// "running", or "degraded" when a unit that needs more than a container failed: both
	// mean start-up is over.
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		out, _ := c.Output(wctx, "systemctl", "is-system-running", "--wait")
		state := strings.TrimSpace(out)
		if state == "running" || state == "degraded" {
			return c, nil
		}
		if wctx.Err() != nil {
			c.Stop()
			return nil, fmt.Errorf("nspawn: systemd did not finish starting (state %q):\n%s", state, c.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// childInOtherPIDNamespace returns the pid of a child of parent that lives in another pid
// namespace than parent: the container's init. 0 if there is none yet.
func childInOtherPIDNamespace(parent int) int {
	own, err := os.Readlink("/proc/" + strconv.Itoa(parent) + "/ns/pid")
	if err != nil {
		return 0
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil || !strings.Contains(string(status), "\nPPid:\t"+strconv.Itoa(parent)+"\n") {
			continue
		}
		if ns, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && ns != own {
			return pid
		}
	}
	return 0
}

// Command is a command run inside the container, in all of its namespaces, as root.
func (c *Container) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"--target", strconv.Itoa(c.Init), "--all", "--", name}, args...)...)
}

// Output runs a command inside the container and returns its standard output; the error has
// its standard error.
func (c *Container) Output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := c.Command(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Shell runs script with sh -c inside the container, in dir.
func (c *Container) Shell(ctx context.Context, dir, script string) (string, error) {
	cmd := c.Command(ctx, "sh", "-c", "cd "+shellQuote(dir)+" && "+script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("sh -c %q: %w: %s", script, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Log is what systemd-nspawn and the container's console printed so far.
func (c *Container) Log() string {
	return c.log.String()
}

// Stop powers the container off (SIGTERM to systemd-nspawn makes the container's systemd shut
// down cleanly) and waits for it, killing it after 30s.
func (c *Container) Stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		return
	case <-time.After(30 * time.Second):
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	if c.Init != 0 {
		_ = syscall.Kill(c.Init, syscall.SIGKILL)
	}
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
	}
}

// Rootfs returns the path of the cached root file system, building it when it is missing
// (.ci/nspawn-rootfs; a few minutes the first time on a machine).
func Rootfs(ctx context.Context, repoRoot string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, ".ci", "nspawn-rootfs"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("nspawn: .ci/nspawn-rootfs: %w\n%s", err, stderr.String())
	}
	path := strings.TrimSpace(string(out))
	if path == "" {
		return "", errors.New("nspawn: .ci/nspawn-rootfs printed no path")
	}
	return path, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// syncBuffer is systemd-nspawn's output, written by os/exec and read by Log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
