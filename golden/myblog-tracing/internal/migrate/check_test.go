package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"myblog/internal/dbtest"
	"myblog/internal/migrate"
	"myblog/models"
)

// Two versions of one model, as two builds would have them: the wider one has a field the
// narrower one lacks.
type (
	narrowNote struct {
		ID    uint
		Title string `gorm:"size:255;not null"`
	}
	wideNote struct {
		ID    uint
		Title string `gorm:"size:255;not null"`
		Body  string `gorm:"size:255;not null"`
	}
)

func (narrowNote) TableName() string { return "check_notes" }
func (wideNote) TableName() string   { return "check_notes" }

func TestTheMigratedTablesFitTheModels(t *testing.T) {
	if err := migrate.CheckModels(context.Background(), dbtest.Open(t), models.All()); err != nil {
		t.Fatal(err)
	}
}

func TestTablesThatDoNotFitTheModelsAreRefused(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	check := func(model any, want string) {
		t.Helper()
		err := migrate.CheckModels(ctx, db, []any{model})
		var mismatch *migrate.MismatchError
		if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("CheckModels(%T) = %v; want one line with %q", model, err, want)
		}
	}
	check(&narrowNote{}, "table check_notes of models.narrowNote is missing")

	// The case: a table made by a migration of another build, with a NOT NULL
	// column this build's model does not fill: every insert would fail.
	if err := db.AutoMigrate(&wideNote{}); err != nil {
		t.Fatal(err)
	}
	check(&narrowNote{}, "table check_notes has a NOT NULL column body that models.narrowNote does not fill")
	if err := migrate.CheckModels(ctx, db, []any{&wideNote{}}); err != nil {
		t.Errorf("CheckModels of the model the table was made for: %v", err)
	}
	if err := db.Migrator().DropTable(&wideNote{}); err != nil {
		t.Fatal(err)
	}

	// A model with a column the table lacks.
	if err := db.AutoMigrate(&narrowNote{}); err != nil {
		t.Fatal(err)
	}
	check(&wideNote{}, "table check_notes has no column body for models.wideNote")
}
