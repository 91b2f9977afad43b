package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newRootCmd(con console) *cobra.Command {
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
		Args:          usageArgs(cobra.NoArgs),
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
	root.AddCommand(newNewCmd(con), newAddCmd(con), newDestroyCmd(con), newUpgradeCmd(con), newEjectCmd(con), newTemplatesCmd(con), newVersionCmd())
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
		case "completion":
			c.Example = `  source <(gingen completion bash)                       # this shell only
  gingen completion bash > /etc/bash_completion.d/gingen  # every new shell
  gingen completion zsh > "${fpath[1]}/_gingen"`
			for _, sh := range c.Commands() {
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

// exactArgs is cobra.ExactArgs whose error is a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return usageArgs(cobra.ExactArgs(n))
}

// maxArgs is cobra.MaximumNArgs whose error is a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return usageArgs(cobra.MaximumNArgs(n))
}

func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return &usageError{cmd: c.CommandPath(), err: err}
		}
		return nil
	}
}
