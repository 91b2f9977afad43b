package main

import (
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
)

func newRenameCmd(con console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rename KIND ...",
		Short: "Rename what gingen added, keeping the data",
		Long: `Rename what "gingen add" made in the gingen project in the current folder, with a migration
that renames it in the database, so that every row keeps its values.`,
		Example: "  gingen rename field article title headline",
		RunE:    kindRequired("rename", "gingen rename field article title headline"),
	}
	cmd.AddCommand(newRenameFieldCmd(con))
	return cmd
}

func newRenameFieldCmd(con console) *cobra.Command {
	var (
		opts     generator.RenameFieldOptions
		dryRun   bool
		quiet    bool
		templDir string
	)
	cmd := &cobra.Command{
		Use:   "field RESOURCE OLD NEW",
		Short: "Rename a field of a resource: a migration that keeps its values, and the code again",
		Long: `Rename a field of a resource that gingen add resource made: write a migration that renames
its column (db/migrations/NNNNN_rename_OLD_to_NEW_in_PLURAL.sql: ALTER TABLE ... RENAME
COLUMN, its index renamed with it; its down renames them back), so that every row keeps
its value, and write the resource's model, handlers, tests and the OpenAPI document again
with the new name, which gingen.yaml records. "gingen rename field RESOURCE NEW OLD" renames
it back, with a migration of its own.

The JSON key and the query parameters (filters, sort) take the new name: clients that use
the old one must change with it, a breaking change of the resource's API (the note says so
before acting). References fields are not renamed: their column, foreign key and relation
are named after them. An edited resource file stops the command, naming it, unless --force
is given.`,
		Example: `  gingen rename field article title headline
  gingen rename field tag color colour --dry-run`,
		Args:              nameRequired("name the resource, the field and its new name, e.g. gingen rename field article title headline", exactArgs(3)),
		ValidArgsFunction: completeRenameField,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Resource, opts.Old, opts.New = args[0], args[1], args[2]
			return runFieldPlan(con, templDir, quiet, dryRun, func(_ string, project, tfs fs.FS) (generator.Plan, error) {
				return generator.PlanRenameField(project, opts, tfs)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Force, "force", false, "write the resource's files again even if edited since, losing the edits")
	f.BoolVar(&dryRun, "dry-run", false, "print the files it would write, and write nothing")
	addQuietFlag(f, &quiet)
	addProjectTemplatesFlag(cmd, &templDir)
	return cmd
}

// completeRenameField completes rename field: the project's resources, then the fields of
// the resource named.
func completeRenameField(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var candidates []string
	switch len(args) {
	case 0:
		candidates = recordedResourceNames()
	case 1:
		if m, ok := projectManifest(); ok {
			for _, r := range m.Resources {
				if r.Name == args[0] {
					for _, f := range r.Fields {
						candidates = append(candidates, f.Name)
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
