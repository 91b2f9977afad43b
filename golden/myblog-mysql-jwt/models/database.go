package models

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"

	"myblog/pkg/setting"
)

// newDialector returns the MySQL/MariaDB driver for cfg. gorm's MySQL driver asks the server
// for its version when it opens, so the connect timeout applies there too.
func newDialector(cfg setting.Database) (gorm.Dialector, error) {
	if cfg.Type != "mysql" {
		return nil, fmt.Errorf("type %q is not supported", cfg.Type)
	}
	dsn, err := DSN(cfg)
	if err != nil {
		return nil, err
	}
	return gormmysql.New(gormmysql.Config{DSN: dsn}), nil
}

// DSN is the go-sql-driver/mysql data source name for cfg. Besides cfg's keys it sets:
//   - parseTime and loc=UTC: DATETIME columns scan into time.Time, stored and read in UTC;
//   - clientFoundRows: an UPDATE reports the rows it matched, not only those it changed, so
//     that a PUT that changes nothing is not mistaken for a missing row.
//
// A Host starting with / is the path of a Unix socket.
func DSN(cfg setting.Database) (string, error) {
	c := mysql.NewConfig()
	c.User = cfg.User
	c.Passwd = string(cfg.Password)
	c.Net, c.Addr = "tcp", cfg.Addr()
	if strings.HasPrefix(cfg.Host, "/") {
		c.Net = "unix"
	}
	c.DBName = cfg.Name
	c.ParseTime = true
	c.Loc = time.UTC
	c.ClientFoundRows = true
	c.Timeout = cfg.ConnectTimeout
	c.TLSConfig = cfg.TLS
	base := c.FormatDSN()
	query, err := url.ParseQuery(cfg.Params)
	if err != nil {
		return "", fmt.Errorf("[database] Params %q: %w", cfg.Params, err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + query.Encode()
	if _, err := mysql.ParseDSN(dsn); err != nil {
		return "", fmt.Errorf("[database] settings: %w", err)
	}
	return dsn, nil
}

// MySQL's and MariaDB's server errors that mean "try again later".
const (
	errTooManyConnections = 1040
	errServerShutdown     = 1053
	errConnectionKilled   = 1927 // MariaDB: the server killed the connection
)

// driverUnavailable reports the driver's broken connections and the server's errors that
// mean it cannot take the query now.
func driverUnavailable(err error) bool {
	if errors.Is(err, mysql.ErrInvalidConn) {
		return true
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case errTooManyConnections, errServerShutdown, errConnectionKilled:
			return true
		}
	}
	return false
}
