package main

import (
	"io"

	"github.com/mattn/go-isatty"
)

// console is what the commands see of the process: its standard streams and environment.
type console struct {
	in     io.Reader
	out    io.Writer
	errOut io.Writer
	getenv func(string) string
}

// interactive reports whether prompts can be shown: survey needs a terminal on both stdin
// and stdout. Pipes, files and CI get no prompt, so they never hang.
func (c console) interactive() bool {
	return isTerminal(c.in) && isTerminal(c.out)
}

// colour reports whether output gets colours: on a terminal, unless NO_COLOR is set
// (https://no-color.org) or the terminal says it cannot show them.
func (c console) colour() bool {
	return isTerminal(c.out) && c.getenv("NO_COLOR") == "" && c.getenv("TERM") != "dumb"
}

// isTerminal reports whether a standard stream is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
