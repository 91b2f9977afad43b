// Command gingen scaffolds production-grade, hot-restartable gin web projects.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gingen/gingen/generator"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitFailure = 1 // generation failed or the input was invalid
	exitUsage   = 2 // the command line itself is wrong (unknown flag, missing argument)
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code; tests call it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := newRootCmd(stdin, stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "gingen:", err)
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", usage.cmd)
		return exitUsage
	}
	var input *generator.InputError
	if errors.As(err, &input) {
		return exitFailure
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
