package main

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/gingen/gingen/generator"
)

// nextSteps is what to do after `gingen new`: how to test, run, restart and stop the project
// under its strategy, and where its deploy files are.
func nextSteps(o generator.Options, target string) string {
	name, port := o.Name, o.Port
	rows := [][2]string{{"cd " + filepath.ToSlash(target), ""}}
	if o.DB != generator.DBSQLite {
		rows = append(rows, [2]string{
			fmt.Sprintf("export %s_DATABASE_PASSWORD=...", generator.EnvPrefix(name)),
			fmt.Sprintf("the %s server is [database] in conf/app.ini; README.md says how to create its user", o.DB),
		})
	}
	if o.Auth == generator.AuthJWT {
		prefix := generator.EnvPrefix(name)
		rows = append(rows,
			[2]string{fmt.Sprintf(`export %s_AUTH_SECRET="$(openssl rand -hex 32)"`, prefix),
				"signs the tokens: 32 random bytes; the server refuses to start without a secret"},
			[2]string{fmt.Sprintf("export %s_AUTH_SEEDPASSWORD='...'", prefix),
				"the password of the admin user created at the first start (8 to 72 bytes)"},
		)
	}
	rows = append(rows, [2]string{"make test", "run the generated tests (go test -tags " + generator.BuildTags + " ./...)"})
	var deploys [][2]string
	if s, ok := generator.Strategy(o.Strategy); ok {
		for _, step := range s.Steps {
			rows = append(rows, s.Expand(step, name, port))
		}
		for _, d := range s.Deploys {
			d = s.Expand(d, name, port)
			deploys = append(deploys, [2]string{path.Join("deploy", d[0]), d[1]})
		}
	} else {
		rows = append(rows, [2]string{"make build && ./" + name, fmt.Sprintf("serve on :%d (GET /healthz)", port)})
	}
	if o.Auth == generator.AuthJWT {
		rows = append(rows, [2]string{"POST /auth", "issues a user's token; /api/v1 requires it (Authorization: Bearer)"})
	}
	width := 0
	for _, row := range append(rows, deploys...) {
		width = max(width, len(row[0]))
	}
	var b strings.Builder
	b.WriteString("Next steps:\n")
	write := func(row [2]string) {
		if row[1] == "" {
			fmt.Fprintf(&b, "  %s\n", row[0])
			return
		}
		fmt.Fprintf(&b, "  %-*s  # %s\n", width, row[0], row[1])
	}
	for _, row := range rows {
		write(row)
	}
	if len(deploys) > 0 {
		b.WriteString("Deploy files:\n")
		for _, row := range deploys {
			write(row)
		}
	}
	fmt.Fprintf(&b, "More in %s: restarts, signals and what each deploy file does.\n", path.Join(filepath.ToSlash(target), "README.md"))
	return b.String()
}
