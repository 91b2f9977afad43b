package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/AlecAivazis/survey/v2"
	"github.com/kballard/go-shellquote"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

// newRequest is everything `gingen new` is told, by flags or by the wizard.
type newRequest struct {
	opts      generator.Options
	dir       string
	templates string
	write     generator.WriteOptions
	quiet     bool
	noInput   bool
}

func newNewCmd(con console) *cobra.Command {
	req := newRequest{}
	cmd := &cobra.Command{
		Use:   "new [NAME]",
		Short: "Generate a new gin project",
		Long: `Generate a new gin project in ./NAME (or DIR/NAME with --dir): settings in conf/app.ini,
models on gorm, routers with /healthz and /api/v1, and the chosen restart strategy.

On a terminal, gingen new asks for every value not given by a flag (NAME included), shows a
summary to confirm, and prints the equivalent command line to repeat it in a script.
Without a terminal, or with --no-input (or --yes), it never asks: it takes the defaults,
and a missing NAME is an error.

Restart strategies:
` + optionTable(generator.Strategies(), strategyHelp()) + `
Databases:
` + optionTable(generator.Databases(), databaseHelp()) + `
Authentication of /api/v1:
` + optionTable(generator.Auths(), authHelp()),
		Example: `  gingen new myblog
  gingen new                                   # on a terminal: the wizard asks for everything
  gingen new shop --strategy supervisor --module github.com/acme/shop --port 9000
  gingen new api --strategy systemd --dir ../work
  gingen new myblog --yes                      # defaults, no questions, even on a terminal
  gingen new myblog --templates ./my-templates # your templates over the embedded ones
  gingen new myblog --tracing                  # OpenTelemetry spans over OTLP ([tracing], off until enabled)
  gingen new myblog --dry-run`,
		Args: maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				req.opts.Name = args[0]
			}
			return runNew(c, con, req)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.opts.Strategy, "strategy", generator.DefaultStrategy, "restart strategy: "+strings.Join(generator.Strategies(), ", "))
	f.StringVar(&req.opts.Module, "module", "", "Go module path (default: the project name)")
	f.StringVar(&req.opts.DB, "db", generator.DefaultDB, "database: "+strings.Join(generator.Databases(), ", "))
	f.StringVar(&req.opts.Auth, "auth", generator.DefaultAuth, "authentication of /api/v1: "+strings.Join(generator.Auths(), ", "))
	f.IntVar(&req.opts.Port, "port", generator.DefaultPort, "HTTP port the server listens on (1-65535)")
	f.BoolVar(&req.opts.Tracing, "tracing", false, "render OpenTelemetry tracing (a span per request and per database query, exported over OTLP/HTTP; off until [tracing] Enabled in conf/app.ini); recorded in gingen.yaml")
	f.StringVar(&req.dir, "dir", ".", "parent folder of the new project")
	f.StringVar(&req.templates, "templates", "", "folder of your own templates, laid over the embedded ones file by file (see gingen templates export); recorded in gingen.yaml")
	f.BoolVar(&req.write.DryRun, "dry-run", false, "print the files that would be written and write nothing")
	f.BoolVar(&req.write.Force, "force", false, "write into an existing, non-empty folder: overwrite the files that differ (an edited one keeps its text in FILE.gingen-old), leave identical ones alone")
	addNoInputFlags(f, &req.noInput)
	addQuietFlag(f, &req.quiet)
	_ = cmd.RegisterFlagCompletionFunc("strategy", cobra.FixedCompletions(generator.Strategies(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("db", cobra.FixedCompletions(generator.Databases(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("auth", cobra.FixedCompletions(generator.Auths(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("templates", dirCompletion)
	_ = cmd.RegisterFlagCompletionFunc("dir", dirCompletion)
	return cmd
}

func runNew(c *cobra.Command, con console, req newRequest) error {
	r := reporter{out: con.out, quiet: req.quiet, colour: con.colour()}
	// A folder that holds a gingen project: its gingen.yaml says what it is, not the flags.
	var existing *generator.Manifest
	if req.opts.Name != "" {
		// The name rule first, before the name is used in any path: a name of 10,000
		// characters is told the rule, not the file system's "file name too long".
		if err := generator.ValidateName(req.opts.Name); err != nil {
			return err
		}
		m, err := existingProject(con, filepath.Join(req.dir, req.opts.Name), req.write.DryRun)
		if err != nil {
			return err
		}
		existing = m
	}
	asked := false
	if existing == nil && !req.noInput && con.interactive() && wizardNeeded(c.Flags(), req.opts.Name) {
		// What the command line gives is checked before any question, not after them all.
		given := req.opts
		if given.Name == "" {
			given.Name = "myproject"
		} else if err := checkNewName(given.Name, req.dir, req.write.Force); err != nil {
			return err
		}
		if err := checkOption(given); err != nil {
			return err
		}
		a, err := newAsker(con)
		if err != nil {
			return err
		}
		if err := askProject(a, r, c.Flags(), &req); err != nil {
			return err
		}
		asked = true
		// The name the wizard asked for may be that of a gingen project (with --force).
		m, err := existingProject(con, filepath.Join(req.dir, req.opts.Name), req.write.DryRun)
		if err != nil {
			return err
		}
		existing = m
	}
	if req.opts.Name == "" {
		return &usageError{cmd: c.CommandPath(), err: errors.New("missing project NAME: gingen new NAME, e.g. gingen new myblog (on a terminal, without --no-input, gingen new asks for it)")}
	}
	o := req.opts
	o.Normalize()
	if err := o.Validate(); err != nil {
		return err
	}
	target := filepath.Join(req.dir, o.Name)
	var files []generator.File
	if existing != nil {
		given := func(flag string) bool { return c.Flags().Changed(flag) }
		if asked {
			// Every answer counts as given; the wizard does not ask for templates.
			given = func(flag string) bool { return flag != "templates" || c.Flags().Changed(flag) }
		}
		if err := sameAsManifest(given, req, *existing, target); err != nil {
			return err
		}
		existing.RestartReplace = restartReplace()
		o = existing.Options()
		tfs, err := generator.OpenTemplates(templates.FS(), existing.TemplatesDir(target))
		if err != nil {
			return err
		}
		if files, _, err = generator.RenderProject(*existing, tfs); err != nil {
			return err
		}
	} else {
		tfs, err := generator.OpenTemplates(templates.FS(), req.templates)
		if err != nil {
			return err
		}
		o.RestartReplace = restartReplace()
		if files, err = generator.PlanProject(o, tfs); err != nil {
			return err
		}
		if req.templates != "" {
			if err := generator.RecordTemplates(files, target, req.templates); err != nil {
				return err
			}
		}
	}
	req.write.KeepOld, req.write.Recorded = true, existing
	changes, err := generator.WriteProject(target, files, req.write)
	if err != nil && existing != nil && !req.write.Force {
		// Only the refusal: the files it would write are upgrade's business.
		return fmt.Errorf("folder %s holds the gingen project %s (see its %s); to bring it onto this gingen run gingen upgrade in it, or pass --force to rewrite the files gingen generates in it (its resources and settings are kept)", target, existing.Name, generator.ManifestName)
	}
	kept := 0
	// The listing is written at once: a write to the terminal per file was a system call
	// each, 80 of them for a default project.
	var listing strings.Builder
	lr := r
	lr.out = &listing
	for _, ch := range changes {
		lr.action(ch.Action, filepath.ToSlash(filepath.Join(target, ch.Path)))
		if strings.HasSuffix(ch.Path, generator.OldFileSuffix) {
			kept++
		}
	}
	if listing.Len() > 0 {
		fmt.Fprint(con.out, listing.String())
	}
	if err != nil {
		if notEmpty := (*generator.NotEmptyError)(nil); errors.As(err, &notEmpty) {
			return fmt.Errorf("folder %s already exists and is not empty; choose another name or --dir, or pass --force to overwrite the files gingen generates in it", notEmpty.Dir)
		}
		return err
	}
	if note := restartNote(o.RestartReplace); note != "" {
		r.printf("%s", note)
	}
	if kept > 0 {
		// Printed even with --quiet: it is about the user's work.
		what := fmt.Sprintf("%d files --force overwrites keep their previous text in FILE%s beside them; merge what you want back, then delete those files", kept, generator.OldFileSuffix)
		if kept == 1 {
			what = "1 file --force overwrites keeps its previous text in FILE" + generator.OldFileSuffix + " beside it; merge what you want back, then delete that file"
		}
		fmt.Fprintf(con.out, "note: %s\n", what)
	}
	if req.write.DryRun {
		r.printf("dry run: %d files planned, nothing written\n", len(changes))
	} else {
		r.printf("\n%s", nextSteps(o, target))
	}
	if asked {
		r.printf("\nThe same without questions:\n  %s\n", newCommandLine(o, req))
	}
	return nil
}

// wizardNeeded reports whether a value `gingen new` asks for is missing: one whose flag was
// not given. Values given by flag are never asked again.
func wizardNeeded(flags *pflag.FlagSet, name string) bool {
	if name == "" {
		return true
	}
	for _, f := range askedFlags() {
		if !flags.Changed(f) {
			return true
		}
	}
	return false
}

// askedFlags are the flags whose values the wizard asks for when they are not given.
func askedFlags() []string { return []string{"module", "strategy", "db", "auth", "port"} }

// askProject is the wizard: it asks for each missing value, validating as the user types
// with the rules the flags follow, then shows a summary to confirm.
func askProject(a asker, r reporter, flags *pflag.FlagSet, req *newRequest) error {
	o := &req.opts
	if o.Name == "" {
		err := a.ask(&survey.Input{
			Message: "Project name:",
			Help:    "the folder, the binary and the default module path: letters, digits, '-' and '_', starting with a letter",
		}, &o.Name, validator(func(s string) error { return checkNewName(s, req.dir, req.write.Force) }))
		if err != nil {
			return err
		}
		o.Name = strings.TrimSpace(o.Name)
	}
	if !flags.Changed("module") {
		err := a.ask(&survey.Input{
			Message: "Go module path:",
			Default: o.Name,
			Help:    "the path others import the project by, e.g. github.com/you/" + o.Name,
		}, &o.Module, validator(func(s string) error {
			return checkOption(generator.Options{Name: o.Name, Module: s})
		}))
		if err != nil {
			return err
		}
	}
	choices := []struct {
		flag, message string
		options       []string
		help          map[string]string
		value         *string
	}{
		{"strategy", "Restart strategy:", generator.Strategies(), strategyHelp(), &o.Strategy},
		{"db", "Database:", generator.Databases(), databaseHelp(), &o.DB},
		{"auth", "Authentication of /api/v1:", generator.Auths(), authHelp(), &o.Auth},
	}
	for _, c := range choices {
		if flags.Changed(c.flag) || len(c.options) < 2 {
			continue // given, or nothing to choose
		}
		err := a.ask(&survey.Select{
			Message:     c.message,
			Options:     c.options,
			Default:     *c.value,
			Description: describe(c.help),
		}, c.value, nil)
		if err != nil {
			return err
		}
	}
	if !flags.Changed("port") {
		var port string
		err := a.ask(&survey.Input{
			Message: "HTTP port:",
			Default: strconv.Itoa(o.Port),
		}, &port, validator(func(s string) error {
			_, err := parsePort(s, o.Name)
			return err
		}))
		if err != nil {
			return err
		}
		if o.Port, err = parsePort(strings.TrimSpace(port), o.Name); err != nil {
			return err
		}
	}
	summary := *o
	summary.Normalize()
	r.printf("\n%s", projectSummary(summary, filepath.Join(req.dir, summary.Name)))
	confirmed := false
	if err := a.ask(&survey.Confirm{Message: "Generate it?", Default: true}, &confirmed, nil); err != nil {
		return err
	}
	if !confirmed {
		return errors.New("not confirmed; nothing written")
	}
	return nil
}

// checkNewName validates a project name as the wizard gets it: the name rules, and a
// folder that does not exist yet (or is empty), unless --force.
func checkNewName(name, dir string, force bool) error {
	if err := generator.ValidateName(name); err != nil {
		return err
	}
	target := filepath.Join(dir, name)
	if entries, err := os.ReadDir(target); err == nil && len(entries) > 0 && !force {
		return fmt.Errorf("folder %s already exists and is not empty; pick another name, or pass --force to overwrite the files gingen generates in it", target)
	}
	return nil
}

// checkOption validates one value with the rules of the flags; the fields left empty get
// their defaults.
func checkOption(o generator.Options) error {
	if o.Port == 0 {
		o.Port = generator.DefaultPort
	}
	o.Normalize()
	return o.Validate()
}

// parsePort reads a port typed into the wizard.
func parsePort(s, name string) (int, error) {
	port, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number; type a number from 1 to 65535", s)
	}
	return port, checkOption(generator.Options{Name: name, Port: port})
}

// projectSummary lists the values the wizard collected.
func projectSummary(o generator.Options, target string) string {
	rows := [][2]string{
		{"name", o.Name},
		{"folder", target},
		{"module", o.Module},
		{"strategy", o.Strategy},
		{"database", o.DB},
		{"auth", o.Auth},
		{"port", strconv.Itoa(o.Port)},
	}
	var b strings.Builder
	b.WriteString("Project:\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "  %-9s %s\n", row[0], row[1])
	}
	return b.String()
}

// newCommandLine is the command that does what the wizard just did, with no question.
func newCommandLine(o generator.Options, req newRequest) string {
	args := []string{"gingen", "new", o.Name,
		"--module", o.Module, "--strategy", o.Strategy, "--db", o.DB, "--auth", o.Auth, "--port", strconv.Itoa(o.Port)}
	if o.Tracing {
		args = append(args, "--tracing")
	}
	if req.dir != "." {
		args = append(args, "--dir", req.dir)
	}
	if req.templates != "" {
		args = append(args, "--templates", req.templates)
	}
	if req.write.Force {
		args = append(args, "--force")
	}
	if req.write.DryRun {
		args = append(args, "--dry-run")
	}
	return shellquote.Join(args...)
}

// optionTable formats options with their descriptions for a help text.
func optionTable(options []string, help map[string]string) string {
	var b strings.Builder
	for _, o := range options {
		fmt.Fprintf(&b, "  %-11s %s\n", o, help[o])
	}
	return b.String()
}

// existingProject reads the gingen.yaml of the folder a new project goes into, after finishing
// or undoing a change an interrupted gingen left there (recoverProject: not with dryRun); nil
// when the folder has none.
func existingProject(con console, target string, dryRun bool) (*generator.Manifest, error) {
	if _, err := os.Stat(filepath.Join(target, generator.ManifestName)); errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err := recoverProject(con, target, dryRun); err != nil {
		return nil, err
	}
	p, err := generator.Open(target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	return &p.Manifest, nil
}

// sameAsManifest checks the flags given to gingen new against the gingen.yaml of the project
// already in the folder: a flag that disagrees is one line naming the difference and the fix.
func sameAsManifest(given func(flag string) bool, req newRequest, m generator.Manifest, target string) error {
	opts := req.opts
	opts.Normalize()
	recorded := m.Options()
	manifest := filepath.Join(target, generator.ManifestName)
	if m.Name != opts.Name {
		return fmt.Errorf("folder %s holds the gingen project %q (see %s), not %q; pick another folder", target, m.Name, manifest, opts.Name)
	}
	type setting struct {
		flag, given, recorded, fix string
	}
	upgrade := fmt.Sprintf("change %%s: in %s, then run gingen upgrade in %s", manifest, target)
	for _, s := range []setting{
		{"strategy", opts.Strategy, recorded.Strategy, fmt.Sprintf("switch with: cd %s && gingen upgrade --strategy %s", target, opts.Strategy)},
		{"db", opts.DB, recorded.DB, "gingen cannot move a project to another database"},
		{"auth", opts.Auth, recorded.Auth, "gingen cannot change the auth of a project"},
		{"module", opts.Module, recorded.Module, fmt.Sprintf(upgrade, "module")},
		{"port", strconv.Itoa(opts.Port), strconv.Itoa(recorded.Port), fmt.Sprintf(upgrade, "port")},
		{"templates", absPath(req.templates), absPath(m.TemplatesDir(target)), fmt.Sprintf(upgrade, "templates")},
		{"tracing", strconv.FormatBool(opts.Tracing), strconv.FormatBool(recorded.Tracing), fmt.Sprintf("switch with: cd %s && gingen upgrade --tracing=%t", target, opts.Tracing)},
	} {
		if given(s.flag) && s.given != s.recorded {
			return fmt.Errorf("%s records %s %q, but --%s %s was given; gingen new --force keeps the project's settings: drop --%s, or %s", manifest, s.flag, s.recorded, s.flag, s.given, s.flag, s.fix)
		}
	}
	return nil
}

// absPath is path made absolute, for comparing two spellings of a folder; "" stays "".
func absPath(path string) string {
	if path == "" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
