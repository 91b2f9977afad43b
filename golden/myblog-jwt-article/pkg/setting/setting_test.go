package setting

import (
	"encoding/json"
	"fmt"
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

const testSecret = "0123456789abcdef0123456789abcdef"

// noEnv is an environment that sets nothing but the [auth] Secret, which has no default.
func noEnv(k string) (string, bool) {
	if k == EnvPrefix+"_AUTH_SECRET" {
		return testSecret, true
	}
	return "", false
}

func TestLoadReadsTheShippedFile(t *testing.T) {
	s, err := load(filepath.Join("..", "..", "conf", "app.ini"), noEnv)
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
	want.Auth.Secret = testSecret
	if *s != want {
		t.Errorf("got %+v, want %+v", *s, want)
	}
}

func TestEnvironmentOverridesTheFile(t *testing.T) {
	env := map[string]string{
		EnvPrefix + "_SERVER_HTTPPORT":        "9100",
		EnvPrefix + "_SERVER_SHUTDOWNTIMEOUT": "5s",
		EnvPrefix + "_DATABASE_DSN":           "/tmp/other.db",
		EnvPrefix + "_AUTH_SECRET":            testSecret,
		EnvPrefix + "_AUTH_TOKENTTL":          "15m",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	s, err := load(writeFile(t, "[server]\nHTTPPort = 9000\n"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if s.Server.HTTPPort != 9100 || s.Server.ShutdownTimeout != 5*time.Second || s.Database.DSN != "/tmp/other.db" {
		t.Errorf("overrides not applied: %+v", *s)
	}
	if s.Auth.Secret != testSecret || s.Auth.TokenTTL != 15*time.Minute {
		t.Errorf("[auth] overrides not applied: %+v", s.Auth)
	}
}

func TestLoadRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct{ name, ini, want string }{
		{"a port out of range", "[server]\nHTTPPort = 70000\n", "HTTPPort"},
		{"a zero shutdown timeout", "[server]\nShutdownTimeout = 0s\n", "ShutdownTimeout"},
		{"a duration that does not parse", "[server]\nReadTimeout = soon\n", "ReadTimeout"},
		{"an unknown run mode", "[app]\nRunMode = fast\n", "RunMode"},
		{"an unsupported database", "[database]\nType = oracle\n", "oracle"},
		{"a zero token lifetime", "[auth]\nTokenTTL = 0s\n", "TokenTTL"},
		{"a short seed password", "[auth]\nSeedPassword = 1234\n", "SeedPassword"},
		{"a seed password without a user", "[auth]\nSeedUser =\nSeedPassword = long enough\n", "SeedUser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(writeFile(t, tc.ini), noEnv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestLoadReportsAMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.ini"))
	if err == nil || !strings.Contains(err.Error(), "missing.ini") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestLoadRejectsAMissingOrShortAuthSecret(t *testing.T) {
	for _, secret := range []string{"", "too short"} {
		lookup := func(k string) (string, bool) {
			if k == EnvPrefix+"_AUTH_SECRET" {
				return secret, true
			}
			return "", false
		}
		_, err := load(writeFile(t, "[app]\nName = myblog\n"), lookup)
		if err == nil || !strings.Contains(err.Error(), "at least 32 characters") || !strings.Contains(err.Error(), EnvPrefix+"_AUTH_SECRET") {
			t.Errorf("secret %q: err = %v, want one asking for %s_AUTH_SECRET of at least 32 characters", secret, err, EnvPrefix)
		}
	}
}

func TestSecretsDoNotShowInPrintsOrJSON(t *testing.T) {
	s := Default()
	s.Auth.Secret = "hunter2-signing-key-hunter2-signing-key"
	s.Auth.SeedPassword = "hunter2-seed"
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), string(b)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("a secret shows in %s", out)
		}
	}
}
