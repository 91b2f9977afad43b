// Package setting loads the application's settings from conf/app.ini, with every key
// overridable by an environment variable (MYBLOG_<SECTION>_<KEY>).
package setting

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
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
	Admin    Admin    `ini:"admin"`
	Metrics  Metrics  `ini:"metrics"`
	CORS     CORS     `ini:"cors"`
	Tracing  Tracing  `ini:"tracing"`
}

// Metrics holds the [metrics] section.
type Metrics struct {
	// Public serves GET /metrics on the public port too. false (the default): /metrics is
	// served on the [admin] Addr listener only, and nowhere when that is empty; the metrics
	// name the Go version and the open-file limit, which are an attacker's first questions.
	Public bool `ini:"Public"`
}

// Admin holds the [admin] section: the private listener of /metrics and /debug/pprof/.
type Admin struct {
	// Addr is where the admin endpoints are served, e.g. 127.0.0.1:6060; empty: no admin
	// listener and pprof off. It must be a loopback address unless AllowRemote.
	Addr string `ini:"Addr"`
	// AllowRemote accepts an Addr that is not loopback (every interface, a LAN address):
	// pprof there lets whoever reaches it read the process's memory profile and command line.
	AllowRemote bool `ini:"AllowRemote"`
}

// validate refuses an address that is malformed, or reachable from other machines without
// AllowRemote. A host name is resolved by nobody here: only localhost counts as loopback.
func (a Admin) validate() []error {
	if a.Addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(a.Addr)
	if err != nil {
		return []error{fmt.Errorf("[admin] Addr %q must be host:port, e.g. 127.0.0.1:6060 (empty: off): %w", a.Addr, err)}
	}
	if a.AllowRemote || host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return []error{fmt.Errorf("[admin] Addr %q is not a loopback address: pprof and /metrics would be reachable from other machines; use 127.0.0.1:PORT, or set [admin] AllowRemote = true on a private network", a.Addr)}
}

// CORS holds the [cors] section: which browser origins may call the API
// (github.com/gin-contrib/cors).
type CORS struct {
	// AllowOrigins are the origins (scheme://host[:port], comma-separated) allowed; empty:
	// no CORS headers are sent, browsers allow same-origin calls only.
	AllowOrigins     string        `ini:"AllowOrigins"`
	AllowMethods     string        `ini:"AllowMethods"`
	AllowHeaders     string        `ini:"AllowHeaders"`
	AllowCredentials bool          `ini:"AllowCredentials"`
	MaxAge           time.Duration `ini:"MaxAge"`
}

// Origins returns the entries of AllowOrigins.
func (c CORS) Origins() []string { return splitList(c.AllowOrigins) }

// Methods returns the entries of AllowMethods.
func (c CORS) Methods() []string { return splitList(c.AllowMethods) }

// Headers returns the entries of AllowHeaders.
func (c CORS) Headers() []string { return splitList(c.AllowHeaders) }

// splitList splits a comma-separated setting, dropping blanks; nil when empty.
func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c CORS) validate() []error {
	var errs []error
	for _, o := range c.Origins() {
		u, err := url.Parse(o)
		if o == "*" {
			if c.AllowCredentials {
				errs = append(errs, errors.New("[cors] AllowOrigins * cannot go with AllowCredentials = true; list the origins"))
			}
			continue
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("[cors] AllowOrigins: %q is not an origin like https://app.example.com", o))
		}
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("[cors] MaxAge %s must be 0 or more", c.MaxAge))
	}
	return errs
}

// App holds the [app] section.
type App struct {
	Name     string `ini:"Name"`
	RunMode  string `ini:"RunMode"`
	LogLevel string `ini:"LogLevel"`
	// AccessLog writes one line per request (info level) when true.
	AccessLog bool   `ini:"AccessLog"`
	PIDFile   string `ini:"PIDFile"`
}

