package models

import (
	"errors"
	"fmt"
	"testing"
)

// codedError is an error with an SQLite result code, as the driver returns them.
type codedError int

func (e codedError) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e codedError) Code() int     { return int(e) }

func TestDriverUnavailableMeansALockHeldTooLong(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"SQLITE_BUSY", codedError(5), true},
		{"SQLITE_BUSY_SNAPSHOT, an extended code", codedError(5 | 2<<8), true},
		{"SQLITE_LOCKED, wrapped", fmt.Errorf("update: %w", codedError(6)), true},
		{"SQLITE_CONSTRAINT", codedError(19), false},
		{"an error without a code", errors.New("no such table"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := driverUnavailable(tc.err); got != tc.want {
				t.Errorf("driverUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
