// Package db holds the project's SQL migrations, embedded in the binary so that it migrates
// its own database at start and with `myblog migrate`.
package db

import (
	"embed"
	"fmt"
	"io/fs"
)

// files embeds the migrations folder whole: it always has its README, so the pattern matches
// even before the first migration exists.
//
//go:embed migrations
var files embed.FS

// Migrations returns the migrations folder: goose reads its NNNNN_name.sql files.
func Migrations() (fs.FS, error) {
	sub, err := fs.Sub(files, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return sub, nil
}
