package generator

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gingen/gingen/templates"
)

// otherSettings gives every key of a generated conf/app.ini another valid value. A key
// missing here fails TestEditedSettingsPassTheProjectsTests: give it one.
var otherSettings = map[string]string{
	"Name": "renamed", "RunMode": "debug", "LogLevel": "debug", "AccessLog": "false", "PIDFile": "renamed.pid",
	"HTTPPort": "21005", "ReadTimeout": "30s", "WriteTimeout": "45s", "ShutdownTimeout": "12s", "ReadyTimeout": "20s",
	"HTTPAddr": "127.0.0.1", "ReadHeaderTimeout": "9s", "IdleTimeout": "90s", "MaxConns": "500",
	"TrustedProxies": "10.0.0.0/8, 127.0.0.1", "DrainDelay": "3s", "BodyMinRate": "2048", "BodyGrace": "3s",
	"DSN": "data/elsewhere.db", "SlowQuery": "1s", "SingleWriter": "false",
	"Host": "db.internal", "Port": "15433", "User": "someone", "Password": "from-the-file", "Name#database": "otherdb",
	"SSLMode": "require", "TLS": "true", "Params": "application_name=mine", "MaxOpenConns": "30", "MaxIdleConns": "5",
	"ConnMaxLifetime": "10m", "ConnMaxIdleTime": "1m", "ConnectTimeout": "2s", "ConnectRetries": "3",
	"Addr": "127.0.0.1:6061", "AllowRemote": "true", "Public": "true",
	"AllowOrigins": "https://app.example.com", "AllowMethods": "GET,POST", "AllowHeaders": "Content-Type",
	"AllowCredentials": "true", "MaxAge": "1h",
	"Secret": "kV3x9Qm2T7pLwZ4bN8cR1yH6dF0sJ5gA+uE/oI3tY7w=", "TokenTTL": "1h", "SeedUser": "root",
	"SeedPassword": "a long enough password", "LoginWindow": "5m", "LoginAttemptsPerClient": "20", "LoginFailuresPerUser": "3",
}

var iniLine = regexp.MustCompile(`^(\w+) *= *(.*)$`)
var iniSection = regexp.MustCompile(`^\[(\w+)\]$`)

// TestEditedSettingsPassTheProjectsTests is issue 19's "a user's configuration is theirs":
// every value of a generated conf/app.ini changed to another valid one, the project's
// pkg/setting tests still pass.
func TestEditedSettingsPassTheProjectsTests(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("tests generated projects")
	}
	for _, opts := range []Options{
		{Name: "myblog", Port: DefaultPort, DB: DBSQLite},
		{Name: "myblog", Port: DefaultPort, DB: DBPostgres, Auth: AuthJWT},
		{Name: "myblog", Port: DefaultPort, DB: DBMySQL},
	} {
		t.Run(strings.TrimSuffix(opts.DB+"-"+opts.Auth, "-"), func(t *testing.T) {
			t.Parallel() // each project in a folder of its own; most of the time is go test
			opts.Normalize()
			files, err := PlanProject(opts, templates.FS())
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(t.TempDir(), "myblog")
			if _, err := WriteProject(root, files, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			// CertFile and KeyFile must name files that can be read (each generation loads
			// them when it starts; the settings check that they are there).
			values := maps.Clone(otherSettings)
			for key, name := range map[string]string{"CertFile": "cert.pem", "KeyFile": "key.pem"} {
				values[key] = filepath.Join(root, name)
				if err := os.WriteFile(values[key], []byte("PEM data\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ini := filepath.Join(root, "conf", "app.ini")
			src, err := os.ReadFile(ini)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(src), "\n")
			section := ""
			for i, line := range lines {
				if m := iniSection.FindStringSubmatch(line); m != nil {
					section = m[1]
					continue
				}
				m := iniLine.FindStringSubmatch(line)
				if m == nil || m[1] == "Type" { // the project's database: its only valid value
					continue
				}
				v, ok := values[m[1]+"#"+section]
				if !ok {
					v, ok = values[m[1]]
				}
				if !ok {
					t.Fatalf("conf/app.ini has [%s] %s, which otherSettings gives no other value", section, m[1])
				}
				if v == m[2] {
					t.Fatalf("otherSettings gives [%s] %s its shipped value %q", section, m[1], v)
				}
				lines[i] = m[1] + " = " + v
			}
			if err := os.WriteFile(ini, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			goIn(t, root, "test", "-count=1", "./pkg/setting")
		})
	}
}
