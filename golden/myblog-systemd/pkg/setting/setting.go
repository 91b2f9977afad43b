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
	return errors.Join(errs...)
}
