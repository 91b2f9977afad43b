package restart

import (
	"context"
	"errors"
)

// Run is not available on Windows: the supervisor strategy hands a listening socket to a child
// process and is driven by POSIX signals (SIGHUP, SIGTERM).
func Run(ctx context.Context, opts Options, build Build) error {
	return errors.New("restart: the supervisor strategy needs a Unix system")
}
