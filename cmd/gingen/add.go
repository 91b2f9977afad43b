package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/kballard/go-shellquote"
	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
)

func newAddCmd(con console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add KIND ...",
		Short: "Add code to the gingen project in the current folder",
		Long: `Add code to the gingen project in the current folder (or the project around it: the
nearest folder above that holds gingen.yaml).`,
		Example: "  gingen add resource article title:string body:text published:bool",
		RunE:    kindRequired("add", "gingen add resource article title:string"),
	}
	cmd.AddCommand(newAddResourceCmd(con), newAddFieldCmd(con))
	return cmd
}

func newAddResourceCmd(con console) *cobra.Command {
	req := addRequest{}
	cmd := &cobra.Command{
		Use:   "resource NAME [field:type[:modifier]...]",
		Short: "Add a CRUD resource: model, handlers, routes and their tests",
		Long: `Add a resource to the project: models/NAME.go (a gorm model),
db/migrations/NNNNN_create_PLURAL.sql (the migration that creates its table, applied at
start), routers/api/v1/NAME.go (list, get, create, update, delete under /api/v1/PLURAL) and
routers/api/v1/NAME_test.go, registered at the gingen:models and gingen:routes markers and
recorded in gingen.yaml, so that "gingen destroy resource NAME" can undo it. Fields added
later: "gingen add field NAME field:type...". With --events, each create, update and
delete also writes an event to the project's outbox table in the same transaction, served
live at /api/v1/PLURAL/events (server-sent events, resumable with Last-Event-ID) and
/api/v1/PLURAL/events/ws (a websocket).

NAME is a singular snake_case name; its plural comes from an inflection library
(category -> categories, person -> people) unless --plural is given.

With no field on a terminal, it asks for the fields one by one (name, type, modifiers),
checking each as the field:type[:modifier] syntax is checked, then prints the equivalent
command line. Without a terminal, or with --no-input, it adds the resource with no field.

The resource templates are the embedded ones, with the folder given by --templates, or else
by the templates: key of gingen.yaml (relative to the project), laid over them.

Field types: ` + strings.Join(generator.FieldTypes(), ", ") + `.
  string is at most 255 characters; text is unbounded; float is float64; time is RFC 3339 in
  JSON; "author:references" adds author_id, a foreign key to the existing resource author.
Modifiers: ` + strings.Join(generator.FieldModifiers(), ", ") + `.
  unique is enforced by the database and a taken value is answered 409; string, text and
  references fields are required unless marked optional, the other types optional unless
  marked required; search (string and text only) makes lists search the field with ?q=text
  (case-insensitive substring, LIKE with % and _ escaped); owner, on a reference to the
  users table of --auth jwt (owner:references:user:owner), sets it from the token on create
  and lets each user see, change and delete only their own rows (404 for the others').`,
		Example: `  gingen add resource article title:string body:text published:bool views:int published_at:time
  gingen add resource tag name:string:unique
  gingen add resource post title:string:search body:text:search
  gingen add resource comment article:references author:string body:text
  gingen add resource note owner:references:user:owner title:string   # --auth jwt projects
  gingen add resource order item:string quantity:int --events
  gingen add resource person name:string --plural persons --dry-run
  gingen add resource note                     # on a terminal: asks for the fields`,
		Args:              nameRequired("give the resource a singular snake_case name, e.g. gingen add resource article title:string body:text", nil),
		ValidArgsFunction: completeFieldSpec,
		RunE: func(_ *cobra.Command, args []string) error {
			req.opts.Name, req.opts.Fields = args[0], args[1:]
			return runAddResource(con, req)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.opts.Plural, "plural", "", "plural of NAME, for the routes and the table (default: derived from NAME)")
	f.BoolVar(&req.opts.Events, "events", false, "record every create, update and delete in the outbox table and serve them live at /api/v1/PLURAL/events (server-sent events) and /api/v1/PLURAL/events/ws (websocket)")
	f.BoolVar(&req.opts.Force, "force", false, "write the template's text into a file whose edits conflict with the lines the resource changes there (a registration line beside an edited one), keeping yours in FILE"+generator.OldFileSuffix)
	f.BoolVar(&req.dryRun, "dry-run", false, "print the files it would create and the lines it would insert, and write nothing")
	addNoInputFlags(f, &req.noInput)
	addQuietFlag(f, &req.quiet)
	addProjectTemplatesFlag(cmd, &req.templates)
	return cmd
}

// addRequest is everything `gingen add resource` is told, by flags or by the field wizard.
type addRequest struct {
	opts      generator.ResourceOptions
	templates string
	dryRun    bool
	quiet     bool
	noInput   bool
}

func runAddResource(con console, req addRequest) error {
	r := reporter{out: con.out, quiet: req.quiet, colour: con.colour()}
	root, err := projectRoot(con, req.dryRun)
	if err != nil {
		return err
	}
	opened, err := openProject(root, req.templates)
	if err != nil {
		return err
	}
	project, sum, tfs := opened.FS, opened.Sum, opened.Templates
	// Planned before any question: a bad NAME fails at once.
	plan, err := generator.PlanAddResource(project, req.opts, tfs)
	if err != nil {
		return err
	}
	asked := false
	if len(req.opts.Fields) == 0 && !req.noInput && con.interactive() {
		a, err := newAsker(con)
		if err != nil {
			return err
		}
		check := func(fields []string) error {
			o := req.opts
			o.Fields = fields
			_, err := generator.PlanAddResource(project, o, tfs)
			return err
		}
		if req.opts.Fields, err = askFields(a, r, check); err != nil {
			return err
		}
		if plan, err = generator.PlanAddResource(project, req.opts, tfs); err != nil {
			return err
		}
		asked = true
	}
	if err := carryOut(r, root, plan, sum, req.dryRun); err != nil {
		return err
	}
	if asked {
		r.printf("\nThe same without questions:\n  %s\n", addResourceCommandLine(req))
	}
	return nil
}

// addResourceCommandLine is the command that adds what the field wizard just added.
func addResourceCommandLine(req addRequest) string {
	args := append([]string{"gingen", "add", "resource", req.opts.Name}, req.opts.Fields...)
	if req.opts.Plural != "" {
		args = append(args, "--plural", req.opts.Plural)
	}
	if req.opts.Events {
		args = append(args, "--events")
	}
	if req.templates != "" {
		args = append(args, "--templates", req.templates)
	}
	if req.opts.Force {
		args = append(args, "--force")
	}
	if req.dryRun {
		args = append(args, "--dry-run")
	}
	return shellquote.Join(args...)
}

// completeFieldSpec completes add resource's field arguments: after "name:" the field
// types, after "name:type:" the modifiers not given yet; a bare word is offered the
// project's resources as references.
func completeFieldSpec(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	parts := strings.Split(toComplete, ":")
	var candidates []string
	switch len(parts) {
	case 1:
		for _, r := range recordedResourceNames() {
			candidates = append(candidates, r+":"+generator.TypeReferences)
		}
	case 2:
		for _, t := range generator.FieldTypes() {
			candidates = append(candidates, parts[0]+":"+t)
		}
	default:
		given := parts[2 : len(parts)-1]
		prefix := strings.Join(parts[:len(parts)-1], ":") + ":"
		for _, m := range generator.FieldModifiers() {
			if !slices.Contains(given, m) {
				candidates = append(candidates, prefix+m)
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

// projectRoot finds the gingen project the working folder is in, and first finishes or undoes
// any change an interrupted gingen left in it (saying so on stderr); with dryRun, it refuses
// to go on while such a change is pending instead (see recoverProject).
func projectRoot(con console, dryRun bool) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the project: %w", err)
	}
	root, err := generator.FindProjectRoot(wd)
	if err != nil {
		return "", err
	}
	return root, recoverProject(con, root, dryRun)
}

// recoverProject finishes or undoes a change an interrupted gingen left in the project at root.
// A dry run never does: while a change is pending it names it and fails, since what it would
// print depends on how that change ends. A journal gingen did not write (a cloned repository
// can ship one) is never acted on: the command fails with one line saying what to remove.
func recoverProject(con console, root string, dryRun bool) error {
	if dryRun {
		pending, err := generator.Pending(root)
		if err != nil {
			return err
		}
		if pending != "" {
			return fmt.Errorf("%s: an interrupted gingen command left a change pending, and --dry-run neither finishes nor undoes it; run the command without --dry-run (it settles that change first), then dry-run again", pending)
		}
		return nil
	}
	rec, err := generator.Recover(root)
	if err != nil {
		return err
	}
	if rec == generator.RecoveryBack || rec == generator.RecoveryForward {
		fmt.Fprintf(con.errOut, "gingen: an earlier gingen command in %s was interrupted; its change was %s\n", root, rec)
	}
	return nil
}

// carryOut prints a plan's steps and, unless dryRun, applies it. Ctrl-C or SIGTERM before
// the change's commit point rolls it back (exit 130); after it, the change is finished.
//
// sum is the SHA-256 of gingen.yaml read before the plan was made (generator.Project.Sum):
// if another gingen command changed the project since, nothing is written.
func carryOut(r reporter, root string, plan generator.Plan, sum string, dryRun bool) error {
	plan.ManifestSum = sum
	for _, s := range plan.Steps {
		r.step(s)
	}
	for _, n := range plan.Notes {
		// Printed even with --quiet: it is about the user's data.
		fmt.Fprintf(r.out, "note: %s\n", n)
	}
	if dryRun {
		r.printf("dry run: nothing written\n")
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := plan.ApplyContext(ctx, root); err != nil {
		if errors.Is(err, generator.ErrInterrupted) {
			return interruptedError{}
		}
		return err
	}
	return nil
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