// Server holds the [server] section.
type Server struct {
	HTTPPort        int           `ini:"HTTPPort"`
	ReadTimeout     time.Duration `ini:"ReadTimeout"`
	WriteTimeout    time.Duration `ini:"WriteTimeout"`
	ShutdownTimeout time.Duration `ini:"ShutdownTimeout"`
	ReadyTimeout    time.Duration `ini:"ReadyTimeout"`
	// HTTPAddr is the IP address (or host name) to listen on with HTTPPort; empty: every
	// interface.
	HTTPAddr string `ini:"HTTPAddr"`
	// ReadHeaderTimeout bounds the wait for a request's headers, idle new connections included.
	ReadHeaderTimeout time.Duration `ini:"ReadHeaderTimeout"`
	// IdleTimeout bounds how long a kept-alive connection may wait for its next request.
	IdleTimeout time.Duration `ini:"IdleTimeout"`
	// MaxConns caps the connections served at once; 0: automatic, from the open-file limit
	// at start (see ConnCap). Past it, new connections wait in the listen queue until one
	// closes.
	MaxConns int `ini:"MaxConns"`
	// BodyMinRate is the slowest average rate, in bytes per second, at which a request body
	// may arrive once BodyGrace has passed; a slower one is cut off (408). 0: no minimum rate,
	// only ReadTimeout bounds a body.
	BodyMinRate int `ini:"BodyMinRate"`
	// BodyGrace is how long any request body may take before BodyMinRate applies.
	BodyGrace time.Duration `ini:"BodyGrace"`
	// TrustedProxies are the addresses (IPs or CIDR ranges, comma-separated) of the proxies
	// in front whose X-Forwarded-For names the client; empty: none, the peer is the client.
	TrustedProxies string `ini:"TrustedProxies"`
	// DrainDelay is how long a SIGTERM/SIGINT keeps the server serving, with /readyz
	// answering 503, before it stops accepting: the time load balancers need to notice.
	DrainDelay time.Duration `ini:"DrainDelay"`
	// WorkerCrashLimit (supervisor and systemd strategies) is how many workers in a row may
	// fail within 10s of their start before the master gives up and exits non-zero, for the
	// service manager to act on; 0: the restart library's default (5).
	WorkerCrashLimit int `ini:"WorkerCrashLimit"`
	// CertFile and KeyFile, both set, serve HTTPS (HTTP/2 and HTTP/1.1) with that PEM
	// certificate chain and key instead of HTTP; a restart (SIGHUP) takes up renewed files.
	CertFile string `ini:"CertFile"`
	KeyFile  string `ini:"KeyFile"`
}

// Proxies returns the entries of TrustedProxies, nil when there are none.
func (s Server) Proxies() []string { return splitList(s.TrustedProxies) }

// Addr is the address the server listens on.
func (s Server) Addr() string {
	return net.JoinHostPort(s.HTTPAddr, strconv.Itoa(s.HTTPPort))
}

// Database holds the [database] section.
type Database struct {
	Type string `ini:"Type"`
	DSN  string `ini:"DSN"`
	// SlowQuery is the duration past which a query is logged as a warning; 0: never.
	SlowQuery time.Duration `ini:"SlowQuery"`
	// SingleWriter sends every write through one connection, queued in the process, beside a
	// pool of read-only connections. false shares one pool: concurrent writes then wait for
	// SQLite's lock by polling (busy_timeout), with a far longer tail latency under load.
	SingleWriter bool `ini:"SingleWriter"`
}

