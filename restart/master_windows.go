package restart

import (
	"context"
	"fmt"
)

// runMasterWorker is not available on Windows: the master/worker strategies hand a listening
// socket to a child process and are driven by POSIX signals (SIGHUP, SIGTERM).
func runMasterWorker(_ context.Context, s Strategy, _ Options, _ Build) error {
	return fmt.Errorf("restart: the %s strategy needs a Unix system", s)
}
