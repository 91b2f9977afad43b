package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gingen/gingen/generator"
	"github.com/gingen/gingen/templates"
)

func newTemplatesCmd(con console) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "templates KIND ...",
		Short: "Work with the templates gingen renders",
		Long: `gingen renders embedded templates: project/base for every project, project/<strategy> laid
over it, and resource for "gingen add resource". Export them, edit the ones you want to change
(or add new files), and pass the folder with --templates: your files replace the embedded ones
of the same path, file by file; the others stay embedded.`,
		Example: "  gingen templates export ./my-templates",
		RunE:    kindRequired("do with the templates", "gingen templates export ./my-templates"),
	}
	cmd.AddCommand(newTemplatesExportCmd(con))
	return cmd
}

func newTemplatesExportCmd(con console) *cobra.Command {
	var (
		write generator.WriteOptions
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "export DIR",
		Short: "Write the embedded templates into DIR, to edit and pass back with --templates",
		Long: `Write the embedded templates into DIR: DIR/project/base, DIR/project/<strategy> and
DIR/resource, one file per output file, named like it plus .tmpl ("__name__" in a path stands
for the project or resource name). Templates are Go text/template files; the data they see is
generator.ProjectData and generator.ResourceData.

Keep only the files you change: a file missing from DIR is taken from the embedded templates,
so your folder keeps working when gingen's templates improve.

Then: gingen new NAME --templates DIR (recorded in the project's gingen.yaml, so that later
gingen add resource commands use DIR too), or gingen add resource ... --templates DIR.`,
		Example: `  gingen templates export ./my-templates
  gingen new myblog --templates ./my-templates
  gingen templates export ./my-templates --force   # back to the embedded versions`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			r := reporter{out: con.out, quiet: quiet, colour: con.colour()}
			files, err := generator.TemplateFiles(templates.FS())
			if err != nil {
				return err
			}
			dir := args[0]
			changes, err := generator.WriteProject(dir, files, write)
			for _, ch := range changes {
				r.action(ch.Action, filepath.ToSlash(filepath.Join(dir, ch.Path)))
			}
			if notEmpty := (*generator.NotEmptyError)(nil); errors.As(err, &notEmpty) {
				return fmt.Errorf("folder %s already exists and is not empty; export into another folder (gingen templates export DIR), or pass --force to overwrite the templates in it with the embedded ones", notEmpty.Dir)
			}
			if err != nil {
				return err
			}
			if write.DryRun {
				r.printf("dry run: %d files planned, nothing written\n", len(changes))
				return nil
			}
			r.printf("\nEdit what you want to change, delete the rest, then:\n  gingen new NAME --templates %s\n", dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&write.DryRun, "dry-run", false, "print the files that would be written and write nothing")
	f.BoolVar(&write.Force, "force", false, "write into an existing, non-empty folder: overwrite the files that differ")
	addQuietFlag(f, &quiet)
	return cmd
}
