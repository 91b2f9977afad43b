// Package setting loads the application's settings from conf/app.ini, with every key
// overridable by an environment variable (MYBLOG_<SECTION>_<KEY>).
package setting

import (
	"errors"
	"fmt"
	"net"
	"net/url"
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
	// DrainDelay is how long a SIGTERM/SIGINT keeps the server serving, with /readyz
	// answering 503, before it stops accepting: the time load balancers need to notice.
	DrainDelay time.Duration `ini:"DrainDelay"`
}

// Addr is the address the server listens on.
func (s Server) Addr() string {
	return ":" + strconv.Itoa(s.HTTPPort)
}

// Database holds the [database] section: where the postgres server is, and the connection
// pool kept to it.
type Database struct {
	Type string `ini:"Type"`
	// Host is a host name or an IP address, or the folder of a Unix socket (starting with /).
	Host     string `ini:"Host"`
	Port     int    `ini:"Port"`
	User     string `ini:"User"`
	Password Secret `ini:"Password"`
	Name     string `ini:"Name"`
	// SSLMode is libpq's sslmode: disable, allow, prefer, require, verify-ca or verify-full.
	SSLMode string `ini:"SSLMode"`
	// Params are more driver parameters, as a URL query: key=value&key=value.
	Params string `ini:"Params"`
	// The connection pool: see database/sql's DB.SetMaxOpenConns and its siblings; 0 means
	// no limit.
	MaxOpenConns    int           `ini:"MaxOpenConns"`
	MaxIdleConns    int           `ini:"MaxIdleConns"`
	ConnMaxLifetime time.Duration `ini:"ConnMaxLifetime"`
	ConnMaxIdleTime time.Duration `ini:"ConnMaxIdleTime"`
	// ConnectTimeout bounds each attempt to connect.
	ConnectTimeout time.Duration `ini:"ConnectTimeout"`
	// ConnectRetries is how many more times a start tries to reach the database, with a
	// backoff doubling from 1s to at most 16s, before it gives up; 0 gives up at once.
	ConnectRetries int `ini:"ConnectRetries"`
}

// Addr is the server's address as the driver dials it, for messages.
func (d Database) Addr() string {
	if strings.HasPrefix(d.Host, "/") {
		return d.Host
	}
	return net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
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
		Database: Database{
			Type:            "postgres",
			Host:            "127.0.0.1",
			Port:            5432,
			User:            "myblog",
			Name:            "myblog",
			SSLMode:         "prefer",
			MaxOpenConns:    20,
			MaxIdleConns:    10,
			ConnMaxLifetime: 30 * time.Minute,
			ConnMaxIdleTime: 5 * time.Minute,
			ConnectTimeout:  5 * time.Second,
		},
	}
}

// Load reads the settings file at path over the defaults, applies environment overrides and
// validates the result.
func Load(path string) (*Settings, error) {
	return load(path, os.LookupEnv)
}

func load(path string, lookupEnv func(string) (string, bool)) (*Settings, error) {
	s, err := read(path, lookupEnv)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("settings: %s: %w", path, err)
	}
	return s, nil
}

// DatabaseFromEnvironment returns the [database] settings of a program started without a
// settings file: the defaults with the environment's overrides. The tests find their database
// server with it (see internal/dbtest).
func DatabaseFromEnvironment() (Database, error) {
	s, err := read("", os.LookupEnv)
	if err != nil {
		return Database{}, err
	}
	if err := errors.Join(s.Database.validate()...); err != nil {
		return Database{}, fmt.Errorf("settings: environment: %w", err)
	}
	return s.Database, nil
}

// read returns the defaults, overridden by the file at path (none when path is empty), then
// by the environment.
func read(path string, lookupEnv func(string) (string, bool)) (*Settings, error) {
	defaults := Default()
	file := ini.Empty()
	if err := file.ReflectFrom(&defaults); err != nil {
		return nil, fmt.Errorf("settings: defaults: %w", err)
	}
	if path != "" {
		if err := file.Append(path); err != nil {
			return nil, fmt.Errorf("settings: read %s: %w", path, err)
		}
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
	errs = append(errs, s.Database.validate()...)
	return errors.Join(errs...)
}

func (d Database) validate() []error {
	var errs []error
	if d.Type != "postgres" {
		errs = append(errs, fmt.Errorf("[database] Type %q is not supported; use postgres (this program is built with the postgres driver only)", d.Type))
	}
	for key, v := range map[string]string{"Host": d.Host, "User": d.User, "Name": d.Name} {
		if v == "" {
			errs = append(errs, fmt.Errorf("[database] %s is empty", key))
		}
	}
	if d.Port < 1 || d.Port > 65535 {
		errs = append(errs, fmt.Errorf("[database] Port %d must be from 1 to 65535", d.Port))
	}
	if modes := []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}; !slices.Contains(modes, d.SSLMode) {
		errs = append(errs, fmt.Errorf("[database] SSLMode %q must be one of %s", d.SSLMode, strings.Join(modes, ", ")))
	}
	if _, err := url.ParseQuery(d.Params); err != nil {
		errs = append(errs, fmt.Errorf("[database] Params %q: %w; write key=value pairs joined by &", d.Params, err))
	}
	for key, n := range map[string]int{"MaxOpenConns": d.MaxOpenConns, "MaxIdleConns": d.MaxIdleConns, "ConnectRetries": d.ConnectRetries} {
		if n < 0 {
			errs = append(errs, fmt.Errorf("[database] %s %d must be 0 or more", key, n))
		}
	}
	for key, t := range map[string]time.Duration{"ConnMaxLifetime": d.ConnMaxLifetime, "ConnMaxIdleTime": d.ConnMaxIdleTime} {
		if t < 0 {
			errs = append(errs, fmt.Errorf("[database] %s %s must be 0 (no limit) or more", key, t))
		}
	}
	if d.ConnectTimeout <= 0 {
		errs = append(errs, fmt.Errorf("[database] ConnectTimeout %s must be positive, e.g. 5s", d.ConnectTimeout))
	}
	return errs
}
