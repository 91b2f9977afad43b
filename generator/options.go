package generator

import (
	"errors"
	"fmt"
	"go/token"
	"slices"
	"strings"

	"golang.org/x/mod/module"
)

// Restart strategies a project can be generated with.
const (
	StrategyFork       = "fork"
	StrategySupervisor = "supervisor"
	StrategySystemd    = "systemd"
)

// Databases a project can be generated with.
const (
	DBSQLite   = "sqlite"
	DBPostgres = "postgres"
	DBMySQL    = "mysql"
)

// Authentication schemes a project can be generated with.
const (
	AuthNone = "none"
	AuthJWT  = "jwt"
)

// Defaults applied by Options.Normalize.
const (
	DefaultStrategy = StrategyFork
	DefaultDB       = DBSQLite
	DefaultAuth     = AuthNone
	DefaultPort     = 8000
)

// Databases lists the supported databases, the default (embedded, no server) first.
func Databases() []string {
	return []string{DBSQLite, DBPostgres, DBMySQL}
}

// Auths lists the authentication schemes, the default first.
func Auths() []string {
	return []string{AuthNone, AuthJWT}
}

// Options describe a project to generate.
type Options struct {
	// Name is the project name: the folder, the binary and the default module path.
	Name string
	// Module is the Go module path; empty means Name.
	Module string
	// Strategy is the restart strategy: fork, supervisor or systemd.
	Strategy string
	// DB is the database driver: sqlite, postgres or mysql.
	DB string
	// Auth is the authentication of the /api/v1 group: none, or jwt (POST /auth issues a
	// token for a user of the users table; /api/v1 requires it).
	Auth string
	// Port is the HTTP port the server listens on.
	Port int
	// Tracing renders the OpenTelemetry tracing of requests and database queries ([tracing]
	// in conf/app.ini, off until enabled there) and requires its modules; recorded in
	// gingen.yaml.
	Tracing bool
	// RestartReplace, when set, is the folder of a checkout's restart library: go.mod gets a
	// replace directive to it. A development build of gingen sets it, since the library
	// version it requires is not published yet; a release build never does. It is not
	// recorded in gingen.yaml.
	RestartReplace string
}

// Normalize trims the names and fills in defaults for an empty module, strategy, database
// and auth. Port has no empty value to fill: 0 is rejected by Validate.
func (o *Options) Normalize() {
	o.Name = strings.TrimSpace(o.Name)
	o.Module = strings.TrimSpace(o.Module)
	if o.Module == "" {
		o.Module = o.Name
	}
	if o.Strategy == "" {
		o.Strategy = DefaultStrategy
	}
	if o.DB == "" {
		o.DB = DefaultDB
	}
	if o.Auth == "" {
		o.Auth = DefaultAuth
	}
}

// Validate reports the first problem with the options as a one-line error that names the
// problem and how to fix it.
func (o Options) Validate() error {
	if err := ValidateName(o.Name); err != nil {
		return err
	}
	if err := module.CheckImportPath(o.Module); err != nil {
		return inputErrorf("invalid module path %q: %s; pass --module with a path such as github.com/you/%s", o.Module, moduleReason(err), o.Name)
	}
	if err := checkModule(o.Name, o.Module); err != nil {
		return err
	}
	if !slices.Contains(Strategies(), o.Strategy) {
		return inputErrorf("unknown strategy %q; use --strategy with one of %s", o.Strategy, strings.Join(Strategies(), ", "))
	}
	if !slices.Contains(Databases(), o.DB) {
		return inputErrorf("unsupported database %q; use --db with one of %s", o.DB, strings.Join(Databases(), ", "))
	}
	if !slices.Contains(Auths(), o.Auth) {
		return inputErrorf("unknown auth %q; use --auth with one of %s", o.Auth, strings.Join(Auths(), ", "))
	}
	if o.Port < 1 || o.Port > 65535 {
		return inputErrorf("port %d is out of range; use --port with a number from 1 to 65535", o.Port)
	}
	return nil
}

// isProjectName reports whether name matches ^[a-zA-Z][a-zA-Z0-9_-]*$.
func isProjectName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := isLowerASCII(c) || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !isDigitASCII(c) && c != '_' && c != '-') {
			return false
		}
	}
	return name != ""
}

// ValidateName checks a project name: it becomes a folder, a binary, a module path element
// and the prefix of environment variables, so it must be a plain identifier-like word.
func ValidateName(name string) error {
	q := quoteShort(name)
	const fix = "use letters, digits, '-' and '_', starting with a letter, e.g. myblog or my-blog"
	switch {
	case name == "":
		return inputErrorf("project name is empty; %s", fix)
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return inputErrorf("invalid project name %s: it must be a single folder name, not a path; pass the parent folder with --dir and %s", q, fix)
	case strings.ContainsAny(name, " \t\n"):
		return inputErrorf("invalid project name %s: it contains white space; %s", q, fix)
	case name[0] >= '0' && name[0] <= '9':
		return inputErrorf("invalid project name %s: it starts with a digit; %s", q, fix)
	case !isProjectName(name):
		return inputErrorf("invalid project name %s: it contains characters other than letters, digits, '-' and '_'; %s", q, fix)
	case strings.HasSuffix(name, "-") || strings.HasSuffix(name, "_"):
		return inputErrorf("invalid project name %s: it ends with %q; %s", q, name[len(name)-1:], fix)
	case token.IsKeyword(name):
		return inputErrorf("invalid project name %q: it is a Go keyword; pick another name, e.g. my%s", name, name)
	case len(name) > maxIdentifierLen:
		// It is also the default database and user name, which PostgreSQL cuts at 63.
		return inputErrorf("project name %s is longer than %d characters (the default database name, which PostgreSQL cuts there); pick a shorter name", q, maxIdentifierLen)
	}
	return nil
}

// quoteShort quotes a name for a message; one too long to read is cut in the middle, so that
// a message stays one readable line whatever was typed.
func quoteShort(name string) string {
	const keep = 24
	if r := []rune(name); len(r) > 2*keep+maxIdentifierLen {
		return fmt.Sprintf("%q (%d characters)", string(r[:keep])+"..."+string(r[len(r)-keep:]), len(r))
	}
	return fmt.Sprintf("%q", name)
}

// moduleReason extracts the reason from x/mod's error, which repeats the path.
func moduleReason(err error) string {
	var ipe *module.InvalidPathError
	if errors.As(err, &ipe) && ipe.Err != nil {
		return ipe.Err.Error()
	}
	return err.Error()
}

// InputError is an error caused by the user's input (as opposed to an I/O failure). Its
// message is a single line naming the problem and the fix.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

// NotEmptyError is WriteProject's refusal to write into a folder that is not empty without
// WriteOptions.Force. Commands that know how the folder was chosen say so in their own words.
// It is an InputError too (errors.As finds one through Unwrap).
type NotEmptyError struct{ Dir string }

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("folder %s already exists and is not empty; choose another folder, or pass --force to overwrite the files gingen generates in it", e.Dir)
}

func (e *NotEmptyError) Unwrap() error { return &InputError{msg: e.Error()} }

func inputErrorf(format string, args ...any) error {
	return &InputError{msg: fmt.Sprintf(format, args...)}
}
