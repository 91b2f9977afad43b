package models

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"myblog/pkg/setting"
)

func TestDSNCarriesEverySetting(t *testing.T) {
	cfg := setting.Default().Database
	cfg.Host, cfg.Port, cfg.User, cfg.Name = "db.internal", 6432, "app user", "app"
	cfg.Password = `p@ss:w/rd "'\ ?&`
	cfg.SSLMode = "verify-full"
	cfg.ConnectTimeout = 1500 * time.Millisecond
	cfg.Params = "TimeZone=UTC&application_name=reports"
	dsn, err := DSN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgx cannot parse %s: %v", dsn, err)
	}
	if pc.Host != "db.internal" || pc.Port != 6432 || pc.User != "app user" || pc.Database != "app" || pc.Password != string(cfg.Password) {
		t.Errorf("parsed %s:%d user %q database %q password %q; want every setting back", pc.Host, pc.Port, pc.User, pc.Database, pc.Password)
	}
	if pc.ConnectTimeout != 2*time.Second {
		t.Errorf("connect timeout %s, want 1.5s rounded up to 2s", pc.ConnectTimeout)
	}
	if pc.RuntimeParams["TimeZone"] != "UTC" || pc.RuntimeParams["application_name"] != "reports" {
		t.Errorf("runtime params %v, want Params' TimeZone and application_name", pc.RuntimeParams)
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Query().Get("sslmode") != "verify-full" {
		t.Errorf("DSN %s does not carry sslmode=verify-full (%v)", dsn, err)
	}
}

func TestDSNReachesAUnixSocket(t *testing.T) {
	cfg := setting.Default().Database
	cfg.Host = "/var/run/postgresql"
	dsn, err := DSN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgx cannot parse %s: %v", dsn, err)
	}
	if pc.Host != "/var/run/postgresql" || pc.Port != 5432 {
		t.Errorf("parsed host %q port %d, want the socket folder and port 5432", pc.Host, pc.Port)
	}
}

func TestDSNRejectsMalformedParams(t *testing.T) {
	cfg := setting.Default().Database
	cfg.Params = "a=%zz"
	if _, err := DSN(cfg); err == nil {
		t.Fatal("DSN accepted Params that are not a URL query")
	}
}

func TestDriverUnavailableKnowsPostgresCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown (57P01)", &pgconn.PgError{Code: "57P01"}, true},
		{"the server is starting (57P03)", fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P03"}), true},
		{"a connection failure (08006)", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections (53300)", &pgconn.PgError{Code: "53300"}, true},
		{"a closed connection", fmt.Errorf("exec: %w", pgconn.ErrConnClosed), true},
		{"a unique violation (23505)", &pgconn.PgError{Code: "23505"}, false},
		{"an undefined table (42P01)", &pgconn.PgError{Code: "42P01"}, false},
		{"another error", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := driverUnavailable(tc.err); got != tc.want {
				t.Errorf("driverUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
