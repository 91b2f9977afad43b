package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// fix is what every argument error ends with: an example of the command, the fix.
var fix = regexp.MustCompile(`e\.g\. .*gingen `)

// TestEveryArgumentErrorNamesTheFix walks every command with missing and with extra
// arguments: each error is a usage error (exit status 2) of one line that names the fix
// with an example. The commands are checked without running them: their Args check, or, for
// those that only group others (add, destroy, ...), their run, which writes nothing.
func TestEveryArgumentErrorNamesTheFix(t *testing.T) {
	root := newRootCmd(console{in: strings.NewReader(""), out: &strings.Builder{}, errOut: &strings.Builder{}, getenv: func(string) string { return "" }})
	extra := strings.Fields("x1 x2 x3 x4 x5 x6 x7 x8 x9 x10 x11 x12")
	check := func(t *testing.T, c *cobra.Command, args []string, err error) {
		t.Helper()
		if err == nil {
			return // the command takes these arguments
		}
		var usage *usageError
		line := err.Error()
		if !errors.As(err, &usage) || strings.Contains(line, "\n") || !fix.MatchString(line) {
			t.Errorf("%s with %d arguments: %q, want one line of usage error naming the fix (e.g. gingen ...)", c.CommandPath(), len(args), line)
		}
	}
	checked := 0
	walked := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		t.Run(c.CommandPath(), func(t *testing.T) {
			for _, args := range [][]string{nil, extra[:1], extra} {
				var err error
				switch {
				case c.HasSubCommands() && c != root:
					err = c.RunE(c, args) // the kind is missing or unknown
				default:
					err = c.ValidateArgs(args)
				}
				check(t, c, args, err)
			}
			// Every command refuses too many arguments, but those that take a list.
			if err := c.ValidateArgs(extra); err == nil && !strings.HasSuffix(strings.TrimSuffix(c.Use, "]"), "...") && !c.HasSubCommands() {
				t.Errorf("%s accepts %d arguments", c.CommandPath(), len(extra))
			}
			checked++
			walked[c.CommandPath()] = true
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if checked < 15 {
		t.Errorf("walked %d commands, want every command", checked)
	}
	// Every command that works on a resource, rename resource among them.
	for _, path := range []string{"gingen add resource", "gingen destroy resource", "gingen rename field", "gingen rename resource"} {
		if !walked[path] {
			t.Errorf("%s is not among the commands the walk checked", path)
		}
	}
}
