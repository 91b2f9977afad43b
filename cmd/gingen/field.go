package main

import (
	"io/fs"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
)

func newAddFieldCmd(con console) *cobra.Command {
	var (
		opts     generator.FieldOptions
		dryRun   bool
		quiet    bool
		templDir string
	)
	cmd := &cobra.Command{
		Use:   "field RESOURCE field:type[:modifier]...",
		Short: "Add fields to a resource: a migration, and its model, handlers and tests again",
		Long: `Add fields to a resource that gingen add resource made: write a migration that adds their
columns (db/migrations/NNNNN_add_..._to_PLURAL.sql; each NOT NULL column defaults to its
type's zero value, for the rows already in the table and for those the previous generation
inserts during a restart), and write the resource's model, handlers and tests again from the resource
templates with the longer field list, which gingen.yaml records. "gingen destroy field
RESOURCE NAME..." undoes it exactly.

A resource file you edited since gets the change merged into your text (as gingen upgrade
merges); an edit on the lines the change rewrites stops the command, naming the file, unless
--force is given (it writes the file again and keeps your text in FILE.gingen-old). Fields
are written as for add resource; references fields cannot be added to a table that may
already have rows. Modifiers: unique, index, required, optional, and search (string and text
only: lists search the field with ?q=text).`,
		Example: `  gingen add field article subtitle:string:optional rating:int
  gingen add field tag color:string --dry-run
  gingen add field article summary:text:search`,
		Args:              nameRequired("name the resource and the fields to add, e.g. gingen add field article subtitle:string", minArgs(2)),
		ValidArgsFunction: completeFieldArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Resource, opts.Fields = args[0], args[1:]
			return runFieldPlan(con, templDir, quiet, dryRun, func(root string, project, tfs fs.FS) (generator.Plan, error) {
				return generator.PlanAddField(project, opts, tfs)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Force, "force", false, "write the resource's files again even if edited since, keeping each edited one's text in FILE"+generator.OldFileSuffix)
	f.BoolVar(&dryRun, "dry-run", false, "print the files it would write, and write nothing")
	addQuietFlag(f, &quiet)
	addProjectTemplatesFlag(cmd, &templDir)
	return cmd
}

func newDestroyFieldCmd(con console) *cobra.Command {
	var (
		opts     generator.DestroyFieldOptions
		dryRun   bool
		quiet    bool
		templDir string
	)
	cmd := &cobra.Command{
		Use:   "field RESOURCE NAME...",
		Short: "Remove fields exactly as gingen add field added them",
		Long: `Undo one "gingen add field": delete its migration and write the resource's files again
without the fields, so that the project is as it was before the add. NAME... are the names of
all the fields that one add field added. Fields made by add resource are not removed: destroy
field undoes only add field.

A resource file edited since gets the change merged into it; an edit that conflicts stops the
command, naming the file, unless --force is given. The add's migration may have run in
databases gingen cannot see, so it stays and a new migration
(db/migrations/NNNNN_drop_NAMES_from_PLURAL.sql) drops the columns: every database that
applies it loses their values, and only theirs; the command says so before it acts. Only a
migration that never left the working tree (the project is a git work tree and no commit has
the file) and is the newest migration is deleted instead.`,
		Example: `  gingen destroy field article subtitle rating
  gingen destroy field tag color --dry-run`,
		Args:              nameRequired("name the resource and the fields to destroy, e.g. gingen destroy field article subtitle", minArgs(2)),
		ValidArgsFunction: completeAddedFields,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Resource, opts.Names = args[0], args[1:]
			return runFieldPlan(con, templDir, quiet, dryRun, func(root string, project, tfs fs.FS) (generator.Plan, error) {
				opts.NeverCommitted = neverCommitted(root)
				return generator.PlanDestroyField(project, opts, tfs)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Force, "force", false, "write the resource's files again and delete the migration even if edited since, keeping each edited one's text in FILE"+generator.OldFileSuffix)
	f.BoolVar(&dryRun, "dry-run", false, "print the files it would write and delete, and write nothing")
	addQuietFlag(f, &quiet)
	addProjectTemplatesFlag(cmd, &templDir)
	return cmd
}

// runFieldPlan plans a field command in the project the working folder is in, reading the
// project through the confined file system (no link leads out of it) and the templates
// gingen.yaml records unless templDir is given, then carries the plan out.
func runFieldPlan(con console, templDir string, quiet, dryRun bool, planFn func(root string, project, tfs fs.FS) (generator.Plan, error)) error {
	root, err := projectRoot(con, dryRun)
	if err != nil {
		return err
	}
	opened, err := openProject(root, templDir)
	if err != nil {
		return err
	}
	project, sum, tfs := opened.FS, opened.Sum, opened.Templates
	plan, err := planFn(root, project, tfs)
	if err != nil {
		return err
	}
	return carryOut(reporter{out: con.out, quiet: quiet, colour: con.colour()}, root, plan, sum, dryRun)
}

// completeFieldArgs completes add field: the project's resources first, then field specs.
func completeFieldArgs(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		var out []string
		for _, r := range recordedResourceNames() {
			if strings.HasPrefix(r, toComplete) {
				out = append(out, r)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	return completeFieldSpec(c, args, toComplete)
}

// completeAddedFields completes destroy field: the project's resources, then the fields add
// field added to the resource named, not given yet.
func completeAddedFields(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var candidates []string
	if len(args) == 0 {
		candidates = recordedResourceNames()
	} else if m, ok := projectManifest(); ok {
		for _, r := range m.Resources {
			if r.Name != args[0] {
				continue
			}
			for _, c := range r.FieldChanges {
				for _, f := range c.Fields {
					if !slices.Contains(args[1:], f) {
						candidates = append(candidates, f)
					}
				}
			}
		}
	}
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(c, toComplete) {
			out = append(out, c)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
