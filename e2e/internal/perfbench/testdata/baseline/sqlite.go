package main

import (
	"os"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// openDB opens data/baseline.db in the working folder, with the generated project's pragmas
// for busy waits and the WAL.
func openDB() (*gorm.DB, error) {
	if err := os.MkdirAll("data", 0o755); err != nil {
		return nil, err
	}
	return gorm.Open(sqlite.Open("data/baseline.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"),
		&gorm.Config{Logger: logger.Discard})
}
