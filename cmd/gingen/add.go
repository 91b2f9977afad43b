package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

func newAddCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add KIND ...",
		Short: "Add code to the gingen project in the current folder",
		Long: `Add code to the gingen project in the current folder (or the project around it: the
nearest folder above that holds gingen.yaml).`,
		Example: "  gingen add resource article title:string body:text published:bool",
		RunE:    kindRequired("add", "gingen add resource article title:string"),
	}
	cmd.AddCommand(newAddResourceCmd())
	return cmd
}

func newAddResourceCmd() *cobra.Command {
	var (
		opts   generator.ResourceOptions
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "resource NAME [field:type[:modifier]...]",
		Short: "Add a CRUD resource: model, handlers, routes and their tests",
		Long: `Add a resource to the project: models/NAME.go (a gorm model, migrated at start),
routers/api/v1/NAME.go (list, get, create, update, delete under /api/v1/PLURAL) and
routers/api/v1/NAME_test.go, registered at the gingen:models and gingen:routes markers and
recorded in gingen.yaml, so that "gingen destroy resource NAME" can undo it.

NAME is a singular snake_case name; its plural comes from an inflection library
(category -> categories, person -> people) unless --plural is given.

Field types: ` + strings.Join(generator.FieldTypes(), ", ") + `.
  string is at most 255 characters; text is unbounded; float is float64; time is RFC 3339 in
  JSON; "author:references" adds author_id, a foreign key to the existing resource author.
Modifiers: ` + strings.Join(generator.FieldModifiers(), ", ") + `.
  unique is enforced by the database and a taken value is answered 409; string, text and
  references fields are required unless marked optional, the other types optional unless
  marked required.`,
		Example: `  gingen add resource article title:string body:text published:bool views:int published_at:time
  gingen add resource tag name:string:unique
  gingen add resource comment article:references author:string body:text
  gingen add resource person name:string --plural persons --dry-run`,
		Args: minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name, opts.Fields = args[0], args[1:]
			root, err := projectRoot()
			if err != nil {
				return err
			}
			plan, err := generator.PlanAddResource(os.DirFS(root), opts, templates.FS())
			if err != nil {
				return err
			}
			return carryOut(c.OutOrStdout(), root, plan, dryRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Plural, "plural", "", "plural of NAME, for the routes and the table (default: derived from NAME)")
	f.BoolVar(&dryRun, "dry-run", false, "print the files it would create and the lines it would insert, and write nothing")
	return cmd
}

// projectRoot finds the gingen project the working folder is in.
func projectRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the project: %w", err)
	}
	return generator.FindProjectRoot(wd)
}

// carryOut prints a plan's steps and, unless dryRun, applies it.
func carryOut(out io.Writer, root string, plan generator.Plan, dryRun bool) error {
	for _, s := range plan.Steps {
		fmt.Fprintln(out, s)
	}
	if dryRun {
		fmt.Fprintln(out, "dry run: nothing written")
		return nil
	}
	return plan.Apply(root)
}

// kindRequired is the RunE of a command whose subcommand is missing or unknown.
func kindRequired(verb, example string) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		var kinds []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				kinds = append(kinds, sub.Name())
			}
		}
		if len(args) == 0 {
			return &usageError{cmd: c.CommandPath(), err: fmt.Errorf("say what to %s: %s, e.g. %s", verb, strings.Join(kinds, ", "), example)}
		}
		return &usageError{cmd: c.CommandPath(), err: fmt.Errorf("unknown kind %q for %s; use one of %s, e.g. %s", args[0], c.CommandPath(), strings.Join(kinds, ", "), example)}
	}
}

// minArgs is cobra.MinimumNArgs whose error is a usage error.
func minArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(c, args); err != nil {
			return &usageError{cmd: c.CommandPath(), err: err}
		}
		return nil
	}
}
