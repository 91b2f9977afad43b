package restarttest

import (
	"fmt"
	"os"
	"path/filepath"
)

// BenchWork sets up a bench command's run: the fixtures of the golden/ folder golden, in a new
// working folder named after the command. done removes the folder, or with keep prints where
// it is and leaves it.
func BenchWork(golden, command string, keep bool) (fx *Fixtures, work string, done func(), err error) {
	golden, err = filepath.Abs(golden)
	if err != nil {
		return nil, "", nil, err
	}
	work, err = os.MkdirTemp("", command+"-")
	if err != nil {
		return nil, "", nil, err
	}
	done = func() { _ = os.RemoveAll(work) }
	if keep {
		fmt.Fprintln(os.Stderr, "work folder:", work)
		done = func() {}
	}
	return NewFixtures(golden, filepath.Join(work, "build")), work, done, nil
}
