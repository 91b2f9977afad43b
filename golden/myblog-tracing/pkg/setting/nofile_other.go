//go:build !unix

package setting

// OpenFileLimit is 0 where the open-file limit is not an rlimit (Windows): unknown, so
// [server] MaxConns = 0 sets no cap.
func OpenFileLimit() (uint64, error) { return 0, nil }
