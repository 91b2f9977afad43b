package main

import (
	"io"

	"github.com/spf13/cobra"
)

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "gingen",
		Short: "Scaffold production-grade, hot-restartable gin web projects",
		Long: `gingen generates gin web projects modeled on the go-gin-example blog (conf/app.ini
settings, routers, models, /api/v1) whose restarts lose no request: SIGHUP restarts onto the
binary and config on disk with zero downtime, SIGINT/SIGTERM shut down gracefully.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c.CommandPath(), err: err}
	})
	root.AddCommand(newNewCmd(), newAddCmd(), newDestroyCmd(), newVersionCmd())
	return root
}

// exactArgs is cobra.ExactArgs whose error is a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(c, args); err != nil {
			return &usageError{cmd: c.CommandPath(), err: err}
		}
		return nil
	}
}
