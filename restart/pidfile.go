package restart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// readPIDFile returns the pid written in path.
func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("restart: read PID file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("restart: parse PID file %s: %w", path, err)
	}
	return pid, nil
}

// writePIDFile atomically replaces path with pid, the way tableflip does (temporary file in the
// same directory, then rename), so a reader never sees an empty or partial file.
func writePIDFile(path string, pid int) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+".tmp*")
	if err != nil {
		return fmt.Errorf("restart: write PID file: %w", err)
	}
	tmp := f.Name()
	_, werr := f.WriteString(strconv.Itoa(pid))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restart: write PID file: %w", err)
	}
	// CreateTemp makes the file 0600; a PID file is meant to be read by other users' tools.
	if err := os.Chmod(tmp, 0o644); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restart: write PID file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restart: write PID file: %w", err)
	}
	return nil
}

// removePIDFileIfOwned removes path if it names pid. After a restart the file names the new
// generation, and a stale file left by a crash may name anything: neither must be removed.
func removePIDFileIfOwned(path string, pid int) error {
	current, err := readPIDFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if current != pid {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("restart: remove PID file: %w", err)
	}
	return nil
}
