package models

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"myblog/pkg/setting"
)

func TestDSNCarriesEverySetting(t *testing.T) {
	cfg := setting.Default().Database
	cfg.Host, cfg.Port, cfg.User, cfg.Name = "db.internal", 3307, "app", "app_db"
	cfg.Password = `p@ss:w/rd "'\ ?&`
	cfg.TLS = "skip-verify"
	cfg.ConnectTimeout = 3 * time.Second
	cfg.Params = "interpolateParams=true&time_zone=%27%2B00%3A00%27"
	dsn, err := DSN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("the driver cannot parse %s: %v", dsn, err)
	}
	if mc.Net != "tcp" || mc.Addr != "db.internal:3307" || mc.User != "app" || mc.Passwd != string(cfg.Password) || mc.DBName != "app_db" {
		t.Errorf("parsed %s %s user %q password %q database %q; want every setting back", mc.Net, mc.Addr, mc.User, mc.Passwd, mc.DBName)
	}
	if !mc.ParseTime || mc.Loc != time.UTC || !mc.ClientFoundRows || mc.Timeout != 3*time.Second || mc.TLSConfig != "skip-verify" {
		t.Errorf("parseTime %v loc %v clientFoundRows %v timeout %s tls %q; want true, UTC, true, 3s, skip-verify", mc.ParseTime, mc.Loc, mc.ClientFoundRows, mc.Timeout, mc.TLSConfig)
	}
	if !mc.InterpolateParams || mc.Params["time_zone"] != "'+00:00'" {
		t.Errorf("interpolateParams %v, params %v; want Params applied", mc.InterpolateParams, mc.Params)
	}
}

func TestDSNReachesAUnixSocket(t *testing.T) {
	cfg := setting.Default().Database
	cfg.Host = "/run/mysqld/mysqld.sock"
	dsn, err := DSN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("the driver cannot parse %s: %v", dsn, err)
	}
	if mc.Net != "unix" || mc.Addr != "/run/mysqld/mysqld.sock" {
		t.Errorf("parsed %s %s, want unix /run/mysqld/mysqld.sock", mc.Net, mc.Addr)
	}
}

func TestDSNRejectsMalformedParams(t *testing.T) {
	cfg := setting.Default().Database
	cfg.Params = "a=%zz"
	if _, err := DSN(cfg); err == nil {
		t.Fatal("DSN accepted Params that are not a URL query")
	}
}

func TestDriverUnavailableKnowsMySQLErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"a broken connection", fmt.Errorf("query: %w", mysql.ErrInvalidConn), true},
		{"server shutdown (1053)", &mysql.MySQLError{Number: 1053}, true},
		{"too many connections (1040)", &mysql.MySQLError{Number: 1040}, true},
		{"a duplicate entry (1062)", &mysql.MySQLError{Number: 1062}, false},
		{"a missing table (1146)", &mysql.MySQLError{Number: 1146}, false},
		{"another error", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := driverUnavailable(tc.err); got != tc.want {
				t.Errorf("driverUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
