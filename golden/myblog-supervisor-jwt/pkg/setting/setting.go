// Package setting loads the application's settings from conf/app.ini, with every key
// overridable by an environment variable (MYBLOG_<SECTION>_<KEY>).
package setting

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"
)

// EnvPrefix starts the name of every environment variable that overrides a setting.
const EnvPrefix = "MYBLOG"

// Settings are the typed contents of conf/app.ini.
type Settings struct {
	App      App      `ini:"app"`
	Server   Server   `ini:"server"`
	Database Database `ini:"database"`
	Auth     Auth     `ini:"auth"`
}

// App holds the [app] section.
type App struct {
	Name     string `ini:"Name"`
	RunMode  string `ini:"RunMode"`
	LogLevel string `ini:"LogLevel"`
	PIDFile  string `ini:"PIDFile"`
}

// Server holds the [server] section.
type Server struct {
	HTTPPort        int           `ini:"HTTPPort"`
	ReadTimeout     time.Duration `ini:"ReadTimeout"`
	WriteTimeout    time.Duration `ini:"WriteTimeout"`
	ShutdownTimeout time.Duration `ini:"ShutdownTimeout"`
	ReadyTimeout    time.Duration `ini:"ReadyTimeout"`
}

// Addr is the address the server listens on.
func (s Server) Addr() string {
	return ":" + strconv.Itoa(s.HTTPPort)
}

// Database holds the [database] section.
type Database struct {
	Type string `ini:"Type"`
	DSN  string `ini:"DSN"`
	// SingleWriter sends every write through one connection, queued in the process, beside a
	// pool of read-only connections. false shares one pool: concurrent writes then wait for
	// SQLite's lock by polling (busy_timeout), with a far longer tail latency under load.
	SingleWriter bool `ini:"SingleWriter"`
}

// Secret is a setting that must not be printed: fmt, logs and JSON show it redacted. Convert
// it with string() where the value is needed.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText hides the value from encoders (JSON, slog's JSON handler).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MinSecretLength is the shortest [auth] Secret accepted: HS256 keys should be at least as
// long as the hash (32 bytes).
const MinSecretLength = 32

// Auth holds the [auth] section: how POST /auth signs tokens, and the user created when the
// users table is empty.
type Auth struct {
	Secret       Secret        `ini:"Secret"`
	TokenTTL     time.Duration `ini:"TokenTTL"`
	SeedUser     string        `ini:"SeedUser"`
	SeedPassword Secret        `ini:"SeedPassword"`
}

// Default returns the settings used for every key that neither the file nor the environment
// sets.
func Default() Settings {
	return Settings{
		App: App{Name: "myblog", RunMode: "debug", LogLevel: "info"},
		Server: Server{
			HTTPPort:        8000,
			ReadTimeout:     60 * time.Second,
			WriteTimeout:    60 * time.Second,
			ShutdownTimeout: 30 * time.Second,
			ReadyTimeout:    30 * time.Second,
		},
		Database: Database{Type: "sqlite", DSN: "data/myblog.db", SingleWriter: true},
		Auth:     Auth{TokenTTL: 3 * time.Hour, SeedUser: "admin"},
	}
}

// Load reads the settings file at path over the defaults, applies environment overrides and
// validates the result.
func Load(path string) (*Settings, error) {
	return load(path, os.LookupEnv)
}

func load(path string, lookupEnv func(string) (string, bool)) (*Settings, error) {
	defaults := Default()
	file := ini.Empty()
	if err := file.ReflectFrom(&defaults); err != nil {
		return nil, fmt.Errorf("settings: defaults: %w", err)
	}
	if err := file.Append(path); err != nil {
		return nil, fmt.Errorf("settings: read %s: %w", path, err)
	}
	for _, section := range file.Sections() {
		for _, key := range section.Keys() {
			name := EnvPrefix + "_" + strings.ToUpper(section.Name()) + "_" + strings.ToUpper(key.Name())
			if v, ok := lookupEnv(name); ok {
				key.SetValue(v)
			}
		}
	}
	var s Settings
	if err := file.StrictMapTo(&s); err != nil {
		return nil, fmt.Errorf("settings: %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("settings: %s: %w", path, err)
	}
	return &s, nil
}

// Validate reports settings that cannot work.
func (s Settings) Validate() error {
	var errs []error
	if !slices.Contains([]string{"debug", "release", "test"}, s.App.RunMode) {
		errs = append(errs, fmt.Errorf("[app] RunMode %q must be debug, release or test", s.App.RunMode))
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, s.App.LogLevel) {
		errs = append(errs, fmt.Errorf("[app] LogLevel %q must be debug, info, warn or error", s.App.LogLevel))
	}
	if s.Server.HTTPPort < 1 || s.Server.HTTPPort > 65535 {
		errs = append(errs, fmt.Errorf("[server] HTTPPort %d must be from 1 to 65535", s.Server.HTTPPort))
	}
	for name, d := range map[string]time.Duration{
		"ReadTimeout":     s.Server.ReadTimeout,
		"WriteTimeout":    s.Server.WriteTimeout,
		"ShutdownTimeout": s.Server.ShutdownTimeout,
		"ReadyTimeout":    s.Server.ReadyTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("[server] %s %s must be positive, e.g. 30s", name, d))
		}
	}
	if s.Database.Type != "sqlite" {
		errs = append(errs, fmt.Errorf("[database] Type %q is not supported; use sqlite", s.Database.Type))
	}
	if s.Database.DSN == "" {
		errs = append(errs, errors.New("[database] DSN is empty"))
	}
	errs = append(errs, s.Auth.validate()...)
	return errors.Join(errs...)
}

func (a Auth) validate() []error {
	var errs []error
	if len(a.Secret) < MinSecretLength {
		errs = append(errs, fmt.Errorf("[auth] Secret must be at least %d characters (it has %d); set %s_AUTH_SECRET to a random value, e.g. the output of: openssl rand -hex 32", MinSecretLength, len(a.Secret), EnvPrefix))
	}
	if a.TokenTTL <= 0 {
		errs = append(errs, fmt.Errorf("[auth] TokenTTL %s must be positive, e.g. 3h", a.TokenTTL))
	}
	if a.SeedPassword != "" {
		if a.SeedUser == "" {
			errs = append(errs, errors.New("[auth] SeedPassword is set but SeedUser is empty; name the user to create"))
		}
		// bcrypt uses only the first 72 bytes of a password and refuses longer ones.
		if n := len(a.SeedPassword); n < 8 || n > 72 {
			errs = append(errs, fmt.Errorf("[auth] SeedPassword must be 8 to 72 bytes long (it has %d)", n))
		}
	}
	return errs
}
