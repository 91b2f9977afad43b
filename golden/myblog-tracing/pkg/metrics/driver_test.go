package metrics

import (
	"database/sql/driver"
	"errors"
)

// nopDriver is a database/sql driver that never connects.
type nopDriver struct{}

func (nopDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("nopDriver does not connect")
}
