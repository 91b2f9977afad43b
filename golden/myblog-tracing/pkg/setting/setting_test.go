package setting

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.ini")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func noEnv(string) (string, bool) { return "", false }

// conf/app.ini is yours: the test checks that it loads and validates, not what its values
// are. The defaults are tested below, against files the tests write.
func TestTheShippedFileLoadsAndValidates(t *testing.T) {
	if _, err := load(filepath.Join("..", "..", "conf", "app.ini"), noEnv); err != nil {
		t.Fatal(err)
	}
}

func TestTheDefaults(t *testing.T) {
	s, err := load(writeFile(t, "[app]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if s.Server.HTTPPort != 8000 || s.Server.Addr() != ":8000" {
		t.Errorf("HTTPPort = %d, Addr = %q; want 8000", s.Server.HTTPPort, s.Server.Addr())
	}
	if s.Server.ShutdownTimeout != 30*time.Second {
		t.Errorf("ShutdownTimeout = %s, want 30s", s.Server.ShutdownTimeout)
	}
	if s.Database.Type != "sqlite" {
		t.Errorf("Database.Type = %q, want sqlite", s.Database.Type)
	}
}

func TestLoadKeepsDefaultsForMissingKeys(t *testing.T) {
	s, err := load(writeFile(t, "[server]\nHTTPPort = 9000\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server.HTTPPort = 9000
	if *s != want {
		t.Errorf("got %+v, want %+v", *s, want)
	}
}

func TestEnvironmentOverridesTheFile(t *testing.T) {
	env := map[string]string{
		EnvPrefix + "_SERVER_HTTPPORT":        "9100",
		EnvPrefix + "_SERVER_SHUTDOWNTIMEOUT": "5s",
		EnvPrefix + "_DATABASE_DSN":           "/tmp/other.db",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	s, err := load(writeFile(t, "[server]\nHTTPPort = 9000\n"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if s.Server.HTTPPort != 9100 || s.Server.ShutdownTimeout != 5*time.Second || s.Database.DSN != "/tmp/other.db" {
		t.Errorf("overrides not applied: %+v", *s)
	}
}

func TestLoadRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct{ name, ini, want string }{
		{"a port out of range", "[server]\nHTTPPort = 70000\n", "HTTPPort"},
		{"a zero shutdown timeout", "[server]\nShutdownTimeout = 0s\n", "ShutdownTimeout"},
		{"a drain delay that does not parse", "[server]\nDrainDelay = soon\n", "DrainDelay"},
		{"a negative drain delay", "[server]\nDrainDelay = -5s\n", "DrainDelay"},
		{"a duration that does not parse", "[server]\nReadTimeout = soon\n", "ReadTimeout"},
		{"an unknown run mode", "[app]\nRunMode = fast\n", "RunMode"},
		{"an unsupported database", "[database]\nType = oracle\n", "oracle"},
		{"a zero header timeout", "[server]\nReadHeaderTimeout = 0s\n", "ReadHeaderTimeout"},
		{"a zero idle timeout", "[server]\nIdleTimeout = 0s\n", "IdleTimeout"},
		{"a negative connection cap", "[server]\nMaxConns = -1\n", "MaxConns"},
		{"a negative worker crash limit", "[server]\nWorkerCrashLimit = -1\n", "WorkerCrashLimit"},
		{"a bind address with a port", "[server]\nHTTPAddr = 127.0.0.1/8\n", "HTTPAddr"},
		{"a trusted proxy that is no address", "[server]\nTrustedProxies = 10.0.0.1, proxy.local\n", "proxy.local"},
		{"a CORS origin without a scheme", "[cors]\nAllowOrigins = app.example.com\n", "AllowOrigins"},
		{"any CORS origin with credentials", "[cors]\nAllowOrigins = *\nAllowCredentials = true\n", "AllowCredentials"},
		{"an admin address without a host", "[admin]\nAddr = 6060\n", "[admin] Addr"},
		{"a certificate without its key", "[server]\nCertFile = /etc/ssl/app.pem\n", "set together"},
		{"a certificate file that is not there", "[server]\nCertFile = /nonexistent/app.pem\nKeyFile = /nonexistent/app.key\n", "[server] CertFile"},
		{"an admin address on every interface", "[admin]\nAddr = :6060\n", "not a loopback address"},
		{"an admin address on a LAN", "[admin]\nAddr = 192.168.1.10:6060\n", "AllowRemote"},
		{"an admin address named by a host name", "[admin]\nAddr = admin.internal:6060\n", "AllowRemote"},
		{"a negative body rate", "[server]\nBodyMinRate = -1\n", "BodyMinRate"},
		{"a zero body grace", "[server]\nBodyGrace = 0s\n", "BodyGrace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(writeFile(t, tc.ini), noEnv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestTheDefaultsAreReadyForProduction(t *testing.T) {
	s, err := load(writeFile(t, "[app]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	// Debug mode is opt-in: a deploy whose file leaves RunMode out runs in release mode.
	if s.App.RunMode != "release" {
		t.Errorf("RunMode = %q, want release", s.App.RunMode)
	}
	if s.Server.ReadHeaderTimeout != 5*time.Second || s.Server.IdleTimeout <= 0 || s.Server.IdleTimeout > 5*time.Minute {
		t.Errorf("ReadHeaderTimeout = %s, IdleTimeout = %s; want 5s and a few minutes at most", s.Server.ReadHeaderTimeout, s.Server.IdleTimeout)
	}
	if p := s.Server.Proxies(); p != nil {
		t.Errorf("TrustedProxies = %q, want none trusted", p)
	}
	if s.Metrics.Public || s.Admin.AllowRemote {
		t.Errorf("[metrics] Public = %t, [admin] AllowRemote = %t; want both false", s.Metrics.Public, s.Admin.AllowRemote)
	}
	if s.Server.BodyMinRate != DefaultBodyMinRate || s.Server.BodyGrace != 5*time.Second || s.Server.MaxConns != 0 {
		t.Errorf("BodyMinRate = %d, BodyGrace = %s, MaxConns = %d; want %d, 5s and 0 (automatic)", s.Server.BodyMinRate, s.Server.BodyGrace, s.Server.MaxConns, DefaultBodyMinRate)
	}
}

func TestALoopbackAdminAddressOrAnAllowedRemoteOneLoads(t *testing.T) {
	for _, ini := range []string{
		"[admin]\nAddr = 127.0.0.1:6060\n",
		"[admin]\nAddr = [::1]:6060\n",
		"[admin]\nAddr = localhost:6060\n",
		"[admin]\nAddr = 10.0.0.5:6060\nAllowRemote = true\n",
		"[admin]\nAddr = :6060\nAllowRemote = true\n",
	} {
		if _, err := load(writeFile(t, ini), noEnv); err != nil {
			t.Errorf("%q: %v, want it accepted", ini, err)
		}
	}
}

func TestTheConnectionCapLeavesRoomUnderTheOpenFileLimit(t *testing.T) {
	s, err := load(writeFile(t, "[app]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	reserve := reservedFiles + s.DatabaseFiles()
	for _, tc := range []struct {
		name      string
		maxConns  int
		openFiles uint64
		want      int
		wantErr   string
	}{
		{"automatic under ulimit -n 1024", 0, 1024, 1024 - reserve, ""},
		{"automatic under a large limit", 0, 1 << 20, 1<<20 - reserve, ""},
		{"automatic with the limit unknown: no cap", 0, 0, 0, ""},
		{"an explicit cap that fits", 900, 1024, 900, ""},
		{"an explicit cap with the limit unknown", 900, 0, 900, ""},
		{"an explicit cap above the limit", 1000, 1024, 0, "more than the open-file limit 1024"},
		{"a limit that leaves nothing", 0, uint64(reserve), 0, "leaves no room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Server.MaxConns = tc.maxConns
			got, err := s.ConnCap(tc.openFiles)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "MaxConns") {
					t.Fatalf("ConnCap = %d, %v; want an error saying %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ConnCap(%d) = %d, %v; want %d", tc.openFiles, got, err, tc.want)
			}
		})
	}
}

func TestHTTPAddrBindsTheListener(t *testing.T) {
	s, err := load(writeFile(t, "[server]\nHTTPAddr = 127.0.0.1\nHTTPPort = 9001\nTrustedProxies = 10.0.0.0/8, 127.0.0.1\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Server.Addr(); got != "127.0.0.1:9001" {
		t.Errorf("Addr = %q, want 127.0.0.1:9001", got)
	}
	if got := s.Server.Proxies(); len(got) != 2 || got[0] != "10.0.0.0/8" || got[1] != "127.0.0.1" {
		t.Errorf("Proxies = %q, want [10.0.0.0/8 127.0.0.1]", got)
	}
	s.Server.HTTPAddr = "::1"
	if got := s.Server.Addr(); got != "[::1]:9001" {
		t.Errorf("Addr = %q, want [::1]:9001", got)
	}
}

func TestLoadReportsAMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.ini"))
	if err == nil || !strings.Contains(err.Error(), "missing.ini") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}
