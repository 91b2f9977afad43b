package migrate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"myblog/models"
	"myblog/pkg/setting"
)

// Usage is the `migrate` subcommand's synopsis.
const Usage = `usage: myblog [-config FILE] migrate up|down|status
  up                   apply every pending migration (the server does it at start, too)
  down [--to VERSION]  roll back the newest migration, or every one newer than VERSION
  status               list the migrations and whether the database ran each`

// Command runs `myblog migrate ARGS` against the database cfg describes and reports to out.
func Command(ctx context.Context, cfg setting.Database, args []string, out io.Writer, logger *slog.Logger) (err error) {
	if len(args) == 0 {
		return fmt.Errorf("migrate: say what to do\n%s", Usage)
	}
	verb, rest := args[0], args[1:]
	flags := flag.NewFlagSet("migrate "+verb, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	to := flags.Int64("to", -1, "roll back every migration newer than this version")
	switch verb {
	case "up", "status":
	case "down":
	default:
		return fmt.Errorf("migrate: unknown command %q\n%s", verb, Usage)
	}
	if err := flags.Parse(rest); err != nil {
		return fmt.Errorf("migrate %s: %w\n%s", verb, err, Usage)
	}
	if flags.NArg() > 0 || (verb != "down" && *to != -1) {
		return fmt.Errorf("migrate %s: unexpected arguments %q\n%s", verb, rest, Usage)
	}
	if verb == "down" && *to < -1 {
		return fmt.Errorf("migrate down: -to %d is not a version; give 0 to roll back every migration", *to)
	}

	gdb, err := models.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, models.Close(gdb)) }()
	m, err := New(ctx, gdb, logger)
	if err != nil {
		return err
	}
	switch verb {
	case "up":
		if err = m.Up(ctx); err == nil {
			err = CheckModels(ctx, gdb, models.All())
		}
	case "down":
		err = m.Down(ctx, *to)
	}
	if err != nil {
		return err
	}
	return printStatus(ctx, m, out)
}

// printStatus writes the database's version and every migration of this build.
func printStatus(ctx context.Context, m *Migrator, out io.Writer) error {
	version, err := m.Version(ctx)
	if err != nil {
		return err
	}
	list, err := m.Status(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "database version %d, newest migration %d\n", version, m.Latest())
	for _, s := range list {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, state, s.Name)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
