package main

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

func newUpgradeCmd(con console) *cobra.Command {
	var (
		opts   generator.UpgradeOptions
		dryRun bool
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Bring the project in the current folder onto this gingen's templates",
		Long: `Render the whole project again from gingen.yaml with this gingen's templates (the project
files, every resource, and the lines registered at the markers) and bring each file over:

  create     a file the templates generate that is missing
  identical  already what the templates generate
  update     unchanged since gingen wrote it (its SHA-256 is the recorded one): replaced
  merge      edited since: the template changes merged into your text, line by line
  conflict   edited, and your changes overlap the template's: your file is kept and the new
             text is written beside it, to FILE` + generator.SideFileSuffix + `, to merge by hand
  delete     no longer generated and unchanged: removed
  keep       edited, and the template did not change; or no longer generated but edited:
             left alone, it is yours now

Files gingen never generated are not touched, and no edit is lost. The text gingen wrote
last (the base of the merges) is rebuilt from the templates gingen.yaml records: this
gingen's, or an earlier release's that this gingen carries.

--strategy switches the restart strategy: the old strategy's files go (unless edited), the
new one's come, and gingen.yaml records it. The change is applied all or nothing.`,
		Example: `  gingen upgrade --dry-run
  gingen upgrade
  gingen upgrade --strategy supervisor`,
		Args: exactArgs(0),
		RunE: func(_ *cobra.Command, _ []string) error {
			return runUpgrade(con, opts, dryRun, reporter{out: con.out, quiet: quiet, colour: con.colour()})
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Strategy, "strategy", "", "switch to this restart strategy: "+strings.Join(generator.Strategies(), ", ")+" (default: keep the project's)")
	f.BoolVar(&dryRun, "dry-run", false, "print what would happen to each file, and write nothing")
	addQuietFlag(f, &quiet)
	_ = cmd.RegisterFlagCompletionFunc("strategy", cobra.FixedCompletions(generator.Strategies(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runUpgrade(con console, opts generator.UpgradeOptions, dryRun bool, r reporter) error {
	root, err := projectRoot(con)
	if err != nil {
		return err
	}
	project, err := generator.ProjectFS(root)
	if err != nil {
		return fmt.Errorf("open the project: %w", err)
	}
	dir, err := resourceTemplatesDir(project, root, "")
	if err != nil {
		return err
	}
	tfs, err := generator.OpenTemplates(templates.FS(), dir)
	if err != nil {
		return err
	}
	var overlay fs.FS
	if dir != "" {
		if overlay, err = generator.TemplatesFolder(dir); err != nil {
			return fmt.Errorf("open templates %s: %w", dir, err)
		}
	}
	plan, err := generator.PlanUpgrade(project, opts, tfs, overlay)
	if err != nil {
		return err
	}
	if plan.From != plan.To {
		r.printf("strategy: %s -> %s\n", plan.From, plan.To)
	}
	if err := carryOut(r, root, plan.Plan, dryRun); err != nil {
		return err
	}
	r.printf("%s (base of the merges: %s)\n", upgradeSummary(plan.Steps), plan.Base)
	if n := countSteps(plan.Steps, generator.ActionSideFile); n > 0 && !dryRun {
		r.printf("%d file(s) need a hand merge: see each FILE%s beside them\n", n, generator.SideFileSuffix)
	}
	return nil
}

// upgradeSummary counts the steps by action, in the order of the report.
func upgradeSummary(steps []generator.Step) string {
	var parts []string
	for _, a := range []generator.Action{generator.ActionCreate, generator.ActionUpdate, generator.ActionMerge, generator.ActionSideFile, generator.ActionDelete, generator.ActionKeep, generator.ActionIdentical} {
		if n := countSteps(steps, a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	return "upgrade: " + strings.Join(parts, ", ")
}

func countSteps(steps []generator.Step, a generator.Action) int {
	n := 0
	for _, s := range steps {
		if s.Action == a {
			n++
		}
	}
	return n
}
