package models

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"myblog/pkg/setting"
)

// newDialector returns the PostgreSQL driver (pgx) for cfg. It does not connect.
func newDialector(cfg setting.Database) (gorm.Dialector, error) {
	if cfg.Type != "postgres" {
		return nil, fmt.Errorf("type %q is not supported", cfg.Type)
	}
	dsn, err := DSN(cfg)
	if err != nil {
		return nil, err
	}
	connConfig, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("[database] settings: %w", err)
	}
	return postgres.New(postgres.Config{Conn: stdlib.OpenDB(*connConfig, stdlib.OptionAfterConnect(scanTimesInUTC))}), nil
}

// scanTimesInUTC makes a connection return timestamptz values in UTC instead of the
// process's local time zone, so that the API's times read the same whatever TZ it runs in.
func scanTimesInUTC(_ context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{
		Name:  "timestamptz",
		OID:   pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
	})
	return nil
}

// DSN is the connection URL pgx gets for cfg: postgres://user:password@host:port/name with
// sslmode, connect_timeout, application_name and cfg.Params as query parameters. A Host
// starting with / is the folder of a Unix socket.
func DSN(cfg setting.Database) (string, error) {
	query, err := url.ParseQuery(cfg.Params)
	if err != nil {
		return "", fmt.Errorf("[database] Params %q: %w", cfg.Params, err)
	}
	query.Set("sslmode", cfg.SSLMode)
	// libpq's connect_timeout is in whole seconds; round up so that 500ms is not "no timeout".
	query.Set("connect_timeout", strconv.Itoa(int((cfg.ConnectTimeout+time.Second-1)/time.Second)))
	if !query.Has("application_name") {
		query.Set("application_name", "myblog")
	}
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(cfg.User, string(cfg.Password)),
		Host:   net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		Path:   "/" + cfg.Name,
	}
	if strings.HasPrefix(cfg.Host, "/") {
		u.Host = ""
		query.Set("host", cfg.Host)
		query.Set("port", strconv.Itoa(cfg.Port))
	}
	u.RawQuery = query.Encode()
	return u.String(), nil
}

// driverUnavailable reports PostgreSQL's errors that mean the server cannot take the query
// now: a failed connection, an operator's or a crash's shutdown (class 57P), a server still
// starting, too many connections (53300), or a connection exception (class 08).
func driverUnavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || errors.Is(err, pgconn.ErrConnClosed) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300"
	}
	return false
}
