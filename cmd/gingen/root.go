package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newRootCmd is gingen's whole command tree.
func newRootCmd(con console) *cobra.Command { return newRoot(con, "") }

// newRootCmdFor is the command tree that runs args: when args[0] names one of gingen's
// commands, the root with that command alone; otherwise (no command, help, completion, a flag,
// an unknown command) the whole tree. The command runs, prints its help and reports its errors
// as in the whole tree; building every command (their flags, help texts and completions)
// was most of the tree's cost at start-up, and a command line runs one.
func newRootCmdFor(con console, args []string) *cobra.Command {
	if len(args) > 0 {
		return newRoot(con, args[0])
	}
	return newRootCmd(con)
}

// subcommand is one of gingen's commands: its name and how to build it.
type subcommand struct {
	name  string
	build func() *cobra.Command
}

// subcommands are gingen's commands, in the order help lists them.
func subcommands(con console) []subcommand {
	return []subcommand{
		{"new", func() *cobra.Command { return newNewCmd(con) }},
		{"add", func() *cobra.Command { return newAddCmd(con) }},
		{"destroy", func() *cobra.Command { return newDestroyCmd(con) }},
		{"upgrade", func() *cobra.Command { return newUpgradeCmd(con) }},
		{"diff", func() *cobra.Command { return newDiffCmd(con) }},
		{"rename", func() *cobra.Command { return newRenameCmd(con) }},
		{"eject", func() *cobra.Command { return newEjectCmd(con) }},
		{"templates", func() *cobra.Command { return newTemplatesCmd(con) }},
		{"version", newVersionCmd},
	}
}

// newRoot is the root command with the subcommand named only, or with all of them when only
// names none.
func newRoot(con console, only string) *cobra.Command {
	root := &cobra.Command{
		Use:   "gingen",
		Short: "Scaffold production-grade, hot-restartable gin web projects",
		Long: `gingen generates gin web projects modeled on the go-gin-example blog (conf/app.ini
settings, routers, models, /api/v1) whose restarts lose no request: SIGHUP restarts onto the
binary and config on disk with zero downtime, SIGINT/SIGTERM shut down gracefully.

Exit codes: 0 success; 1 generation failed or the input was invalid (nothing written);
2 the command line is malformed; 130 interrupted by Ctrl-C in a prompt or while a change was
applied (nothing written: the change was rolled back).`,
		Example: `  gingen new myblog
  cd myblog && gingen add resource article title:string body:text
  gingen destroy resource article
  gingen templates export ./my-templates`,
		// An unknown command is a malformed command line.
		Args:          unknownCommand,
		RunE:          func(c *cobra.Command, _ []string) error { return c.Help() },
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints what gingen version prints.
		Version: versionString(debug.ReadBuildInfo()),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(con.in)
	root.SetOut(con.out)
	root.SetErr(con.errOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c.CommandPath(), err: err}
	})
	subs := subcommands(con)
	if i := slices.IndexFunc(subs, func(s subcommand) bool { return s.name == only }); i >= 0 {
		subs = subs[i : i+1]
	}
	for _, sub := range subs {
		root.AddCommand(sub.build())
	}
	addHelpExamples(root)
	return root
}

// addHelpExamples gives cobra's own help and completion commands examples, like every
// other command.
func addHelpExamples(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  gingen help new\n  gingen help add resource"
			c.Args = helpTopic
		case "completion":
			c.Args = cobra.ArbitraryArgs
			c.RunE = kindRequired("generate the completion script for", "source <(gingen completion bash)")
			c.Example = `  source <(gingen completion bash)                       # this shell only
  gingen completion bash > /etc/bash_completion.d/gingen  # every new shell
  gingen completion zsh > "${fpath[1]}/_gingen"`
			for _, sh := range c.Commands() {
				sh.Args = exactArgs(0)
				sh.Example = "  source <(gingen completion " + sh.Name() + ")"
				if sh.Name() == "fish" {
					sh.Example = "  gingen completion fish | source"
				}
				if sh.Name() == "powershell" {
					sh.Example = "  gingen completion powershell | Out-String | Invoke-Expression"
				}
			}
		}
	}
}

