package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
)

func newEjectCmd(con console) *cobra.Command {
	var (
		dryRun bool
		quiet  bool
		from   string
	)
	cmd := &cobra.Command{
		Use:   "eject restart",
		Short: "Copy the restart library into the project, to own it",
		Long: `Copy the restart library the project builds with (github.com/gingen/gingen/restart, at the
version its go.mod requires) into internal/restart, point main.go at the copy, drop the
library from go.mod and go.sum, and record the ejection in gingen.yaml. The copy, its tests
included, is yours from then on: no gingen command touches it again, and gingen upgrade keeps
main.go on it. Fixes of the library then reach the project only through your hands.

The library's source is the folder "go list -m" finds for it in the project (the module
cache, or the folder of a replace directive); --from names another. Like upgrade, eject
renders the project with this gingen's templates: run gingen upgrade first if it is older.`,
		Example: `  gingen eject restart --dry-run
  gingen eject restart`,
		Args: usageArgs(func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return errors.New("missing LIBRARY: the only library gingen ejects is restart")
			case len(args) > 1:
				return fmt.Errorf("extra arguments after %s: %s", args[0], strings.Join(args[1:], " "))
			case args[0] != generator.EjectRestart:
				return fmt.Errorf("gingen cannot eject %q: the only library gingen ejects is restart", args[0])
			}
			return nil
		}),
		RunE: func(_ *cobra.Command, _ []string) error {
			return runEject(con, from, dryRun, reporter{out: con.out, quiet: quiet, colour: con.colour()})
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the folder of the restart library to copy (default: the one the project builds with)")
	f.BoolVar(&dryRun, "dry-run", false, "print what would happen to each file, and write nothing")
	addQuietFlag(f, &quiet)
	_ = cmd.RegisterFlagCompletionFunc("from", dirCompletion)
	return cmd
}

func runEject(con console, from string, dryRun bool, r reporter) error {
	root, err := projectRoot(con, dryRun)
	if err != nil {
		return err
	}
	opened, err := openProject(root, "")
	if err != nil {
		return err
	}
	project, sum, tfs := opened.FS, opened.Sum, opened.Templates
	if err := generator.CheckEject(project); err != nil {
		return err
	}
	if from == "" {
		if from, err = restartSource(root); err != nil {
			return err
		}
	}
	plan, err := generator.PlanUpgrade(project, generator.UpgradeOptions{EjectRestart: os.DirFS(from), RestartReplace: restartReplace()}, tfs, nil)
	if err != nil {
		return err
	}
	if err := carryOut(r, root, plan.Plan, sum, dryRun); err != nil {
		return err
	}
	if !dryRun {
		r.printf("ejected: %s is the project's own now, copied from %s; go.mod no longer requires %s\n", generator.EjectDir, from, generator.RestartModule)
	}
	return nil
}

// restartSource is the folder of the restart library the project at root builds with, as the
// go command resolves it there: the module cache (downloaded if need be) or a replace's folder.
func restartSource(root string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-json", generator.RestartModule)
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("eject: find the restart library the project builds with (go list -m %s: %w: %s); run go mod download in the project, or pass --from with the library's folder",
			generator.RestartModule, err, strings.TrimSpace(stderr.String()))
	}
	var mod struct {
		Dir     string
		Replace *struct{ Dir string }
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("eject: read go list -m: %w", err)
	}
	if mod.Replace != nil && mod.Replace.Dir != "" {
		return mod.Replace.Dir, nil
	}
	if mod.Dir == "" {
		// Listed but not downloaded: download it, then ask again.
		dl := exec.Command("go", "mod", "download", "-json", generator.RestartModule)
		dl.Dir = root
		out, err := dl.Output()
		if err != nil {
			return "", fmt.Errorf("eject: download %s: %w; pass --from with the library's folder", generator.RestartModule, err)
		}
		if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
			return "", fmt.Errorf("eject: download %s: no folder; pass --from with the library's folder", generator.RestartModule)
		}
	}
	return mod.Dir, nil
}
