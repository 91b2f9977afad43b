package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
)

func newDiffCmd(con console) *cobra.Command {
	var (
		base     string
		exitCode bool
	)
	cmd := &cobra.Command{
		Use:   "diff [FILE...]",
		Short: "Show what the templates would change in each file today, as a unified diff",
		Long: `Plan "gingen upgrade" and print, for each file it would change, a unified diff from the file
on disk to the text this gingen's templates give it: what upgrade writes into the file
(update, merge, force), creates or deletes; for a conflict, the text it writes to
FILE` + generator.SideFileSuffix + `; for a migration (never rewritten), the templates' text. Files
upgrade keeps as they are print nothing. With FILE arguments (paths from the current folder),
only those; gingen.yaml only when named. Nothing is written.

The diff has git's a/ and b/ prefixes. Exit status 0, or with --exit-code 1 when there is a
difference, as "git diff --exit-code".`,
		Example: `  gingen diff
  gingen diff main.go routers/router.go
  gingen diff --exit-code >/dev/null || echo "the templates would change something"`,
		Args: minArgs(0),
		RunE: func(_ *cobra.Command, args []string) error {
			var opts generator.UpgradeOptions
			if base != "" {
				tfs, err := generator.TemplatesFolder(base)
				if err != nil {
					return fmt.Errorf("open --base-templates %s: %w", base, err)
				}
				opts.BaseTemplates = tfs
			}
			return runDiff(con, opts, args, exitCode)
		},
	}
	f := cmd.Flags()
	f.StringVar(&base, "base-templates", "", "the templates the project was generated with, exported by that gingen (gingen templates export DIR), when this gingen has them not")
	f.BoolVar(&exitCode, "exit-code", false, "exit with status 1 when the templates would change a file, 0 when not (git diff --exit-code)")
	_ = cmd.RegisterFlagCompletionFunc("base-templates", dirCompletion)
	return cmd
}

func runDiff(con console, opts generator.UpgradeOptions, args []string, exitCode bool) error {
	// Like a dry run: never settles a pending change, writes nothing.
	up, err := planUpgrade(con, opts, true)
	if err != nil {
		return err
	}
	only, err := projectPaths(up.root, args)
	if err != nil {
		return err
	}
	diffs, err := generator.UpgradeDiffs(up.project, up.plan, only)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprint(con.out, d.Diff)
	}
	if exitCode && len(diffs) > 0 {
		return exitStatusError(exitFailure)
	}
	return nil
}

// projectPaths turns FILE arguments, relative to the current folder, into slash-separated
// paths from the project's root; one outside the project is an input error.
func projectPaths(root string, args []string) ([]string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		abs := a
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(wd, a)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("%s is outside the project %s; name a file inside it, e.g. gingen diff main.go", a, root)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out, nil
}
