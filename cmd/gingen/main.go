// Command gingen scaffolds production-grade, hot-restartable gin web projects.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitFailure     = 1   // generation failed or the input was invalid
	exitUsage       = 2   // the command line itself is wrong (unknown flag, missing argument)
	exitInterrupted = 130 // Ctrl-C in a prompt: 128 + SIGINT, as a shell reports it
)

func main() {
	if percent, ok := gcPercent(os.LookupEnv); ok {
		debug.SetGCPercent(percent)
	}
	os.Exit(run(os.Args[1:], console{in: os.Stdin, out: os.Stdout, errOut: os.Stderr, getenv: os.Getenv}))
}

// gcPercent is the garbage collector's target gingen sets, and whether it sets one: 400 unless
// the user's GOGC says otherwise. A command lives for tens of milliseconds, and gingen new
// allocates about 6 MB in all: at Go's default of 100 the collector ran once or twice in each
// new, 12% of its CPU (docs/BENCHMARKS.md); at 400 it first runs at 16 MB of heap, and a
// large upgrade's heap may grow to five times what it keeps live instead of twice.
func gcPercent(lookupEnv func(string) (string, bool)) (int, bool) {
	if _, set := lookupEnv("GOGC"); set {
		return 0, false
	}
	return 400, true
}

// run executes the CLI and returns the process exit code.
func run(args []string, con console) int {
	cmd := newRootCmdFor(con, args)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return exitCode(con.errOut, err)
}

// exitCode reports err, if any, on stderr and maps it to the exit code.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var status exitStatusError
	if errors.As(err, &status) {
		return int(status) // the command said all it had to: no message
	}
	fmt.Fprintln(stderr, "gingen:", err)
	var usage *usageError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", usage.cmd)
		return exitUsage
	case errors.As(err, new(interruptedError)):
		return exitInterrupted
	}
	return exitFailure
}

// usageError marks a malformed command line.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// exitStatusError ends a command that succeeded in its task with a non-zero status and no
// message, as gingen diff --exit-code does when it printed a difference.
type exitStatusError int

func (e exitStatusError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// interruptedError is Ctrl-C in a prompt: the command stops before writing anything.
type interruptedError struct{}

func (interruptedError) Error() string { return "interrupted; nothing written" }
