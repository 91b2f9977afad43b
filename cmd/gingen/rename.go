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
		Example: "  gingen rename field article title headline\n  gingen rename resource article post",
		RunE:    kindRequired("rename", "gingen rename field article title headline"),
	}
	cmd.AddCommand(newRenameFieldCmd(con), newRenameResourceCmd(con))
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
are named after them. An edited resource file gets the rename merged into it; an edit that
conflicts stops the command, naming the file, unless --force is given.`,
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
	f.BoolVar(&opts.Force, "force", false, "write the resource's files again even if edited since, keeping each edited one's text in FILE"+generator.OldFileSuffix)
	f.BoolVar(&dryRun, "dry-run", false, "print the files it would write, and write nothing")
	addQuietFlag(f, &quiet)
	addProjectTemplatesFlag(cmd, &templDir)
	return cmd
}

func newRenameResourceCmd(con console) *cobra.Command {
	var (
		opts     generator.RenameResourceOptions
		dryRun   bool
		quiet    bool
		templDir string
	)
	cmd := &cobra.Command{
		Use:   "resource OLD NEW",
		Short: "Rename a resource: a migration that keeps its rows, its code and routes under the new name",
		Long: `Rename a resource that gingen add resource made: write a migration that renames its table
(db/migrations/NNNNN_rename_OLD_PLURAL_to_NEW_PLURAL.sql: ALTER TABLE ... RENAME TO, with the
indexes and foreign keys gingen named after the table; its down renames them back), so that
every row stays, and the foreign keys of the resources that reference it follow it. The
resource's model, handlers and tests are written under the new name and those under the old
one deleted; its registration lines change in place; the resources that reference it are
written again (their field keeps its name and column, the relation's type and table change);
and the OpenAPI document. gingen.yaml records the rename. "gingen rename resource NEW OLD"
renames it back, with a migration of its own.

The routes move from /api/v1/OLD_PLURAL to /api/v1/NEW_PLURAL: a breaking change for the
API's clients (the note says so before acting), and the old paths answer 404 (see the README
on how to tell old clients). An edited file of the resource or of one that references it
gets the rename merged into it; an edit that conflicts stops the command, naming the file,
unless --force is given.`,
		Example: `  gingen rename resource article post
  gingen rename resource person member --dry-run
  gingen rename resource person person --plural persons`,
		Args:              nameRequired("name the resource and its new name, e.g. gingen rename resource article post", exactArgs(2)),
		ValidArgsFunction: completeRenameResource,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			return runFieldPlan(con, templDir, quiet, dryRun, func(_ string, project, tfs fs.FS) (generator.Plan, error) {
				return generator.PlanRenameResource(project, opts, tfs)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Plural, "plural", "", "the new name's plural (its table and routes), when not the one gingen derives")
	f.BoolVar(&opts.Force, "force", false, "write the files of the resource and of those that reference it again even if edited since, keeping each edited one's text in FILE"+generator.OldFileSuffix)
	f.BoolVar(&dryRun, "dry-run", false, "print the files it would write, and write nothing")
	addQuietFlag(f, &quiet)
	addProjectTemplatesFlag(cmd, &templDir)
	return cmd
}

// completeRenameResource completes rename resource: the project's resources, for OLD.
func completeRenameResource(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if len(args) == 0 {
		for _, r := range recordedResourceNames() {
			if strings.HasPrefix(r, toComplete) {
				out = append(out, r)
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
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
