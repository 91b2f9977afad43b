package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

func newNewCmd() *cobra.Command {
	var (
		opts  generator.Options
		dir   string
		write generator.WriteOptions
	)
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Generate a new gin project",
		Long: `Generate a new gin project in ./NAME (or DIR/NAME with --dir): settings in conf/app.ini,
models on gorm, routers with /healthz and /api/v1, and the chosen restart strategy.`,
		Example: `  gingen new myblog
  gingen new shop --strategy supervisor --module github.com/acme/shop --port 9000
  gingen new api --strategy systemd --dir ../work
  gingen new myblog --dry-run`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.Normalize()
			if err := opts.Validate(); err != nil {
				return err
			}
			files, err := generator.PlanProject(opts, templates.FS())
			if err != nil {
				return err
			}
			target := filepath.Join(dir, opts.Name)
			changes, err := generator.WriteProject(target, files, write)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			for _, ch := range changes {
				fmt.Fprintf(out, "%12s  %s\n", ch.Action, filepath.ToSlash(filepath.Join(target, ch.Path)))
			}
			if write.DryRun {
				fmt.Fprintf(out, "dry run: %d files planned, nothing written\n", len(changes))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Strategy, "strategy", generator.DefaultStrategy, "restart strategy: "+strings.Join(generator.Strategies(), ", "))
	f.StringVar(&opts.Module, "module", "", "Go module path (default: the project name)")
	f.StringVar(&opts.DB, "db", generator.DefaultDB, "database: "+strings.Join(generator.Databases(), ", "))
	f.IntVar(&opts.Port, "port", generator.DefaultPort, "HTTP port the server listens on (1-65535)")
	f.StringVar(&dir, "dir", ".", "parent folder of the new project")
	f.BoolVar(&write.DryRun, "dry-run", false, "print the files that would be written and write nothing")
	f.BoolVar(&write.Force, "force", false, "write into an existing, non-empty folder, overwriting files gingen generates")
	_ = cmd.RegisterFlagCompletionFunc("strategy", cobra.FixedCompletions(generator.Strategies(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("db", cobra.FixedCompletions(generator.Databases(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
