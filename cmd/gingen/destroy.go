package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
)

func newDestroyCmd(con console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "destroy KIND NAME",
		Short: "Undo an add in the gingen project in the current folder",
		Long: `Undo what "gingen add" did in the gingen project in the current folder (or the project
around it: the nearest folder above that holds gingen.yaml).`,
		Example: "  gingen destroy resource article",
		RunE:    kindRequired("destroy", "gingen destroy resource article"),
	}
	cmd.AddCommand(newDestroyResourceCmd(con), newDestroyFieldCmd(con))
	return cmd
}

func newDestroyResourceCmd(con console) *cobra.Command {
	var (
		opts     generator.DestroyOptions
		dryRun   bool
		quiet    bool
		templDir string
	)
	cmd := &cobra.Command{
		Use:   "resource NAME",
		Short: "Remove a resource exactly as gingen add resource added it",
		Long: `Remove a resource: delete the files "gingen add resource" created, remove the lines it
inserted at the gingen:models and gingen:routes markers, and drop it from gingen.yaml. Lines
you added around the markers are kept.

A generated file you edited since is not deleted: the command stops and names it, unless
--force is given (it deletes the file and keeps your text in FILE.gingen-old). A resource
another resource references cannot be destroyed before it, nor one with fields added by
"gingen add field" before those (gingen destroy field).

Its create migration may have run in databases gingen cannot see, so it stays and a new
migration (db/migrations/NNNNN_drop_PLURAL.sql) drops the table: every database that applies
it loses the table's rows, and only that table's; the command says so before it acts. Only a
create migration that never left the working tree (the project is a git work tree and no
commit has the file) and is the newest migration is deleted instead, as the add wrote it.`,
		Example: `  gingen destroy resource comment
  gingen destroy resource article --dry-run
  gingen destroy resource article --force`,
		Args: nameRequired("name the resource to destroy, e.g. gingen destroy resource article (gingen.yaml lists the resources)", exactArgs(1)),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return recordedResourceNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Name = args[0]
			root, err := projectRoot(con, dryRun)
			if err != nil {
				return err
			}
			opened, err := openProject(root, templDir)
			if err != nil {
				return err
			}
			project, sum, tfs := opened.FS, opened.Sum, opened.Templates
			opts.NeverCommitted = neverCommitted(root)
			plan, err := generator.PlanDestroyResource(project, opts, tfs)
			if err != nil {
				return err
			}
			return carryOut(reporter{out: con.out, quiet: quiet, colour: con.colour()}, root, plan, sum, dryRun)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Force, "force", false, "delete generated files even if edited since (keeping each edited one's text in FILE"+generator.OldFileSuffix+"), and go on past files or lines already removed")
	f.BoolVar(&dryRun, "dry-run", false, "print the files it would delete and the lines it would remove, and write nothing")
	addQuietFlag(f, &quiet)
	addProjectTemplatesFlag(cmd, &templDir)
	return cmd
}

// recordedResourceNames lists the resources of the project around the working folder, for
// shell completion; outside a project there are none.
func recordedResourceNames() []string {
	m, ok := projectManifest()
	if !ok {
		return nil
	}
	names := make([]string, len(m.Resources))
	for i, r := range m.Resources {
		names[i] = r.Name
	}
	return names
}

// projectManifest reads the manifest of the project around the working folder, for shell
// completion; ok is false outside a project.
func projectManifest() (generator.Manifest, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return generator.Manifest{}, false
	}
	root, err := generator.FindProjectRoot(wd)
	if err != nil {
		return generator.Manifest{}, false
	}
	p, err := generator.Open(root)
	if err != nil {
		return generator.Manifest{}, false
	}
	return p.Manifest, true
}