// Default returns the settings used for every key that neither the file nor the environment
// sets.
func Default() Settings {
	return Settings{
		App: App{Name: "myblog", RunMode: "release", LogLevel: "info", AccessLog: true},
		Server: Server{
			HTTPPort:          8000,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      60 * time.Second,
			ShutdownTimeout:   30 * time.Second,
			ReadyTimeout:      30 * time.Second,
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       2 * time.Minute,
			WorkerCrashLimit:  5,
			BodyMinRate:       DefaultBodyMinRate,
			BodyGrace:         5 * time.Second,
		},
		Database: Database{Type: "sqlite", DSN: "data/myblog.db", SlowQuery: 200 * time.Millisecond, SingleWriter: true},
		CORS: CORS{
			AllowMethods: "GET,POST,PUT,PATCH,DELETE",
			AllowHeaders: "Authorization,Content-Type,X-Request-ID",
			MaxAge:       12 * time.Hour,
		},
		Tracing: Tracing{
			Endpoint:    "http://127.0.0.1:4318",
			ServiceName: "myblog",
			SampleRatio: 1,
			Timeout:     10 * time.Second,
		},
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
			// ini reads a negative duration as none at all: DrainDelay = -5s would be 0s.
			if d, err := time.ParseDuration(strings.TrimSpace(key.Value())); err == nil && d < 0 {
				return nil, fmt.Errorf("settings: %s: [%s] %s %s must not be negative", path, section.Name(), key.Name(), d)
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
		"ReadTimeout":       s.Server.ReadTimeout,
		"WriteTimeout":      s.Server.WriteTimeout,
		"ShutdownTimeout":   s.Server.ShutdownTimeout,
		"ReadyTimeout":      s.Server.ReadyTimeout,
		"ReadHeaderTimeout": s.Server.ReadHeaderTimeout,
		"IdleTimeout":       s.Server.IdleTimeout,
		"BodyGrace":         s.Server.BodyGrace,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("[server] %s %s must be positive, e.g. 30s", name, d))
		}
	}
	errs = append(errs, s.Server.validateNetwork()...)
	errs = append(errs, s.Server.validateTLS()...)
	errs = append(errs, s.CORS.validate()...)
	errs = append(errs, s.Admin.validate()...)
	errs = append(errs, s.Tracing.validate()...)
	if s.Database.Type != "sqlite" {
		errs = append(errs, fmt.Errorf("[database] Type %q is not supported; use sqlite", s.Database.Type))
	}
	if s.Database.DSN == "" {
		errs = append(errs, errors.New("[database] DSN is empty"))
	}
	return errors.Join(errs...)
}

// validateNetwork checks the keys of [server] about addresses and connections.
func (s Server) validateNetwork() []error {
	var errs []error
	if strings.ContainsAny(s.HTTPAddr, " /") {
		errs = append(errs, fmt.Errorf("[server] HTTPAddr %q must be an IP address or a host name without a port (the port is HTTPPort); empty listens on every interface", s.HTTPAddr))
	}
	if s.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("[server] MaxConns %d must be 0 (automatic, from the open-file limit) or more", s.MaxConns))
	}
	if s.BodyMinRate < 0 {
		errs = append(errs, fmt.Errorf("[server] BodyMinRate %d must be 0 (no minimum) or more bytes per second, e.g. %d", s.BodyMinRate, DefaultBodyMinRate))
	}
	if s.DrainDelay < 0 {
		errs = append(errs, fmt.Errorf("[server] DrainDelay %s must be 0s (stop accepting at once) or more, e.g. 5s", s.DrainDelay))
	}
	if s.WorkerCrashLimit < 0 {
		errs = append(errs, fmt.Errorf("[server] WorkerCrashLimit %d must be 0 (the default, 5) or more", s.WorkerCrashLimit))
	}
	for _, p := range s.Proxies() {
		if _, err := ParseProxy(p); err != nil {
			errs = append(errs, fmt.Errorf("[server] TrustedProxies: %w", err))
		}
	}
	return errs
}

// validateTLS checks CertFile and KeyFile: both empty (HTTP) or both readable files. The
// pair itself is loaded by each generation when it starts (a broken pair fails a restart and
// the serving generation goes on).
func (s Server) validateTLS() []error {
	if s.CertFile == "" && s.KeyFile == "" {
		return nil
	}
	if s.CertFile == "" || s.KeyFile == "" {
		return []error{fmt.Errorf("[server] CertFile %q and KeyFile %q must be set together (both empty: plain HTTP)", s.CertFile, s.KeyFile)}
	}
	var errs []error
	for name, path := range map[string]string{"CertFile": s.CertFile, "KeyFile": s.KeyFile} {
		f, err := os.Open(path) //nolint:gosec // G304: the operator's own certificate path, opened to check it can be read
		if err != nil {
			errs = append(errs, fmt.Errorf("[server] %s: %w", name, err))
			continue
		}
		_ = f.Close() // opened to check that it can be read
	}
	return errs
}

// ParseProxy reads one entry of [server] TrustedProxies: an IP address or a CIDR range.
func ParseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range like 10.0.0.0/8: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or a CIDR range like 10.0.0.0/8: %w", s, err)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
