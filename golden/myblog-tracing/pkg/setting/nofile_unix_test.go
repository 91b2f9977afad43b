//go:build unix

package setting

import (
	"syscall"
	"testing"
)

// The server relies on the Go runtime raising the soft open-file limit to the hard one at
// start (os package, Go 1.19+) instead of doing it itself; this test, a Go program too, sees
// whether that still holds, and that OpenFileLimit reports the raised limit.
func TestTheSoftOpenFileLimitIsRaisedToTheHardOne(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	got, err := OpenFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	// Darwin caps the raise at OPEN_MAX (10240) when the hard limit is unlimited.
	if lim.Cur != lim.Max && got < 10240 {
		t.Errorf("soft limit %d, hard limit %d: the runtime did not raise the soft limit", lim.Cur, lim.Max)
	}
	if got != nonNegative(lim.Cur) {
		t.Errorf("OpenFileLimit() = %d, want the soft limit %d", got, lim.Cur)
	}
}
