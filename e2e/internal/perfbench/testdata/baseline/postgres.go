package main

import (
	"errors"
	"os"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The pool of the generated project's conf/app.ini (MaxOpenConns, MaxIdleConns): with
// database/sql's default of 2 idle connections, 8 clients would make the baseline open and
// authenticate connections all the time, work the generated project does not do.
const (
	maxOpenConns = 20
	maxIdleConns = 10
)

// openDB opens the PostgreSQL database of BASE_DATABASE_DSN (host=... dbname=...) with
// gorm's postgres driver, the generated project's.
func openDB() (*gorm.DB, error) {
	dsn := os.Getenv("BASE_DATABASE_DSN")
	if dsn == "" {
		return nil, errors.New("BASE_DATABASE_DSN is not set")
	}
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(maxOpenConns)
	sqlDB.SetMaxIdleConns(maxIdleConns)
	return db, nil
}
