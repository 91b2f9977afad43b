package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMakeStopSignalsOnlyTheServer runs the generated Makefile's stop and reload targets
// against PID files naming processes that are and are not the project's binary. A PID file
// left by a server that died names a pid the system may have given to another program: that
// program must not get the signal. The "server" is a copy of sleep named like the binary, so
// no project is built (reload runs with its build step taken as done: make -o build).
func TestMakeStopSignalsOnlyTheServer(t *testing.T) {
	makeBin := requireTool(t, "make")
	sleepBin := requireTool(t, "sleep")
	for _, dir := range goldenDirs(t) {
		name := manifestValue(t, dir, "name")
		makefile, err := os.ReadFile(filepath.Join(dir, "Makefile"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			work := t.TempDir()
			if err := os.WriteFile(filepath.Join(work, "Makefile"), makefile, 0o600); err != nil {
				t.Fatal(err)
			}
			pidFile := filepath.Join(work, name+".pid")
			runMake := func(target string) (string, error) {
				cmd := exec.Command(makeBin, "-o", "build", target)
				cmd.Dir = work
				out, err := cmd.CombinedOutput()
				return string(out), err
			}

			// No PID file: nothing to signal.
			if out, err := runMake("stop"); err == nil || !strings.Contains(out, "is not running") {
				t.Errorf("make stop without a PID file: %v\n%s", err, out)
			}

			// A stale PID file whose pid now runs another program.
			other := startProcess(t, sleepBin)
			writePID(t, pidFile, other)
			for _, target := range []string{"stop", "reload"} {
				out, err := runMake(target)
				if err == nil || !strings.Contains(out, "not signalled") || !strings.Contains(out, "sleep") {
					t.Errorf("make %s with the pid of sleep: %v\n%s", target, err, out)
				}
			}
			if exited(other) {
				t.Fatalf("make stop/reload signalled pid %d, which runs sleep, not %s", other.Process.Pid, name)
			}

			// The server itself, its binary rebuilt (replaced on disk) since it started: stopped.
			binary := filepath.Join(work, name)
			copyFile(t, sleepBin, binary)
			server := startProcess(t, binary)
			if err := os.Remove(binary); err != nil {
				t.Fatal(err)
			}
			copyFile(t, sleepBin, binary)
			writePID(t, pidFile, server)
			if out, err := runMake("stop"); err != nil || !strings.Contains(out, "SIGTERM sent") {
				t.Fatalf("make stop with the server's pid: %v\n%s", err, out)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !exited(server) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if !exited(server) {
				t.Errorf("make stop did not stop pid %d, running %s", server.Process.Pid, name)
			}
		})
	}
}

// startProcess starts path (sleep, or a copy of it) for a minute, reaped and killed at the
// end of the test.
func startProcess(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(path, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd
}

// exited reports whether cmd's process is gone (or a zombie not yet reaped: signal 0 still
// reaches it, so its state is read from /proc).
func exited(cmd *exec.Cmd) bool {
	if err := cmd.Process.Signal(syscall.Signal(0)); errors.Is(err, os.ErrProcessDone) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if err != nil {
		return true
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(after, "Z")
}

func writePID(t *testing.T, path string, cmd *exec.Cmd) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o700); err != nil {
		t.Fatal(err)
	}
}
