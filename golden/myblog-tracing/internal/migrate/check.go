package migrate

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// MismatchError says that the database's tables do not fit the models: a model's table or
// column is missing, or the table has a NOT NULL column without a default that no model
// field fills, so that every insert would fail. It happens when the database ran a migration
// this build does not have under the same version: a resource or field destroyed and added
// again without rolling the database back first.
type MismatchError struct {
	Problems []string
}

func (e *MismatchError) Error() string {
	return "the database does not match the models: " + strings.Join(e.Problems, "; ") +
		": it ran migrations this build does not have (a resource or field destroyed without rolling back first?); roll the database back with the build that made it, or write a migration that fixes the tables"
}

// CheckModels compares the tables with the models: every model's table and columns must
// exist, and every NOT NULL column without a default must be a model's. Columns the models
// do not know are fine otherwise: during a restart the previous generation's code runs on
// the new schema, and the other way round (see the README's expand/contract).
func CheckModels(ctx context.Context, gdb *gorm.DB, models []any) error {
	// Some drivers log their catalogue queries at the debug level whatever the logger's.
	db := gdb.WithContext(ctx).Session(&gorm.Session{Logger: logger.Discard})
	m := db.Migrator()
	var problems []string
	for _, model := range models {
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(model); err != nil {
			return fmt.Errorf("check the models: %w", err)
		}
		table, name := stmt.Schema.Table, stmt.Schema.Name
		if !m.HasTable(model) {
			problems = append(problems, fmt.Sprintf("table %s of models.%s is missing", table, name))
			continue
		}
		columns, err := m.ColumnTypes(model)
		if err != nil {
			return fmt.Errorf("check the models: columns of %s: %w", table, err)
		}
		have := map[string]bool{}
		for _, c := range columns {
			have[c.Name()] = true
			if _, ok := stmt.Schema.FieldsByDBName[c.Name()]; ok {
				continue
			}
			null, known := c.Nullable()
			_, hasDefault := c.DefaultValue()
			if known && !null && !hasDefault {
				problems = append(problems, fmt.Sprintf("table %s has a NOT NULL column %s that models.%s does not fill", table, c.Name(), name))
			}
		}
		for _, col := range stmt.Schema.DBNames {
			if !have[col] {
				problems = append(problems, fmt.Sprintf("table %s has no column %s for models.%s", table, col, name))
			}
		}
	}
	if len(problems) > 0 {
		return &MismatchError{Problems: problems}
	}
	return nil
}
