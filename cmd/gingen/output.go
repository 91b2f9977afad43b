package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"

	"github.com/gingen/gingen/generator"
)

// reporter prints what a command does, Rails-style: the action right-aligned in a column,
// then the file. Actions are coloured on a terminal and plain elsewhere; --quiet prints
// nothing (errors still go to stderr).
type reporter struct {
	out    io.Writer
	quiet  bool
	colour bool
}

// actionWidth is the width of the action column: "identical", the longest, and some air.
const actionWidth = 12

// action prints one action line: "      create  myblog/main.go".
func (r reporter) action(a generator.Action, subject string) {
	pad := strings.Repeat(" ", max(actionWidth-len(a), 0))
	r.printf("%s%s  %s\n", pad, r.paint(actionColour(a), string(a)), subject)
}

// step prints one step of a plan on an existing project.
func (r reporter) step(s generator.Step) {
	subject := s.Path
	if s.Text != "" {
		subject = fmt.Sprintf("%s:%d  %s", s.Path, s.Line, s.Text)
	}
	if s.Note != "" {
		subject = fmt.Sprintf("%s  (%s)", s.Path, s.Note)
	}
	r.action(s.Action, subject)
}

// printf prints unless quiet.
func (r reporter) printf(format string, args ...any) {
	if !r.quiet {
		fmt.Fprintf(r.out, format, args...)
	}
}

// problem prints a problem the user can correct in a prompt, even when quiet.
func (r reporter) problem(err error) {
	fmt.Fprintf(r.out, "%s %v\n", r.paint([]color.Attribute{color.FgRed, color.Bold}, "✗"), err)
}

// paint colours s when the output takes colours.
func (r reporter) paint(attrs []color.Attribute, s string) string {
	if !r.colour || len(attrs) == 0 {
		return s
	}
	c := color.New(attrs...)
	c.EnableColor() // the decision is ours (console.colour), not the library's global
	return c.Sprint(s)
}

// actionColour is the colour Rails gives an action: green adds, blue leaves alone, yellow
// overwrites, red refuses or takes away.
func actionColour(a generator.Action) []color.Attribute {
	switch a {
	case generator.ActionCreate, generator.ActionInsert:
		return []color.Attribute{color.FgGreen, color.Bold}
	case generator.ActionIdentical:
		return []color.Attribute{color.FgBlue, color.Bold}
	case generator.ActionForce, generator.ActionUpdate, generator.ActionMerge:
		return []color.Attribute{color.FgYellow, color.Bold}
	case generator.ActionConflict, generator.ActionRemove, generator.ActionDelete:
		return []color.Attribute{color.FgRed, color.Bold}
	}
	return nil
}
