//go:build unix

package restart

import (
	"os"
	"testing"
)

// testWorkerEnv says which test program a worker started by an in-process master runs:
// "systemd" for the systemd tests (systemdTestProcess), anything else for the supervisor
// tests (supervisorTestWorker).
const testWorkerEnv = "RESTART_TEST_WORKER"

// TestMain lets the test binary double as the processes the strategies start: a fork
// generation (forkHelperMain), a master started the way systemd starts it and its workers
// (systemdTestProcess), and the supervisor tests' workers (supervisorTestWorker).
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(helperDirEnv) != "":
		os.Exit(forkHelperMain(os.Getenv(helperDirEnv)))
	case os.Getenv(systemdTestMasterEnv) != "",
		os.Getenv(roleEnv) == roleWorker && os.Getenv(testWorkerEnv) == "systemd":
		os.Exit(systemdTestProcess())
	case os.Getenv(roleEnv) == roleWorker:
		os.Exit(supervisorTestWorker())
	}
	os.Exit(m.Run())
}
