package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
)

// runInProcess runs the CLI without a terminal and returns its exit code and output.
func runInProcess(args ...string) (int, string) {
	var out bytes.Buffer
	code := run(args, console{in: strings.NewReader(""), out: &out, errOut: &out, getenv: func(string) string { return "" }})
	return code, out.String()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"a generated project exits 0", []string{"new", "ok", "--dir", dir}, exitOK},
		{"help exits 0", []string{"new", "--help"}, exitOK},
		{"an invalid name exits 1", []string{"new", "1blog", "--dir", dir}, exitFailure},
		{"a folder that exists exits 1", []string{"new", "ok", "--dir", dir}, exitFailure},
		{"a bad flag value exits 1", []string{"new", "x", "--port", "0", "--dir", dir}, exitFailure},
		{"a missing templates folder exits 1", []string{"new", "x", "--templates", "nowhere", "--dir", dir}, exitFailure},
		{"an unknown flag exits 2", []string{"new", "x", "--bogus"}, exitUsage},
		{"a flag value of the wrong type exits 2", []string{"new", "x", "--port", "eighty"}, exitUsage},
		{"a missing NAME without a terminal exits 2", []string{"new"}, exitUsage},
		{"a missing argument exits 2", []string{"destroy", "resource"}, exitUsage},
		{"add resource without NAME exits 2", []string{"add", "resource"}, exitUsage},
		{"--version exits 0", []string{"--version"}, exitOK},
		{"an unknown command exits 2", []string{"bogus"}, exitUsage},
		{"an unknown kind exits 2", []string{"add", "model"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, out := runInProcess(tc.args...); code != tc.code {
				t.Errorf("gingen %s: exit code %d, want %d\n%s", strings.Join(tc.args, " "), code, tc.code, out)
			}
		})
	}
}

// TestEveryCommandHasExamples walks the command tree: every command a user can see has
// examples in its --help.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no examples", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd(console{in: strings.NewReader(""), out: &bytes.Buffer{}, errOut: &bytes.Buffer{}, getenv: func(string) string { return "" }})
	walk(root)
	for _, path := range [][]string{{"completion", "bash"}, {"help"}, {"templates", "export"}} {
		if c, _, err := root.Find(path); err != nil || c.Example == "" {
			t.Errorf("gingen %s: no examples (%v)", strings.Join(path, " "), err)
		}
	}
}

func TestReporterColours(t *testing.T) {
	for _, tc := range []struct {
		name   string
		colour bool
		action generator.Action
		want   string
	}{
		{"create is bold green on a terminal", true, generator.ActionCreate, "      \x1b[32;1mcreate\x1b[0;22m  a.go\n"},
		{"conflict is bold red on a terminal", true, generator.ActionConflict, "    \x1b[31;1mconflict\x1b[0;22m  a.go\n"},
		{"identical is bold blue on a terminal", true, generator.ActionIdentical, "   \x1b[34;1midentical\x1b[0;22m  a.go\n"},
		{"plain without colours", false, generator.ActionCreate, "      create  a.go\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			reporter{out: &out, colour: tc.colour}.action(tc.action, "a.go")
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
	var out bytes.Buffer
	r := reporter{out: &out, quiet: true, colour: true}
	r.action(generator.ActionCreate, "a.go")
	r.step(generator.Step{Action: generator.ActionInsert, Path: "b.go", Line: 3, Text: "x"})
	if out.Len() != 0 {
		t.Errorf("quiet printed %q", out.String())
	}
}

func TestConsoleColour(t *testing.T) {
	// Buffers are not terminals: never coloured, whatever the environment says.
	env := map[string]string{"TERM": "xterm"}
	c := console{out: &bytes.Buffer{}, getenv: func(k string) string { return env[k] }}
	if c.colour() || c.interactive() {
		t.Error("a buffer is treated as a terminal")
	}
}

func TestNewCommandLineRepeatsTheWizard(t *testing.T) {
	req := newRequest{dir: "../my work", templates: "tpl", write: generator.WriteOptions{Force: true}}
	o := generator.Options{Name: "shop", Module: "github.com/acme/shop", Strategy: "systemd", DB: "sqlite", Auth: "none", Port: 9000}
	want := `gingen new shop --module github.com/acme/shop --strategy systemd --db sqlite --auth none --port 9000 --dir '../my work' --templates tpl --force`
	if got := newCommandLine(o, req); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A command line that names a command builds the root with that command alone: its name is
// the command's, and the command, with every subcommand, prints the same help and takes the
// same flags as in the whole tree. Anything else gets the whole tree.
func TestCommandLineTreeIsABranchOfTheWholeTree(t *testing.T) {
	con := console{in: strings.NewReader(""), out: &bytes.Buffer{}, errOut: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	whole := newRootCmd(con)
	subs := subcommands(con)
	if got, want := len(subs), len(whole.Commands())-2; got != want { // less help and completion
		t.Fatalf("%d subcommands, the whole tree has %d besides help and completion", got, want)
	}
	for _, sub := range subs {
		t.Run(sub.name, func(t *testing.T) {
			branch := newRootCmdFor(con, []string{sub.name, "--help"})
			if n := len(branch.Commands()); n != 3 { // the command, help, completion
				t.Errorf("the tree for gingen %s has %d commands, want it, help and completion", sub.name, n)
			}
			got, _, err := branch.Find([]string{sub.name})
			if err != nil || got.Name() != sub.name {
				t.Fatalf("gingen %s finds %v (%v) in its tree", sub.name, got, err)
			}
			want, _, err := whole.Find([]string{sub.name})
			if err != nil {
				t.Fatal(err)
			}
			var walk func(got, want *cobra.Command)
			walk = func(got, want *cobra.Command) {
				if g, w := got.UsageString(), want.UsageString(); g != w {
					t.Errorf("%s: usage in its own tree:\n%s\nin the whole tree:\n%s", want.CommandPath(), g, w)
				}
				if g, w := got.Long+got.Example, want.Long+want.Example; g != w {
					t.Errorf("%s: help differs from the whole tree's", want.CommandPath())
				}
				if len(got.Commands()) != len(want.Commands()) {
					t.Fatalf("%s has %d subcommands in its own tree, %d in the whole tree", want.CommandPath(), len(got.Commands()), len(want.Commands()))
				}
				for i := range got.Commands() {
					walk(got.Commands()[i], want.Commands()[i])
				}
			}
			walk(got, want)
		})
	}
	for _, args := range [][]string{nil, {"help", "new"}, {"completion", "bash"}, {"--version"}, {"bogus"}, {"__complete", "n"}} {
		if got := len(newRootCmdFor(con, args).Commands()); got != len(whole.Commands()) {
			t.Errorf("gingen %q builds %d commands, want the whole tree's %d", args, got, len(whole.Commands()))
		}
	}
}