// addNoInputFlags adds --no-input and its alias --yes: never prompt, take the defaults.
func addNoInputFlags(f *pflag.FlagSet, noInput *bool) {
	f.BoolVar(noInput, "no-input", false, "never prompt, even on a terminal: take the defaults of the flags not given")
	f.BoolVarP(noInput, "yes", "y", false, "same as --no-input: accept every default without asking")
}

// addQuietFlag adds --quiet: print nothing but errors.
func addQuietFlag(f *pflag.FlagSet, quiet *bool) {
	f.BoolVarP(quiet, "quiet", "q", false, "print nothing but errors")
}

// addProjectTemplatesFlag adds --templates, the template overlay of a command that works in
// an existing project, completed with folder names.
func addProjectTemplatesFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "templates", "", "folder of your own templates laid over the embedded ones (default: the templates: key of gingen.yaml)")
	_ = cmd.RegisterFlagCompletionFunc("templates", dirCompletion)
}

// dirCompletion completes a flag's value with folder names.
func dirCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// nameRequired is the Args check of a command whose first argument is a NAME: without it, a
// usage error that says what to give (hint, with an example) instead of cobra's count of
// arguments; then check, if any, checks the rest.
func nameRequired(hint string, check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return &usageError{cmd: c.CommandPath(), err: fmt.Errorf("missing NAME: %s", hint)}
		}
		if check != nil {
			return check(c, args)
		}
		return nil
	}
}

// exactArgs is the Args check of a command that takes exactly n arguments.
func exactArgs(n int) cobra.PositionalArgs { return argCount(n, n) }

// maxArgs is the Args check of a command that takes at most n arguments.
func maxArgs(n int) cobra.PositionalArgs { return argCount(0, n) }

// minArgs is the Args check of a command that takes n arguments or more.
func minArgs(n int) cobra.PositionalArgs { return argCount(n, -1) }

// argCount is the Args check of a command that takes min to max arguments (max < 0: no
// limit). A missing or an extra argument is a usage error in one line that names it, then
// the fix: the command's usage and its first example.
func argCount(min, max int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		var problem string
		switch {
		case len(args) < min:
			words := strings.Fields(c.Use)[1:]
			missing := "an argument"
			if len(args) < len(words) {
				missing = words[len(args)]
			}
			problem = "missing " + missing
			if len(args) > 0 {
				problem += " after " + strings.Join(args, " ")
			}
		case max >= 0 && len(args) > max:
			problem = fmt.Sprintf("unexpected argument %q: %s takes %s", args[max], c.CommandPath(), argsWord(max))
		default:
			return nil
		}
		return &usageError{cmd: c.CommandPath(), err: errors.New(problem + "; " + usageHint(c))}
	}
}

func argsWord(n int) string {
	switch n {
	case 0:
		return "no argument"
	case 1:
		return "one argument"
	}
	return fmt.Sprintf("%d arguments", n)
}

// usageHint is the fix of an argument error: the command's usage line and first example.
func usageHint(c *cobra.Command) string {
	hint := "usage: " + strings.TrimSuffix(c.UseLine(), " [flags]")
	if ex := firstExample(c); ex != "" {
		hint += ", e.g. " + ex
	}
	return hint
}

// firstExample is the first line of the command's examples, without its comment.
func firstExample(c *cobra.Command) string {
	for _, line := range strings.Split(c.Example, "\n") {
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// usageArgs is check whose error is a usage error with the command's usage and example.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return &usageError{cmd: c.CommandPath(), err: fmt.Errorf("%w; %s", err, usageHint(c))}
		}
		return nil
	}
}

// unknownCommand is the Args check of the root command: an argument there is a command
// gingen does not have.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return &usageError{cmd: c.CommandPath(), err: fmt.Errorf("unknown command %q; use one of %s, e.g. gingen new myblog (gingen --help says what each does)", args[0], strings.Join(names, ", "))}
}

// helpTopic is the Args check of gingen help: the arguments name a command.
func helpTopic(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd, rest, err := c.Root().Find(args); err == nil && cmd != c.Root() && len(rest) == 0 {
		return nil
	}
	return &usageError{cmd: c.CommandPath(), err: fmt.Errorf("no command %q to help with; %s", strings.Join(args, " "), usageHint(c))}
}
